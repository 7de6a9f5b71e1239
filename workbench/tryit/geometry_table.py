"""The geometry table of the UI: one row per image with sizes, grid, tokens and problems flagged.

>>> from workbench.tryit.image_set import ImageEntry, ImageSet
>>> images = ImageSet().add([ImageEntry.placeholder("a.jpg", (640, 480)), ImageEntry.placeholder("thin.png", (6000, 20))])
>>> table = geometry_table(images, "qwen2.5-vl", PixelLimits(3136, 12845056))
>>> table.rows[0]
['img1', 'a.jpg', '640×480', '644×476', '[1, 34, 46]', 391, '']
>>> table.rows[1][-1]
'aspect ratio 300.0 of 6000x20 is over 200; Qwen-VL processors refuse it (crop or pad it first)'
>>> table.total_tokens, table.context_tokens
(391, 128000)
"""

from __future__ import annotations

from dataclasses import dataclass

from grounding import (
    GeometryError,
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    check_double_resize,
    process_size,
)
from workbench.tryit.image_set import ImageSet

__all__ = ["GEOMETRY_COLUMNS", "GeometryTable", "geometry_table", "image_notes"]

GEOMETRY_COLUMNS = ["ID", "file", "original W×H", "processed W'×H'", "grid_thw", "visual tokens", "notes"]

UPSCALE_NOTE = 2.0
DOWNSCALE_NOTE = 0.25


@dataclass(frozen=True)
class GeometryTable:
    rows: list[list[object]]
    geometries: dict[str, ProcessedImage]
    total_tokens: int
    context_tokens: int
    problems: int

    def summary(self) -> str:
        share = self.total_tokens / self.context_tokens
        text = f"{self.total_tokens} visual tokens for {len(self.geometries)} image(s): {share:.1%} of a {self.context_tokens}-token context"
        if share > 1:
            text += " — over the context: lower max_pixels or send fewer images"
        if self.problems:
            text += f"; {self.problems} image(s) need attention (see notes)"
        return text


def image_notes(image: ProcessedImage, limits: PixelLimits) -> list[str]:
    """Plain-language flags for one image: resampling extremes, thin images, budget overshoot."""
    notes = []
    (w, h), (rw, rh) = image.original_wh, image.resized_wh
    factor = (rw * rh / (w * h)) ** 0.5
    if factor >= UPSCALE_NOTE:
        notes.append(f"upscaled ×{factor:.1f}: small image, boxes will be coarse")
    elif factor <= DOWNSCALE_NOTE:
        notes.append(f"downscaled to {factor:.0%} per side: small objects may be missed")
    if min(rw, rh) == image.family.factor and max(w, h) / min(w, h) > 20:
        notes.append("one patch row: a very thin image, the model sees little of it")
    if rw * rh > limits.max_pixels:
        notes.append(f"{rw * rh} pixels exceed max_pixels {limits.max_pixels} (transformers keeps one patch row)")
    return notes


def geometry_table(
    images: ImageSet, family: ModelFamily | str, limits: PixelLimits, *, pre_resize: PixelLimits | None = None
) -> GeometryTable:
    """Rows for :data:`GEOMETRY_COLUMNS`; ``pre_resize`` = qwen-vl-utils limits when it resizes first."""
    family = ModelFamily.from_name(family)
    rows, geometries, problems = [], {}, 0
    for entry in images:
        w, h = entry.original_wh
        notes = []
        try:
            image = process_size(entry.original_wh, family, limits)
            if pre_resize is not None:  # the model sees what the processor makes of qwen-vl-utils' output
                report = check_double_resize(entry.original_wh, family, limits, pre_resize)
                if report.final is None:
                    raise GeometryError(report.message())
                if report.resized_twice:
                    notes.append(report.message())
                # boxes come in the final resized space; both resizes scale the whole image
                image = ProcessedImage(entry.original_wh, report.final.resized_wh, family)
        except GeometryError as exc:
            rows.append([entry.image_id, entry.name, f"{w}×{h}", "", "", 0, str(exc)])
            problems += 1
            continue
        geometries[entry.image_id] = image
        notes += image_notes(image, limits)
        problems += bool(notes)
        rw, rh = image.resized_wh
        rows.append([entry.image_id, entry.name, f"{w}×{h}", f"{rw}×{rh}", str(list(image.grid_thw)), image.tokens,
                     "; ".join(notes)])
    total = sum(g.tokens for g in geometries.values())
    return GeometryTable(rows, geometries, total, family.context_tokens, problems)
