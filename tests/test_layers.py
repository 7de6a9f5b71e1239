"""The layer map, checked: ``ui`` → ``workbench`` → ``grounding``, never back, no cycles inside ``workbench``,
and the process environment read in one module (:mod:`workbench.environment`).

Two views of the same rule. Statically, every ``import`` in the source (late imports inside functions
included) is read with :mod:`ast`: ``grounding`` names nothing of ``workbench``, ``ui``, Gradio, torch or
SQLite; ``workbench`` names nothing of ``ui`` or Gradio; the packages of ``workbench`` (``backends``,
``store``, ``batch``...) and its modules form no cycle. At run time, importing every module of
``grounding`` loads neither Gradio nor torch, and importing every module of ``workbench`` loads no Gradio.
"""

from __future__ import annotations

import ast
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

import grounding
import workbench

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("grounding", "workbench", "ui")


def _module_files() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _module_files()


def _imports(name: str, path: Path) -> set[str]:
    """Every module ``name`` imports (absolute names; ``from pkg import sub`` counts as ``pkg.sub``)."""
    out: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            submodules = [f"{module}.{alias.name}" for alias in node.names if f"{module}.{alias.name}" in MODULES]
            out.update(submodules)
            if len(submodules) < len(node.names):
                out.add(module)
    return out


IMPORTS = {name: _imports(name, path) for name, path in MODULES.items()}


def _offenders(prefix: str, forbidden: Iterable[str]) -> list[str]:
    roots = tuple(forbidden)
    return sorted(f"{name} imports {target}" for name, targets in IMPORTS.items()
                  if name == prefix or name.startswith(prefix + ".")
                  for target in targets if target.split(".")[0] in roots)


def test_grounding_is_pure():
    assert _offenders("grounding", ("workbench", "ui", "gradio", "torch", "torchvision", "transformers",
                                    "sqlite3")) == []


def test_workbench_never_imports_the_ui_or_gradio():
    assert _offenders("workbench", ("ui", "gradio")) == []


def _unit(module: str, depth: int) -> str:
    return ".".join(module.split(".")[:depth])


def _cycles(depth: int) -> list[list[str]]:
    """Strongly connected groups of more than one unit among ``workbench``'s modules cut to ``depth`` parts."""
    edges: dict[str, set[str]] = {}
    for name, targets in IMPORTS.items():
        if not name.startswith("workbench."):
            continue
        for target in targets:
            while target not in MODULES and "." in target:
                target = target.rpartition(".")[0]
            if target.startswith("workbench.") and _unit(name, depth) != _unit(target, depth):
                edges.setdefault(_unit(name, depth), set()).add(_unit(target, depth))
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


@pytest.mark.parametrize("depth", [2, 99], ids=["packages", "modules"])
def test_no_cycles_inside_workbench(depth):
    assert _cycles(depth) == []


def test_the_cycle_check_finds_a_cycle(monkeypatch):
    """The check can fail: a made-up import from the store back to the batch package is a cycle."""
    monkeypatch.setitem(IMPORTS, "workbench.store.db", IMPORTS["workbench.store.db"] | {"workbench.batch.runner"})
    assert any("workbench.store" in group and "workbench.batch" in group for group in _cycles(2))


ENVIRONMENT_READERS = {
    "workbench.environment": "the one home of the process environment",
    "grounding.fonts": "grounding stands alone (no workbench import): its one variable, WORKBENCH_FONT",
}


def _environment_uses(path: Path) -> list[int]:
    """Lines of ``path`` that touch the process environment (``os.environ``, ``os.getenv``, ``os.putenv``)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "os"
                and node.attr in ("environ", "getenv", "putenv", "unsetenv")) or (isinstance(node, ast.ImportFrom) and node.module == "os" and any(
                alias.name in ("environ", "getenv", "putenv") for alias in node.names)):
            lines.append(node.lineno)
    return lines


def test_the_environment_is_read_in_one_module():
    """Entry points read the environment through :mod:`workbench.environment` and pass values down; nothing
    else reads (or writes: ``serve --public`` used to) ``os.environ``."""
    found = {name: _environment_uses(path) for name, path in MODULES.items() if name not in ENVIRONMENT_READERS}
    found["app"] = _environment_uses(REPO / "app.py")
    assert {name: lines for name, lines in found.items() if lines} == {}
    assert _environment_uses(MODULES["workbench.environment"])  # the check sees a use where there is one


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def _imported_after(modules: list[str]) -> set[str]:
    code = ("import sys, importlib\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(' '.join(sorted(m for m in ('gradio', 'torch') if m in sys.modules)))")
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                              cwd=REPO).stdout.split())


def test_importing_grounding_loads_neither_gradio_nor_torch():
    assert _imported_after(_modules(grounding)) == set()


def test_importing_the_workbench_core_loads_no_gradio():
    assert "gradio" not in _imported_after(_modules(workbench))


def test_every_type_ignore_names_its_code_and_says_why():
    """``# type: ignore[code]  # why``: an ignore is a decision, written down where it is taken."""
    bare = []
    for name, path in MODULES.items():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if "type: ignore" in line and not re.search(r"# type: ignore\[[\w\-, ]+\]  # \S", line):
                bare.append(f"{name}:{number}")
    assert bare == []

