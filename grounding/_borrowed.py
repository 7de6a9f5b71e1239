"""Load a pure function from an installed package's source without importing that package.

transformers' ``smart_resize`` is the single source of truth for Qwen-VL geometry, but
``import transformers.models.qwen2_vl.image_processing_qwen2_vl`` pulls in torch and
torchvision (about 5 s and a few GB of memory), and qwen-vl-utils imports torch at its top.
``grounding`` must stay torch-free, so we read the function's own source from the installed
file, keep only that function (plus the module-level helpers and constants it names), and
compile it with the standard library's ``math``. The code that runs is the installed
package's own code, so an upgrade that changes the rule changes ours too; the tests check
that the loaded function equals the imported one.

>>> resize = load_function("transformers", "models/qwen2_vl/image_processing_qwen2_vl.py", "smart_resize")
>>> resize(480, 640, factor=28, min_pixels=3136, max_pixels=12845056)
(476, 644)
"""

from __future__ import annotations

import ast
import importlib.util
import math
from collections.abc import Callable
from functools import cache
from pathlib import Path

__all__ = ["BorrowError", "load_function"]


class BorrowError(RuntimeError):
    """The package is not installed, or its source no longer has the function we rely on."""


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise BorrowError(f"{package} is not installed; install it (see requirements.txt)")
    return Path(next(iter(spec.submodule_search_locations)))


def _strip_annotations(node: ast.FunctionDef) -> ast.FunctionDef:
    for arg in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]:
        arg.annotation = None
    if node.args.vararg:
        node.args.vararg.annotation = None
    if node.args.kwarg:
        node.args.kwarg.annotation = None
    node.returns = None
    node.decorator_list = []
    return node


@cache
def load_function(package: str, relative_path: str, name: str) -> Callable[..., object]:
    """Return ``name`` from ``package/relative_path``, compiled from the installed source.

    Module-level functions and simple constants that the function refers to are loaded
    with it; anything else it names must be in :mod:`math` or builtins.
    """
    path = _package_dir(package) / relative_path
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise BorrowError(f"cannot read {name} from {package}: {exc}") from exc

    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    constants = {
        target.id: node
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.BinOp, ast.UnaryOp))
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    if name not in functions:
        raise BorrowError(f"{package}/{relative_path} has no function {name!r} any more")

    wanted: list[ast.stmt] = []
    seen: set[str] = set()
    pending = [name]
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        node = functions.get(current) or constants.get(current)
        if node is None:
            continue
        wanted.append(node)
        pending.extend(n.id for n in ast.walk(node) if isinstance(n, ast.Name))

    body: list[ast.stmt] = []
    for found in reversed(wanted):  # constants and helpers before their users
        body.append(_strip_annotations(found) if isinstance(found, ast.FunctionDef) else found)
    module = ast.Module(body=sorted(body, key=lambda n: not isinstance(n, ast.Assign)), type_ignores=[])
    namespace: dict[str, object] = {"math": math, "__name__": f"grounding._borrowed.{package}"}
    exec(compile(module, str(path), "exec"), namespace)
    function = namespace[name]
    assert callable(function)
    return function
