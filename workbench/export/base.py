"""What a format module provides: a writer and a validator that reads the files back.

The validator checks what the framework's own loader checks (placeholder count == images,
required keys, files present) plus what no loader checks but training needs: every target
inside the image the model will see. It reads the settings back from ``manifest.json``.

>>> problems = Problems()
>>> problems.add("entry 3: no images")
>>> problems.items
['entry 3: no images']
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grounding import ImageReadError, read_image_size
from workbench.export.labels import control_problem
from workbench.export.questions import task_kinds
from workbench.export.samples import ExportSample
from workbench.export.settings import ExportSettings
from workbench.export.targets import Geometry

__all__ = [
    "MANIFEST_NAME",
    "ExportFormat",
    "FormatOutput",
    "Problems",
    "ImageSizes",
    "check_coords",
    "load_json",
    "load_jsonl",
    "parse_json_answer",
    "parse_qwen2_answer",
    "check_answer",
    "check_label",
]

MANIFEST_NAME = "manifest.json"


@dataclass(frozen=True)
class FormatOutput:
    entries: int
    files: tuple[str, ...]
    warnings: tuple[str, ...] = ()
    usage: str = ""
    """The command (or call) that trains on or loads this export, with absolute paths."""
    details: dict[str, Any] = field(default_factory=dict)
    """Format-specific facts for the manifest (e.g. how many questions were generated)."""


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    multi_image: bool
    """True: samples stay whole, every picture in order (formats with one row or task per image link them by
    sample and picture number, so an empty middle picture keeps its place). False: one entry per image
    (multi-image samples are split; images with nothing to say are skipped one by one)."""
    coordinates: str
    """In words, what the coordinates in the files are."""
    write: Callable[[Sequence[ExportSample], ExportSettings, Path], FormatOutput]
    validate: Callable[[Path, ExportSettings], list[str]]
    kinds: tuple[str, ...] = ("box", "point")
    """Annotation kinds the files can hold."""
    questions: bool = False
    """True for trainer formats: question/answer pairs, whose task decides what the answers carry."""

    def carried_kinds(self, settings: ExportSettings) -> tuple[str, ...]:
        """The kinds this export writes: what the format holds, and for question formats what the task asks."""
        if not self.questions:
            return self.kinds
        wanted = task_kinds(settings.task, settings.family)
        return tuple(kind for kind in self.kinds if kind in wanted)


@dataclass
class Problems:
    """Problems found by a validator, capped so a broken export of 10k entries stays readable."""

    limit: int = 50
    items: list[str] = field(default_factory=list)
    dropped: int = 0

    def add(self, message: str) -> None:
        if len(self.items) < self.limit:
            self.items.append(message)
        else:
            self.dropped += 1

    def result(self) -> list[str]:
        return self.items + ([f"... and {self.dropped} more"] if self.dropped else [])


class ImageSizes:
    """Sizes of the exported image files (read from headers once per file)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._cache: dict[str, tuple[int, int] | None] = {}

    def __call__(self, relative: str, problems: Problems, where: str) -> tuple[int, int] | None:
        if relative not in self._cache:
            path = self.folder / relative
            try:
                self._cache[relative] = read_image_size(path).wh if path.is_file() else None
            except ImageReadError:
                self._cache[relative] = None
        size = self._cache[relative]
        if size is None:
            problems.add(f"{where}: image {relative!r} is missing or unreadable")
        return size


def load_json(path: Path, problems: Problems) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        problems.add(f"{path.name}: cannot be read as JSON ({exc})")
        return None


def load_jsonl(path: Path, problems: Problems) -> list[Any]:
    rows: list[Any] = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        problems.add(f"{path.name}: cannot be read ({exc})")
        return rows
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            problems.add(f"{path.name} line {number}: not JSON ({exc})")
    return rows


def check_label(label: Any, problems: Problems, where: str) -> None:
    """A label must be non-empty text without control characters (they break XML, YAML and line formats)."""
    if (problem := control_problem(label, where)) is not None:
        problems.add(problem)


def check_coords(coords: Any, extent_wh: tuple[float, float], problems: Problems, where: str,
                 *, integers: bool = True) -> None:
    """Coordinates must be numbers (integers where asked) inside ``[0, W] x [0, H]``, boxes with x1<=x2, y1<=y2.

    ``extent_wh`` may include a format's rounding tolerance (YOLO's decimals).
    """
    if not isinstance(coords, list) or len(coords) not in (2, 4) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in coords):
        problems.add(f"{where}: coordinates {coords!r} are not 2 or 4 numbers")
        return
    if integers and not all(isinstance(v, int) for v in coords):
        problems.add(f"{where}: coordinates {coords!r} are not integers")
    w, h = extent_wh
    if any(not 0 <= v <= (w if i % 2 == 0 else h) for i, v in enumerate(coords)):
        problems.add(f"{where}: coordinates {coords!r} fall outside [0, {w:g}] x [0, {h:g}]")
    if len(coords) == 4 and (coords[0] > coords[2] or coords[1] > coords[3]):
        problems.add(f"{where}: box {coords!r} has its corners the wrong way round")


_FENCE = re.compile(r"^```json\n(.*)\n```$", re.S)
_QWEN2 = re.compile(r"(?:Picture (\d+): )?<\|object_ref_start\|>(.*?)<\|object_ref_end\|>"
                    r"<\|box_start\|>\((\d+),(\d+)\),\((\d+),(\d+)\)<\|box_end\|>")


def parse_json_answer(text: str) -> list[dict] | None:
    """The list inside a fenced JSON answer, or None when it is not one."""
    match = _FENCE.match(text)
    if not match:
        return None
    try:
        value = json.loads(match.group(1))
    except ValueError:
        return None
    return value if isinstance(value, list) and all(isinstance(v, dict) for v in value) else None


def parse_qwen2_answer(text: str) -> list[tuple[int | None, str, list[int]]] | None:
    """(picture, label, box) triples of a Qwen2-VL answer; None when a line is not in that syntax."""
    out = []
    for line in filter(None, text.split("\n")):
        match = _QWEN2.fullmatch(line)
        if not match:
            return None
        picture, label, *coords = match.groups()
        out.append((int(picture) if picture else None, label, [int(v) for v in coords]))
    return out


def check_answer(text: str, image_sizes: Sequence[tuple[int, int] | None], geometry: Geometry,
                 problems: Problems, where: str) -> int:
    """Check a Qwen-style answer's targets against each image's model space; returns the objects found."""
    multi = len(image_sizes) > 1

    def extent_of(picture: Any) -> tuple[float, float] | None:
        index = 1 if not multi else picture
        if not isinstance(index, int) or not 1 <= index <= len(image_sizes):
            problems.add(f"{where}: object names picture {picture!r}, the sample has {len(image_sizes)}")
            return None
        size = image_sizes[index - 1]
        return geometry.extent(size) if size else None

    if not geometry.family.writes_json:
        items = parse_qwen2_answer(text)
        if items is None:
            problems.add(f"{where}: answer is not in Qwen2-VL box syntax")
            return 0
        for picture, label, box in items:
            check_label(label, problems, where)
            extent = extent_of(picture)
            if extent:
                check_coords(box, extent, problems, where)
        return len(items)
    entries = parse_json_answer(text)
    if entries is None:
        problems.add(f"{where}: answer is not a fenced JSON list")
        return 0
    for entry in entries:
        coords = entry.get("bbox_2d", entry.get("point_2d"))
        check_label(entry.get("label"), problems, where)
        extent = extent_of(entry.get("image"))
        if extent:
            check_coords(coords, extent, problems, where)
    return len(entries)
