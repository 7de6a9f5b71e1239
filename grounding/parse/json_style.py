"""JSON (and JSON-like) grounding output: fenced or bare, lists or single objects, broken or cut off.

A small bracket scanner finds each top-level ``[...]``/``{...}`` value in the text (skipping
strings), so prose, fences and several values in one output are fine. Each value is read with
``json.loads``, then as a Python literal (single quotes, trailing commas, ``True``), then with
json-repair. A value the output stops inside keeps only its complete objects.

Objects whose keys repeat (two boxes written into one object) are split at the repeated key.

>>> found = json_detections('Sure!\\n```json\\n[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6')
>>> [(d.label, d.coords) for d in found.detections], found.warnings
([('a', (1.0, 2.0, 3.0, 4.0))], ['the output stops inside a JSON value: kept 1 complete object(s)'])
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import json_repair

from grounding.parse.objects import LABEL_KEYS, has_coordinates, object_detections
from grounding.parse.raw import Found, RawDetection, as_number

__all__ = ["Chunk", "find_chunks", "load_chunk", "json_detections"]

_OPEN = re.compile(r"[\[{]")
_STRUCTURE = re.compile(r"[\"'\[\]{}\\]")
_MAX_DEPTH = 64
_MAX_RESCANS = 16


@dataclass
class Chunk:
    """One top-level value: ``text[start:end]``; ``cut`` ends its last complete object if truncated."""

    start: int
    end: int
    truncated: bool = False
    malformed: bool = False
    cut: int | None = None
    opener: str = "["


class Split(list):
    """Objects that the model wrote as one object with repeated keys."""


def _scan(text: str, start: int) -> Chunk:
    stack: list[str] = []
    quote: str | None = None
    escaped_until = -1
    malformed = False
    saw_object = False
    object_closers: dict[int, int] = {}  # depth after closing -> last end position
    list_closers: dict[int, int] = {}
    for match in _STRUCTURE.finditer(text, start):
        position = match.start()
        if position < escaped_until:
            continue
        char = match.group()
        if quote is not None:
            if char == "\\":
                escaped_until = position + 2
            elif char == quote:
                quote = None
            continue
        if char in "\"'":
            if char == "'" and 0 < position < len(text) - 1 and text[position - 1].isalnum() and text[position + 1].isalnum():
                continue  # an apostrophe in unquoted text ("it's"), not a string
            quote = char
        elif char in "[{":
            stack.append(char)
            saw_object = saw_object or char == "{"
        elif char in "]}":
            opener = "[" if char == "]" else "{"
            if opener not in stack:
                malformed = True
                continue
            while stack[-1] != opener:
                stack.pop()
                malformed = True
            stack.pop()
            if not stack:
                return Chunk(start, position + 1, malformed=malformed, opener=text[start])
            (object_closers if char == "}" else list_closers)[len(stack)] = position + 1
        elif char == "\\":
            continue
    chunk = Chunk(start, len(text), truncated=True, malformed=malformed, opener=text[start])
    if object_closers:
        chunk.cut = object_closers[min(object_closers)]
    elif list_closers and not saw_object:  # a bare list of lists: [[x1, y1, x2, y2], [x1, ...
        chunk.cut = list_closers[min(list_closers)]
    return chunk


def find_chunks(text: str) -> list[Chunk]:
    """Top-level bracketed values in ``text``, in order (the last one may be truncated)."""
    chunks: list[Chunk] = []
    position = 0
    while True:
        match = _OPEN.search(text, position)
        if match is None:
            return chunks
        chunk = _scan(text, match.start())
        chunks.append(chunk)
        if chunk.truncated:
            return chunks
        position = chunk.end


def _pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
    objects: list[dict[str, Any]] = [{}]
    for key, value in pairs:
        if key in objects[-1]:
            objects.append({})
        objects[-1][key] = value
    return objects[0] if len(objects) == 1 else Split(objects)


_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


def _literal(node: ast.AST) -> Any:
    """Python/JSON literal from an AST node, keeping repeated dict keys (unlike ``ast.literal_eval``)."""
    if isinstance(node, ast.Expression):
        return _literal(node.body)
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int, float, bool, type(None))):
        return node.value
    if isinstance(node, ast.Name) and node.id in _NAMES:
        return _NAMES[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _literal(node.operand)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item) for item in node.elts]
    if isinstance(node, ast.Dict) and all(key is not None for key in node.keys):
        return _pairs_hook([(str(_literal(k)), _literal(v)) for k, v in zip(node.keys, node.values)])
    raise ValueError(f"not a literal: {type(node).__name__}")


def load_chunk(source: str) -> tuple[Any, str | None]:
    """The value in ``source`` and how it was read (``None`` for plain JSON)."""
    try:
        return json.loads(source, object_pairs_hook=_pairs_hook), None
    except (ValueError, RecursionError):
        pass
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and friends: model text, not our code
            warnings.simplefilter("ignore", SyntaxWarning)
            tree = ast.parse(source.strip(), mode="eval")
        return _literal(tree), "python-literal"
    except (ValueError, SyntaxError, RecursionError, MemoryError, TypeError):
        pass
    try:
        return json_repair.loads(source), "repaired"
    except Exception:  # noqa: BLE001 - json-repair must never turn model text into an exception
        return None, "unreadable"


def _bare_boxes(value: Any) -> list[tuple[float, ...]]:
    """``[x1, y1, x2, y2]`` or a list of such, as VLM-R1-style answers write a box without a label."""
    if isinstance(value, list) and len(value) == 4 and all(as_number(v) is not None for v in value):
        return [tuple(as_number(v) for v in value)]  # type: ignore[misc]
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        boxes = [_bare_boxes(v) for v in value]
        if all(len(b) == 1 for b in boxes):
            return [b[0] for b in boxes]
    return []


def _walk(value: Any, offset: int, found: Found, depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        found.warnings.append("JSON nested too deeply: stopped reading")
        return
    if isinstance(value, Split):
        found.warnings.append(f"an object repeats its keys: read as {len(value)} objects")
        for item in value:
            _walk(item, offset, found, depth + 1)
    elif isinstance(value, (dict, Mapping)):
        if has_coordinates(value):
            found.extend(object_detections(value, offset=offset))
        elif any(key in value for key in LABEL_KEYS[:5]) and depth <= 1 and not any(
                isinstance(v, (Mapping, list)) for v in value.values()):
            found.warnings.append(f"an object without coordinates was skipped: {_short(value)}")
        for key, item in value.items():
            if isinstance(item, (dict, list, Mapping)):
                _walk(item, offset, found, depth + 1)
            elif key == "arguments" and isinstance(item, str) and item.lstrip()[:1] in ("{", "["):
                _walk(load_chunk(item)[0], offset, found, depth + 1)  # OpenAI-style tool call: arguments as a string
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list, Mapping)):
                _walk(item, offset, found, depth + 1)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_detections(text: str) -> Found:
    """Boxes and points in every JSON-like value of ``text``.

    A bare ``[x1, y1, x2, y2]`` (or a list of them) counts as a box without a label only when it
    is the whole answer, fences aside: VLM-R1 style ``<answer>[x1, y1, x2, y2]</answer>``.
    """
    found = Found()
    position, rescans = 0, 0
    while True:
        chunks = find_chunks(text[position:]) if position else find_chunks(text)
        for chunk in chunks:
            chunk.start += position
            chunk.end += position
            if chunk.cut is not None:
                chunk.cut += position
        retry = _read_chunks(text, chunks, found)
        if retry is None or rescans >= _MAX_RESCANS:
            return found
        position, rescans = retry, rescans + 1


_FENCE = re.compile(r"(?:```[\w-]*)?")


def _is_whole_answer(text: str, chunk: Chunk) -> bool:
    # strip() first: a regex with two \s* around the fence is quadratic on long blank stretches
    return bool(_FENCE.fullmatch(text[:chunk.start].strip()) and _FENCE.fullmatch(text[chunk.end:].strip()))


def _read_chunks(text: str, chunks: list[Chunk], found: Found) -> int | None:
    """Read each chunk into ``found``; a position to rescan from when a truncated chunk gave nothing."""
    for chunk in chunks:
        if chunk.truncated:
            if chunk.cut is None:
                if _looks_like_detections(text[chunk.start:]):
                    found.warnings.append("the output stops inside a JSON value before its first complete object")
                return chunk.start + 1 if _OPEN.search(text, chunk.start + 1) else None
            source = text[chunk.start:chunk.cut]
        else:
            source = text[chunk.start:chunk.end]
        value, how = load_chunk(source)
        part = Found()
        bare = _bare_boxes(value) if not chunk.truncated and _is_whole_answer(text, chunk) else []
        if bare:
            part.detections.extend(RawDetection("box", "", box, chunk.start) for box in bare)
        else:
            _walk(value, chunk.start, part)
        if chunk.truncated:
            if not part.detections:
                return chunk.start + 1 if _OPEN.search(text, chunk.start + 1) else None
            part.warnings.append(
                f"the output stops inside a JSON value: kept {_count_objects(value)} complete object(s)")
        elif part.detections and how == "python-literal":
            part.warnings.append("not strict JSON (single quotes or trailing commas): read as a Python literal")
        elif part.detections and how == "repaired":
            part.warnings.append("repaired malformed JSON" + (" (unbalanced brackets)" if chunk.malformed else ""))
        if part.detections or how is None:
            part.spans.append((chunk.start, chunk.cut if chunk.truncated and chunk.cut else chunk.end))
        found.extend(part)
    return None


def _count_objects(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return 1


def _looks_like_detections(text: str) -> bool:
    return bool(re.search(r"bbox|point|coordinate|box", text[:2000]))
