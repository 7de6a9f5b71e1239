"""Real small file systems for fault tests: a tmpfs of a chosen size (a disk that fills up) or one
remounted read-only, in a private mount namespace (``unshare``), so nothing outside the test sees it.

Runs as root, or as a user where unprivileged user namespaces are allowed; otherwise the tests
that need it are skipped.
"""

from __future__ import annotations

import functools
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


@functools.cache
def _unshare() -> tuple[str, ...] | None:
    exe = shutil.which("unshare")
    if not exe:
        return None
    for prefix in ((exe, "--mount"), (exe, "--mount", "--map-root-user")):
        probe = subprocess.run([*prefix, "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=64k tmpfs \"$d\" "
                                "&& umount \"$d\" && rmdir \"$d\""], capture_output=True, timeout=30)
        if probe.returncode == 0:
            return prefix
    return None


def needs_small_fs() -> tuple[str, ...]:
    prefix = _unshare()
    if prefix is None:
        pytest.skip("cannot mount a tmpfs in a private mount namespace here (unshare)")
    return prefix


def shell_command(mount_point: Path, size: str, then: str, *, read_only: bool = False, setup: str = "") -> list[str]:
    """``unshare`` + mount a tmpfs of ``size`` at ``mount_point``, run ``setup``, maybe remount it read-only, run ``then``."""
    steps = [f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(mount_point))}"]
    if setup:
        steps.append(setup)
    if read_only:
        steps.append(f"mount -o remount,ro {shlex.quote(str(mount_point))}")
    steps.append(f"exec {then}")
    return [*needs_small_fs(), "sh", "-c", " && ".join(steps)]


def python_command(code: str) -> str:
    return f"{shlex.quote(sys.executable)} -c {shlex.quote(code)}"


def env() -> dict[str, str]:
    return os.environ | {"PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
                         "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}


def run_python(mount_point: Path, size: str, code: str, **kwargs) -> subprocess.CompletedProcess:
    mount_point.mkdir(parents=True, exist_ok=True)
    return subprocess.run(shell_command(mount_point, size, python_command(code), **kwargs), cwd=REPO, env=env(),
                          capture_output=True, text=True, timeout=300)
