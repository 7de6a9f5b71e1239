"""JSON (and JSON-like) grounding output: fenced or bare, lists or single objects, broken or cut off.

Each ``[``/``{`` that starts a value is read with ``json`` (``raw_decode``: prose after it is fine),
also with its single quotes read as double ones (a Python literal; see :func:`swap_quotes`). A list
the output stops inside, or closes after a trailing comma, is read item by item with ``json``.
When that fails, a small bracket scanner finds where the value ends (skipping strings); the value is
then read as a Python literal (``True``, trailing commas inside objects), then item by item going
on after bad ones (a stray ``{``), then with json-repair.

Objects whose keys repeat (several boxes written into one object) are split at the repeated key;
when such an object is cut off, every complete group of keys is kept.

Every step is linear in the text: the scanner keeps counts instead of searching its stack, each
value is read a bounded number of times, looking inside unclosed values stops after a few passes,
and json-repair (worse than quadratic on some inputs) takes :data:`MAX_REPAIR_CHARS` characters
per output at most.

>>> found = json_detections('Sure!\\n```json\\n[{"bbox_2d": [1, 2, 3, 4], "label": "a"}, {"bbox_2d": [5, 6')
>>> [(d.label, d.coords) for d in found.detections], found.warnings
([('a', (1.0, 2.0, 3.0, 4.0))], ['the output stops inside a JSON value: kept 1 complete object(s)'])
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # public since 2.6, missing from typeshed
from typing import Any

import json_repair

from grounding.parse.objects import LABEL_KEYS, has_coordinates, object_detections
from grounding.parse.raw import Found, RawDetection, as_number

__all__ = ["Chunk", "MAX_REPAIR_CHARS", "Read", "load_chunk", "read_plain_json", "read_value", "swap_quotes", "json_detections"]

MAX_REPAIR_CHARS = 1_500
"""Longest malformed value handed to json-repair, and the most it repairs per output: its time grows
faster than the square of some inputs (4,000 characters of unclosed strings: about a second)."""

_OPEN = re.compile(r"[\[{]")
_STRUCTURE = re.compile(r"[\"'\[\]{}\\]")
_WS = re.compile(r"[ \t\n\r]*")
_MAX_DEPTH = 64
_MAX_RESCANS = 8
_RESCAN_PASSES = 3


@dataclass
class Chunk:
    """One top-level value: ``text[start:end]``; ``cut`` ends its last complete object if truncated."""

    start: int
    end: int
    truncated: bool = False
    malformed: bool = False
    cut: int | None = None
    opener: str = "["
    closed_at: dict[int, int] = field(default_factory=dict)  # depth after closing a value -> last such end


class Split(list[Any]):
    """Objects that the model wrote as one object with repeated keys."""


def _scan(text: str, start: int, outer: str = "") -> Chunk:
    """Where the value at ``start`` ends; ``outer`` are brackets already open around it (``"["``)."""
    stack: list[str] = list(outer)
    open_count = {"[": outer.count("["), "{": outer.count("{")}
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
            open_count[char] += 1
            saw_object = saw_object or char == "{"
        elif char in "]}":
            opener = "[" if char == "]" else "{"
            if not open_count[opener]:
                malformed = True
                continue
            while stack[-1] != opener:
                open_count[stack.pop()] -= 1
                malformed = True
            stack.pop()
            open_count[opener] -= 1
            if not stack:
                return Chunk(start, position + 1, malformed=malformed, opener=text[start:start + 1])
            (object_closers if char == "}" else list_closers)[len(stack)] = position + 1
    chunk = Chunk(start, len(text), truncated=True, malformed=malformed, opener=text[start:start + 1],
                  closed_at={**list_closers, **object_closers})
    if object_closers:
        chunk.cut = object_closers[min(object_closers)]
    elif list_closers and not saw_object:  # a bare list of lists: [[x1, y1, x2, y2], [x1, ...
        chunk.cut = list_closers[min(list_closers)]
    return chunk


def _pairs_hook(pairs: list[tuple[str, Any]]) -> Any:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    return Split(_groups(pairs))


def _groups(pairs: list[tuple[str, Any]]) -> list[dict[str, Any]]:
    """Key-value pairs split into objects wherever a key repeats."""
    objects: list[dict[str, Any]] = [{}]
    for key, value in pairs:
        if key in objects[-1]:
            objects.append({})
        objects[-1][key] = value
    return objects


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs_hook)
_PLAIN = json.JSONDecoder()  # C-built dicts: for the fast path, which checks for repeated keys itself
_NAMES = {"true": True, "false": False, "null": None, "True": True, "False": False, "None": None}


_CONSTANTS = (str, int, float, bool, type(None))


def _literal(node: ast.AST) -> Any:
    """Python/JSON literal from an AST node, keeping repeated dict keys (unlike ``ast.literal_eval``)."""
    kind = type(node)
    if kind is ast.Constant:
        if type(node.value) in _CONSTANTS:  # type: ignore[attr-defined]  # the node's kind is told by type() above (faster than isinstance)
            return node.value  # type: ignore[attr-defined]  # kind told above
    elif kind is ast.Dict:
        keys = node.keys  # type: ignore[attr-defined]  # kind told above
        if None not in keys:
            return _pairs_hook([(str(_literal(k)), _literal(v)) for k, v in zip(keys, node.values)])  # type: ignore[attr-defined]  # kind told above
    elif kind is ast.List or kind is ast.Tuple:
        return [_literal(item) for item in node.elts]  # type: ignore[attr-defined]  # kind told above
    elif kind is ast.Expression:
        return _literal(node.body)  # type: ignore[attr-defined]  # kind told above
    elif kind is ast.Name and node.id in _NAMES:  # type: ignore[attr-defined]  # kind told above
        return _NAMES[node.id]  # type: ignore[attr-defined]  # kind told above
    elif kind is ast.UnaryOp and isinstance(node.op, (ast.USub, ast.UAdd)):  # type: ignore[attr-defined]  # kind told above
        value = _literal(node.operand)  # type: ignore[attr-defined]  # kind told above
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return -value if isinstance(node.op, ast.USub) else value  # type: ignore[attr-defined]  # kind told above
    raise ValueError(f"not a literal: {kind.__name__}")


def load_chunk(source: str, *, repair: bool = True) -> tuple[Any, str | None]:
    """The value in ``source`` and how it was read (``None`` for plain JSON).

    json-repair runs only with ``repair`` and on at most :data:`MAX_REPAIR_CHARS` characters.

    >>> load_chunk("[{'a': 1,},]")
    ([{'a': 1}], 'python-literal')
    """
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
    if not repair:
        return None, "not-repaired"
    return _repair(source)


def _repair(source: str, limit: int = MAX_REPAIR_CHARS) -> tuple[Any, str]:
    if len(source) > min(limit, MAX_REPAIR_CHARS):
        return None, "not-repaired"
    try:
        return json_repair.loads(source), "repaired"
    except Exception:
        return None, "unreadable"


_MAX_RESYNCS = 32


def _lenient_items(text: str, start: int, end: int, decoder: json.JSONDecoder) -> list[Any]:
    """The readable items of a malformed list ``text[start:end]``: after an item ``json`` cannot read, go on
    at the next ``{`` (a stray ``{``, a missing comma). Linear: at most ``_MAX_RESYNCS`` restarts."""
    items: list[Any] = []
    position, resyncs = start + 1, 0
    while True:
        position = _skip(text, position)
        if position >= end - 1:
            return items
        try:
            item, item_end = decoder.raw_decode(text, position)
            if item_end > end:
                return items
            items.append(item)
            position = _skip(text, item_end)
            if text.startswith(",", position):
                position += 1
            continue
        except (ValueError, RecursionError):
            pass
        resyncs += 1
        position = text.find("{", position + 1, end)
        if position < 0 or resyncs > _MAX_RESYNCS:
            return items


def _skip(text: str, position: int) -> int:
    return _WS.match(text, position).end()  # type: ignore[union-attr]  # the pattern matches the empty string


def _list_items(text: str, start: int, decoder: json.JSONDecoder = _DECODER) -> tuple[list[Any], list[int], int, int | None]:
    """Items of the list at ``text[start] == "["`` read one by one with ``json`` until one fails: the items,
    where each ends, where the first unreadable one starts, and where the list ends when it closes just
    after a trailing comma (``[{...}, {...},]``, else ``None``)."""
    items: list[Any] = []
    ends: list[int] = []
    position = start + 1
    after_comma = False
    while True:
        position = _skip(text, position)
        try:
            item, end = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            closed = position + 1 if after_comma and text.startswith("]", position) else None
            return items, ends, position, closed
        items.append(item)
        ends.append(end)
        position = _skip(text, end)
        if not text.startswith(",", position):
            return items, ends, position, None
        position += 1
        after_comma = True


def _partial_object(text: str, start: int) -> list[dict[str, Any]]:
    """Complete key groups of an object the output stops inside, when its keys repeat.

    A group is complete when it has every key of the first group: ``{"object_name": "a", "bbox":
    [...], "object_name": "b", "bbox": [...], "object_name": "c", "bb`` keeps a and b. An object
    whose keys do not repeat gives nothing (cut before its ``}``, like any other).
    """
    pairs: list[tuple[str, Any]] = []
    position = start + 1
    try:
        while True:
            position = _skip(text, position)
            if not text.startswith('"', position):
                break
            key, position = scanstring(text, position + 1)
            position = _skip(text, position)
            if not text.startswith(":", position):
                break
            value, position = _DECODER.raw_decode(text, _skip(text, position + 1))
            pairs.append((key, value))
            position = _skip(text, position)
            if not text.startswith(",", position):
                break
            position += 1
    except (ValueError, RecursionError):
        pass
    groups = _groups(pairs)
    if len(groups) < 2:
        return []
    pattern = groups[0].keys()
    return [group for group in groups if pattern <= group.keys()]


@dataclass
class Read:
    """A value read at one position: where it ends (``cut`` when truncated) and how it was read."""

    chunk: Chunk
    value: Any
    how: str | None  # None: JSON; "python-literal", "cut-json", "resynced", "repaired", "not-repaired", "unreadable"
    partial: list[dict[str, Any]] = field(default_factory=list)  # complete groups of a cut-off repeated-key object


def swap_quotes(text: str) -> str | None:
    """``text`` with ``'`` written as ``"``, when that is all that keeps a Python literal from being JSON.

    Only for texts with single quotes, no double quote and no backslash: then a value that ``json``
    reads in the swapped text is exactly what :func:`ast.parse` would read in the original (strings hold
    no quote and no escape), at the same positions, and ``json`` is about ten times faster.

    >>> swap_quotes("[{'label': 'cat'}]"), swap_quotes('[{"label": "cat"}]')
    ('[{"label": "cat"}]', None)
    """
    if "'" in text and '"' not in text and "\\" not in text:
        return text.translate(_SWAP)
    return None


_SWAP = str.maketrans("'", '"')


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is JSON only, not a Python literal")


_QUOTED = json.JSONDecoder(object_pairs_hook=_pairs_hook, parse_constant=_no_constant)
_QUOTED_PLAIN = json.JSONDecoder(parse_constant=_no_constant)


def _read_json(text: str, start: int, swapped: str | None, decoder: json.JSONDecoder,
               quoted: json.JSONDecoder) -> tuple[Read | None, Chunk | None]:
    """The value at ``start`` read with ``json`` alone: whole, in the quote-swapped text (a Python literal),
    or item by item (a list cut off or closed after a trailing comma); else ``None`` and maybe the
    scanner's chunk (see :func:`_list_by_items`)."""
    try:
        value, end = decoder.raw_decode(text, start)
        return Read(Chunk(start, end, opener=text[start]), value, None), None
    except (ValueError, RecursionError):
        pass
    if swapped is not None:
        try:
            value, end = quoted.raw_decode(swapped, start)
            return Read(Chunk(start, end, opener=text[start]), value, "python-literal"), None
        except (ValueError, RecursionError):
            pass
        if text[start] == "[":
            read = _list_by_items(swapped, start, quoted)[0]
            if read is not None:
                return read, None
    if text[start] == "[":
        return _list_by_items(text, start, decoder)
    return None, None


def read_value(text: str, start: int, *, repair: int = MAX_REPAIR_CHARS, swapped: str | None = None) -> Read:
    """The value that starts at ``text[start]`` (``[`` or ``{``), complete or cut off by the output's end.

    ``repair``: the longest value json-repair may still take (the caller's budget); ``swapped`` is
    :func:`swap_quotes` of ``text`` (computed once by the caller).

    >>> r = read_value('[{"a": 1}, {"a": 2}, {"a"', 0)
    >>> r.value, r.chunk.truncated, r.chunk.cut, r.how
    ([{'a': 1}, {'a': 2}], True, 19, 'cut-json')
    """
    read, chunk = _read_json(text, start, swapped, _DECODER, _QUOTED)
    if read is not None:
        return read
    if chunk is None:
        chunk = _scan(text, start)
    if chunk.truncated:
        partial = _partial_object(text, start) if chunk.opener == "{" and not chunk.malformed else []
        if partial:
            return Read(chunk, None, "cut-json", partial)
        if chunk.cut is None:
            return Read(chunk, None, None)
        value, how = load_chunk(text[start:chunk.cut], repair=False)
        if how == "not-repaired" and repair:
            value, how = _repair(text[start:chunk.cut], repair)
        return Read(chunk, value, how)
    value, how = load_chunk(text[start:chunk.end], repair=False)
    if how == "not-repaired":  # neither JSON nor a Python literal
        if chunk.opener == "[":
            items = _lenient_items(swapped or text, start, chunk.end, _QUOTED if swapped else _DECODER)
            if any(isinstance(item, dict) for item in items):
                return Read(chunk, items, "resynced")
        if repair:
            value, how = _repair(text[start:chunk.end], repair)
    return Read(chunk, value, how)


def read_plain_json(text: str, start: int, swapped: str | None = None) -> Read | None:
    """:func:`read_value` for the fast path: ``json`` only (dicts built in C, repeated keys not split:
    the caller checks there are none), ``None`` when the value needs the scanner."""
    return _read_json(text, start, swapped, _PLAIN, _QUOTED_PLAIN)[0]


def _list_by_items(text: str, start: int, decoder: json.JSONDecoder) -> tuple[Read | None, Chunk | None]:
    """A list read item by item with ``json``: closed after a trailing comma, or cut off by the output's
    end. ``None`` when that is not exactly what the scanner would find (malformed items: the scanner
    path reads those), with the scanner's chunk when the scan after the good items tells it."""
    items, ends, stop, closed = _list_items(text, start, decoder)
    if closed is not None:  # [{...}, {...},]: what a Python literal would give
        return Read(Chunk(start, closed, opener="["), items, "python-literal"), None
    if not items and not text.startswith("{", stop):
        return None, None  # nothing read item by item: the scanner reads the whole value once
    tail = _scan(text, stop, outer="[")
    # the scanner passes over good items of plain values without a change of state: the scan from the
    # first bad item, with the list's "[" open, is then the scan of the whole value
    whole = tail if not tail.truncated or not any(isinstance(item, (dict, list)) for item in items) else None
    if whole is not None:
        whole = Chunk(start, tail.end, tail.truncated, tail.malformed, tail.cut, "[", tail.closed_at)
    if not tail.truncated or any(depth <= 1 for depth in tail.closed_at):
        return None, whole  # the list closes after a bad item, or something after it closes at item level
    last_object = max((i for i, item in enumerate(items) if isinstance(item, dict)), default=-1)
    partial = _partial_object(text, stop) if text.startswith("{", stop) and not tail.malformed else []
    if last_object < 0 and not partial:
        return None, whole
    cut = ends[last_object] if last_object >= 0 else None
    chunk = Chunk(start, len(text), truncated=True, malformed=tail.malformed, cut=cut, opener="[")
    value = items[:last_object + 1] if last_object >= 0 else None
    return Read(chunk, value, "cut-json", partial), tail


def _bare_boxes(value: Any) -> list[tuple[float, ...]]:
    """``[x1, y1, x2, y2]`` or a list of such, as VLM-R1-style answers write a box without a label."""
    if isinstance(value, list) and len(value) == 4 and all(as_number(v) is not None for v in value):
        return [tuple(as_number(v) for v in value)]  # type: ignore[misc]  # every item checked to be a number above
    if isinstance(value, list) and value and all(isinstance(v, list) for v in value):
        boxes = [_bare_boxes(v) for v in value]
        if all(len(b) == 1 for b in boxes):
            return [b[0] for b in boxes]
    return []


def _walk(value: Any, offset: int, found: Found, keys: Sequence[str], depth: int = 0) -> None:
    if depth > _MAX_DEPTH:
        found.warnings.append("JSON nested too deeply: stopped reading")
        return
    if isinstance(value, Split):
        found.warnings.append(f"an object repeats its keys: read as {len(value)} objects")
        for item in value:
            _walk(item, offset, found, keys, depth + 1)
    elif isinstance(value, (dict, Mapping)):
        if has_coordinates(value, keys):
            found.extend(object_detections(value, offset=offset, coordinate_keys=keys))
        elif any(key in value for key in LABEL_KEYS[:5]) and depth <= 1 and not any(
                isinstance(v, (Mapping, list)) for v in value.values()):
            found.warnings.append(f"an object without coordinates was skipped: {_short(value)}")
        for key, item in value.items():
            if isinstance(item, (dict, list, Mapping)):
                _walk(item, offset, found, keys, depth + 1)
            elif key == "arguments" and isinstance(item, str) and item.lstrip()[:1] in ("{", "["):
                _walk(load_chunk(item)[0], offset, found, keys, depth + 1)  # OpenAI-style tool call: arguments as a string
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list, Mapping)):
                _walk(item, offset, found, keys, depth + 1)


