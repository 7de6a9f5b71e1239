"""The Try-it view's state: a few images, geometry settings and the last grounding answer (no dataset).

A visitor uploads, asks and sees boxes; :func:`save_to_dataset` then adds the images (and the
model's boxes, as a run's proposals) to a dataset in one click. Immutable: every operation returns a
new :class:`Workspace`, which the UI keeps in per-session state. All geometry goes through ``grounding``.

>>> from workbench.tryit.image_set import ImageEntry
>>> ws = Workspace().with_images(Workspace().images.add([ImageEntry.placeholder("a.jpg", (640, 480))]))
>>> ws = ws.with_output('```json\\n[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]\\n```')
>>> [(d.label, d.original) for d in ws.result.detections]
[('cat', (320.0, 240.0, 640.0, 480.0))]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from grounding import DEFAULT_FAMILY, ModelFamily, PixelLimits, ProcessedImage
from grounding.parse import ParseResult, parse_grounding
from workbench.errors import WorkbenchError
from workbench.runs.items import drafts_from
from workbench.store import DatasetStore, ImageSource
from workbench.tryit.geometry_table import GeometryTable, geometry_table
from workbench.tryit.image_set import ImageSet

__all__ = ["GroundingRun", "Workspace", "WorkspaceError", "save_to_dataset"]


class WorkspaceError(WorkbenchError):
    """An action the current state does not allow (no images, an image the model refuses)."""


@dataclass(frozen=True)
class GroundingRun:
    """The last model output and what the parser made of it, with the image IDs at the time of the run."""

    text: str
    result: ParseResult
    image_ids: tuple[str, ...]
    model: str = "pasted output"
    warnings: tuple[str, ...] = ()
    image_paths: tuple[str, ...] = ()
    """The files the run saw, in picture order (an ID whose file changed no longer gets these detections)."""
    family: str = ""
    """The family whose convention the output was read with (the model's own, for a model run)."""
    limits: PixelLimits | None = None
    """The pixel limits the model ran with, when known."""
    for_picture: int | None = None
    """The one picture (1-based, in ``image_ids``' order) the output answers for, when it was given for one only
    (a pasted output "for img3"); None: it answers for every picture of the run."""

    def keep_only(self, images: ImageSet) -> GroundingRun:
        """The run re-keyed to the images as they are now: follows renames, blanks removed or replaced images.

        An image is recognised by its file: the same ID on the same file first, else another ID on it (a rename).
        """
        now = {entry.image_id: entry.path for entry in images}
        paths = self.image_paths or tuple(now.get(i, "") for i in self.image_ids)
        ids: list[str] = []
        for image_id, path in zip(self.image_ids, paths):
            if image_id and now.get(image_id) == path:
                ids.append(image_id)
                continue
            renamed = [i for i, p in now.items() if p == path and i not in ids and i not in self.image_ids]
            ids.append(renamed[0] if renamed else "")
        return replace(self, image_ids=tuple(ids), image_paths=paths)

    def answered(self, image_id: str) -> bool:
        """Whether the output answers for this image (it may have found nothing there): an image the output was
        not for stays unannotated, so a batch over ``new`` items still runs on it.

        >>> from grounding.parse import ParseResult
        >>> run = GroundingRun("[]", ParseResult(), ("a", "b", "c"), for_picture=2)
        >>> [run.answered(i) for i in ("a", "b", "c", "zz")]
        [False, True, False, False]
        """
        if not image_id or image_id not in self.image_ids:
            return False
        return self.for_picture is None or self.image_ids.index(image_id) + 1 == self.for_picture

    def detections_for(self, image_id: str):
        if not image_id or image_id not in self.image_ids:
            return ()
        return self.result.for_image(self.image_ids.index(image_id) + 1)


@dataclass(frozen=True)
class Workspace:
    images: ImageSet = field(default_factory=ImageSet)
    family: str = DEFAULT_FAMILY.name
    limits: PixelLimits = field(default_factory=lambda: PixelLimits.default_for(DEFAULT_FAMILY))
    pre_resize: PixelLimits | None = None
    """qwen-vl-utils' limits when it resizes before the processor (double resize), else None."""
    run: GroundingRun | None = None
    workdir: str = ""
    """This session's folder for uploads and drawn results ("" until the first upload)."""

    def with_images(self, images: ImageSet) -> Workspace:
        return replace(self, images=images, run=self.run.keep_only(images) if self.run else None)

    def with_settings(self, family: str, limits: PixelLimits, pre_resize: PixelLimits | None = None) -> Workspace:
        return replace(self, family=ModelFamily.from_name(family).name, limits=limits, pre_resize=pre_resize)

    def rename(self, image_id: str, new_id: str) -> Workspace:
        images = self.images.rename(image_id, new_id)
        new_id = images.images[self.images.index_of(image_id)].image_id  # as the image set stored it (stripped)
        run = self.run
        if run and image_id in run.image_ids:
            run = replace(run, image_ids=tuple(new_id if i == image_id else i for i in run.image_ids),
                          image_paths=run.image_paths or tuple(e.path for e in self.images))
        return replace(self, images=images, run=run)

    def table(self) -> GeometryTable:
        return geometry_table(self.images, self.family, self.limits, pre_resize=self.pre_resize)

    def geometries(self) -> list[ProcessedImage]:
        """Geometry of every image in order; raises when one cannot be sent to the model."""
        if not len(self.images):
            raise WorkspaceError("add at least one image first")
        table = self.table()
        missing = [row[0] for row in table.rows if row[0] not in table.geometries]
        if missing:
            raise WorkspaceError(f"the model cannot take image(s) {', '.join(map(str, missing))}: see the notes in the table")
        return [table.geometries[i] for i in self.images.ids]

    def usable(self) -> tuple[list[int], list[ProcessedImage], list[str]]:
        """Picture numbers and geometry of the images the model can take, and why the others are left out."""
        table = self.table()
        numbers, geometries, notes = [], [], []
        for n, row in enumerate(table.rows, start=1):
            if row[0] in table.geometries:
                numbers.append(n)
                geometries.append(table.geometries[row[0]])
            else:
                notes.append(f"{row[0]} left out: {row[-1]}")
        return numbers, geometries, notes

    def with_output(self, text: str, *, images: Sequence[ProcessedImage] | None = None, model: str = "pasted output",
                    target_image: int | None = None, warnings: Sequence[str] = (),
                    sent: Sequence[tuple[str, str]] | None = None, limits: PixelLimits | None = None) -> Workspace:
        """Parse a model output with the geometry the model really had (``images``) or the current settings.

        A pasted output is read for the images the model can take; one it cannot (an aspect ratio over
        200, say) is left out with a warning instead of blocking the others. ``sent`` is the (image ID,
        file) list of the request when it was made: images removed or replaced since get none of its boxes.
        """
        notes: list[str] = []
        if images is not None:
            geometries = list(images)
            entries = list(sent) if sent is not None else [(e.image_id, e.path) for e in self.images]
        else:
            if not len(self.images):
                raise WorkspaceError("add at least one image first")
            numbers, geometries, notes = self.usable()
            if not geometries:
                raise WorkspaceError("the model can take none of these images: see the notes in the table")
            entries = [(e.image_id, e.path) for n, e in enumerate(self.images, 1) if n in numbers]
            if target_image is not None:
                target_image = numbers.index(target_image) + 1 if target_image in numbers else None
        family = geometries[0].family if geometries else self.family  # the model's own family wins
        result = parse_grounding(text, family, geometries, target_image=target_image,
                                 image_ids=[image_id for image_id, _ in entries])
        run = GroundingRun(text, result, tuple(i for i, _ in entries), model,
                           tuple(warnings) + tuple(notes) + result.warnings, tuple(p for _, p in entries),
                           ModelFamily.from_name(family).name, limits if images is not None else self.limits,
                           for_picture=target_image)
        return replace(self, run=run.keep_only(self.images))

    @property
    def result(self) -> ParseResult:
        return self.run.result if self.run else ParseResult()


def save_to_dataset(store: DatasetStore, ws: Workspace, dataset: str, *, owner: str = "",
                    together: bool = False) -> list[int]:
    """Add the workspace's images to ``dataset`` (created if missing) with the last answer's boxes as proposals.

    One item per image, or one multi-image item with ``together``; the answer lands exactly as a
    model run from the review screen would (pre-annotated, provenance with model, family and limits).
    Only the images the answer is for get it: with an output pasted for one picture of five, the other
    four are added as ``new`` items (a batch over new items then runs on them).
    """
    if not len(ws.images):
        raise WorkspaceError("add images first")
    try:
        record = store.dataset(dataset, owner=owner)
    except WorkbenchError:
        record = store.create_dataset(dataset, owner=owner)
    groups = [list(ws.images)] if together else [[entry] for entry in ws.images]
    run = ws.run
    store_run = None
    if run is not None:
        limits = run.limits or ws.limits
        store_run = store.run(record.id, model=run.model, family=run.family or ws.family,
                              settings={"min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels,
                                        "source": "try it"})
    ids = []
    for group in groups:
        sources = [(ImageSource(Path(e.name), e.image_id), store.blobs.put_file(Path(e.path), name=e.name))
                   for e in group]
        item = store.add_item_blobs(record.id, sources)
        if store_run is not None and run is not None and any(run.answered(e.image_id) for e in group):
            per_image = []
            for entry in group:
                found = run.detections_for(entry.image_id)
                moved = [replace(d, image=1) for d in found]
                drafts, _ = drafts_from(ParseResult(tuple(moved)), [entry.original_wh])
                per_image.append(drafts[0])
            store.record_proposals(store_run.id, item.id, per_image, text=run.text, warnings=run.warnings)
        ids.append(item.id)
    return ids
