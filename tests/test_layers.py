"""Layers: grounding imports neither Gradio nor torch; the workbench core never imports Gradio."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import pytest

import grounding
import workbench


def _modules(package) -> list[str]:
    return [m.name for m in pkgutil.walk_packages(package.__path__, package.__name__ + ".")]


def _imported_after(modules: list[str]) -> set[str]:
    code = ("import sys, importlib\n"
            f"for name in {modules!r}: importlib.import_module(name)\n"
            "print(' '.join(sorted(m for m in ('gradio', 'torch') if m in sys.modules)))")
    return set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())


def test_grounding_imports_neither_gradio_nor_torch():
    assert _imported_after(_modules(grounding)) == set()


@pytest.mark.parametrize("module", ["workbench"])
def test_workbench_core_never_imports_gradio(module):
    modules = list(_modules(workbench))
    assert "gradio" not in _imported_after(modules)