def _short(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_detections(text: str, coordinate_keys: Sequence[str] = ()) -> Found:
    """Boxes and points in every JSON-like value of ``text``.

    A bare ``[x1, y1, x2, y2]`` (or a list of them) counts as a box without a label only when it
    is the whole answer, fences aside: VLM-R1 style ``<answer>[x1, y1, x2, y2]</answer>``.
    ``coordinate_keys`` are extra keys that hold coordinates (the user's own prompt named them).
    """
    found = Found()
    keys = tuple(coordinate_keys)
    position, rescans, repair_left = 0, 0, _REPAIR_BUDGET
    swapped = swap_quotes(text)
    scan_left = _RESCAN_PASSES * len(text)  # each look inside an unclosed value scans to the end of the text
    while True:
        match = _OPEN.search(text, position)
        if match is None:
            return found
        read = read_value(text, match.start(), repair=repair_left, swapped=swapped)
        if read.how in ("repaired", "unreadable"):  # json-repair ran
            repair_left -= (read.chunk.cut or read.chunk.end) - read.chunk.start
        part = _detections(text, read, keys)
        found.extend(part)
        if read.chunk.truncated:
            scan_left -= len(text) - read.chunk.start
            if part.detections or rescans >= _MAX_RESCANS:
                return found
            if scan_left < 0:
                found.warnings.append("many unclosed brackets: stopped looking for JSON inside them")
                return found
            position, rescans = read.chunk.start + 1, rescans + 1  # "[sic" in the prose: look inside it
        else:
            position = read.chunk.end


def _detections(text: str, read: Read, keys: Sequence[str]) -> Found:
    chunk, value, how = read.chunk, read.value, read.how
    part = Found()
    if chunk.truncated and value is None and not read.partial:
        if _looks_like_detections(text, chunk.start):
            part.warnings.append("the output stops inside a JSON value before its first complete object")
        return part
    bare = _bare_boxes(value) if not chunk.truncated and _is_whole_answer(text, chunk) else []
    if bare:
        part.detections.extend(RawDetection("box", "", box, chunk.start) for box in bare)
    else:
        _walk(value, chunk.start, part, keys)
    kept = _count_objects(value) if value is not None else 0
    if read.partial:
        before = len(part.detections)
        _walk(Split(read.partial), chunk.start, part, keys)
        if len(part.detections) > before:
            part.warnings.append(f"the output stops inside an object that repeats its keys: kept its "
                                 f"{len(read.partial)} complete group(s)")
    if chunk.truncated:
        if not part.detections:
            return Found()
        if kept:
            part.warnings.append(f"the output stops inside a JSON value: kept {kept} complete object(s)")
    elif part.detections and how == "python-literal":
        part.warnings.append("not strict JSON (single quotes or trailing commas): read as a Python literal")
    elif part.detections and how in ("repaired", "resynced"):
        part.warnings.append("repaired malformed JSON" + (" (unbalanced brackets)" if chunk.malformed else ""))
    elif how == "not-repaired" and _looks_like_detections(text, chunk.start):
        part.warnings.append(f"a malformed JSON value was not repaired (json-repair takes {MAX_REPAIR_CHARS} "
                             "characters per output at most)")
    if part.detections or (how is None and not _numbers_only(value)):
        end = chunk.cut if chunk.truncated and chunk.cut else chunk.end
        if chunk.truncated and read.partial:
            end = len(text)
        part.spans.append((chunk.start, end))
    return part


def _numbers_only(value: Any) -> bool:
    """A list of two or four numbers and nothing else: left in the text for the prose style (a place in a
    sentence, ``The cat is at [10, 20, 110, 120].``), not consumed as a JSON value that holds nothing."""
    return isinstance(value, list) and len(value) in (2, 4) and all(
        type(v) in (int, float) for v in value)


def _is_whole_answer(text: str, chunk: Chunk) -> bool:
    """Nothing but blanks and a code fence around the value (checked without copying the text)."""
    return _fenced_blank(text, 0) == chunk.start and _fenced_blank(text, chunk.end) == len(text)


def _fenced_blank(text: str, position: int) -> int:
    """Where blanks with at most one code fence (```` ```json ````) starting at ``position`` end."""
    position = _BLANK.match(text, position).end()  # type: ignore[union-attr]  # the pattern matches the empty string
    if text.startswith("```", position):
        position = _FENCE_TAG.match(text, position + 3).end()  # type: ignore[union-attr]  # the pattern matches the empty string
        position = _BLANK.match(text, position).end()  # type: ignore[union-attr]  # the pattern matches the empty string
    return position


_BLANK = re.compile(r"\s*")
_FENCE_TAG = re.compile(r"[\w-]*")
_REPAIR_BUDGET = MAX_REPAIR_CHARS


def _count_objects(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return 1


def _looks_like_detections(text: str, start: int) -> bool:
    return _HINT.search(text, start, start + 2000) is not None


_HINT = re.compile(r"bbox|point|coordinate|box")
