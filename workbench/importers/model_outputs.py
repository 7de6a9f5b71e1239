"""Images with a model's raw answers -> samples with ``model``-provenance annotations (pending review).

The text is parsed by :func:`grounding.parse_grounding` with each image's geometry, from the
processor's ``image_grid_thw`` when it was recorded (the authority), else from the family's
resize rule and the pixel limits the model ran with. A JSONL file of
``{"images": [...], "output": "...", "prompt", "model", "settings", "image_ids", "grid_thw"}``
lines feeds the same path from the command line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grounding import (
    GeometryError,
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    from_grid_thw,
    process_size,
)
from workbench.importers.base import (
    DatasetImportError,
    ImportImage,
    ImportReport,
    ImportSample,
    ModelAnswer,
    image_wh,
    write_samples,
)
from workbench.importers.paths import ImportFolder
from workbench.runs.items import drafts_from
from workbench.store import DatasetStore, ImageSource

__all__ = ["ModelOutput", "import_model_outputs", "read_outputs_jsonl"]


@dataclass(frozen=True)
class ModelOutput:
    """One request: its images in order, the prompt, and the model's answer text."""

    images: Sequence[ImageSource]
    text: str
    prompt: str = ""
    model: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)
    grid_thw: Sequence[Sequence[int]] | None = None


def _geometry(sizes: Sequence[tuple[int, int]], output: ModelOutput, family: ModelFamily,
              limits: PixelLimits | None) -> list[ProcessedImage]:
    if output.grid_thw is not None:
        if len(output.grid_thw) != len(sizes):
            raise DatasetImportError(f"{len(output.grid_thw)} grid_thw rows for {len(sizes)} images")
        return [from_grid_thw(wh, list(grid), family) for wh, grid in zip(sizes, output.grid_thw)]
    return [process_size(wh, family, limits) for wh in sizes]


def _parser() -> Callable[..., Any]:
    """The parser (:func:`grounding.parse.parse_grounding`)."""
    from grounding.parse import parse_grounding

    return parse_grounding


def import_model_outputs(store: DatasetStore, dataset: str, outputs: Sequence[ModelOutput],
                         family: ModelFamily | str, limits: PixelLimits | None = None) -> ImportReport:
    """Add one item per output; its detections land as that model run's proposals (so the item shows up
    ``pre-annotated`` with full provenance, exactly as if the workbench had run the model)."""
    parse_grounding = _parser()
    family = ModelFamily.from_name(family)
    staged = []
    warnings: list[str] = []
    for n, output in enumerate(outputs, 1):
        sizes = [image_wh(Path(image.path), f"output {n}") for image in output.images]
        try:
            geometry = _geometry(sizes, output, family, limits)
        except GeometryError as exc:
            raise DatasetImportError(f"output {n}: {exc}") from None
        ids = [image.image_id for image in output.images]
        result = parse_grounding(output.text, family, geometry,
                                 image_ids=ids if all(ids) and len(set(ids)) == len(ids) else ())
        warnings.extend(f"output {n}: {w}" for w in result.warnings)
        settings = {"family": family.name, **({"min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels}
                                              if limits else {}), **dict(output.settings)}
        per_image, clamped = drafts_from(result, sizes)
        warnings.extend(f"output {n}: {w}" for w in clamped)
        answer = ModelAnswer(output.model or "imported output", family.name,
                             {**settings, "prompt": output.prompt, "source": "import"}, output.text,
                             tuple(result.warnings))
        staged.append(ImportSample(tuple(ImportImage(Path(image.path), image.image_id, tuple(drafts))
                                         for image, drafts in zip(output.images, per_image)), output.prompt,
                                   answer=answer))
    return write_samples(store, dataset, staged, warnings=warnings)


def read_outputs_jsonl(path: str | os.PathLike, *, allow_outside: bool = False) -> list[ModelOutput]:
    """Read a JSONL of model outputs; image paths are relative to the file and stay inside its folder unless
    ``allow_outside``. Raises on the first bad line."""
    path = Path(path)
    folder = ImportFolder(path.parent, allow_outside=allow_outside)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise DatasetImportError(f"{path}: cannot read ({exc.strerror or exc})") from None
    outputs = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            images = row["images"] if isinstance(row["images"], list) else [row["images"]]
            ids = row.get("image_ids") or [None] * len(images)
            if not images or len(ids) != len(images) or not isinstance(row["output"], str):
                raise ValueError("needs a non-empty 'images' list (and as many 'image_ids') and an 'output' text")
            for image in images:
                folder.check(path.parent / str(image), f"{path} line {number}")
            outputs.append(ModelOutput(
                images=[ImageSource(path.parent / str(image), image_id) for image, image_id in zip(images, ids)],
                text=row["output"], prompt=str(row.get("prompt", "")), model=row.get("model"),
                settings=dict(row.get("settings") or {}), grid_thw=row.get("grid_thw")))
        except (ValueError, KeyError, TypeError) as exc:
            raise DatasetImportError(f"{path} line {number}: {exc}") from None
    return outputs
