"""One user's working state: images, geometry settings, the last grounding result and box edits.

Immutable: every operation returns a new :class:`Workspace`, which the UI keeps in per-session
state (never in globals). All geometry goes through ``grounding``.

>>> from workbench.image_set import ImageEntry
>>> ws = Workspace().with_images(Workspace().images.add([ImageEntry.placeholder("a.jpg", (640, 480))]))
>>> ws = ws.with_output('```json\\n[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]\\n```')
>>> [(d.label, d.original) for d in ws.result.detections]
[('cat', (320.0, 240.0, 640.0, 480.0))]
>>> ws.boxes("img1")[0].xyxy
(320.0, 240.0, 640.0, 480.0)
>>> ws.region_text("img1", (320, 240, 640, 480))
'[322, 238, 644, 476]'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from grounding import ModelFamily, PixelLimits, ProcessedImage, clamp_to, order_corners, round_half_up, to_model
from grounding.parse import ParseResult, parse_grounding
from workbench.box_history import BoxHistory, EditorBox
from workbench.errors import WorkbenchError
from workbench.geometry_table import GeometryTable, geometry_table
from workbench.image_set import ImageSet

__all__ = ["Workspace", "WorkspaceError", "GroundingRun"]


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

    def detections_for(self, image_id: str):
        if not image_id or image_id not in self.image_ids:
            return ()
        return self.result.for_image(self.image_ids.index(image_id) + 1)


@dataclass(frozen=True)
class Workspace:
    images: ImageSet = ImageSet()
    family: str = "qwen2.5-vl"
    limits: PixelLimits = PixelLimits(3136, 12845056)
    pre_resize: PixelLimits | None = None
    """qwen-vl-utils' limits when it resizes before the processor (double resize), else None."""
    run: GroundingRun | None = None
    histories: dict[str, BoxHistory] = field(default_factory=dict)
    workdir: str = ""
    """This session's folder for display copies and drawn results ("" until the first upload)."""
    accepted: dict[str, tuple[EditorBox, ...]] = field(default_factory=dict)
    """Boxes the user accepted per image ID (what goes to the dataset)."""
    sample_id: int | None = None
    """The dataset sample these images were saved as (None until the first accept, or after the images change)."""

    # --- settings and images -------------------------------------------------------------------------------
    def with_images(self, images: ImageSet) -> Workspace:
        kept = {k: v for k, v in self.histories.items() if k in images.ids}
        # the same files (in any order, under any IDs) are still the same request: the sample is kept and
        # its order and IDs follow on the next accept; adding or removing an image makes a new request
        same = sorted(e.path for e in images) == sorted(e.path for e in self.images)
        run = self.run.keep_only(images) if self.run else None
        accepted = {k: v for k, v in self.accepted.items() if k in images.ids}
        return replace(self, images=images, histories=kept, run=run, accepted=accepted,
                       sample_id=self.sample_id if same else None)

    def with_settings(self, family: str, limits: PixelLimits, pre_resize: PixelLimits | None = None) -> Workspace:
        return replace(self, family=ModelFamily.from_name(family).name, limits=limits, pre_resize=pre_resize)

    def rename(self, image_id: str, new_id: str) -> Workspace:
        images = self.images.rename(image_id, new_id)
        new_id = images.images[self.images.index_of(image_id)].image_id  # as the image set stored it (stripped)
        accepted = {(new_id if k == image_id else k): v for k, v in self.accepted.items()}
        histories = {(new_id if k == image_id else k): v for k, v in self.histories.items()}
        run = self.run
        if run and image_id in run.image_ids:
            run = replace(run, image_ids=tuple(new_id if i == image_id else i for i in run.image_ids),
                          image_paths=run.image_paths or tuple(e.path for e in self.images))
        # the dataset sample stays: the next accept renames its stored image too
        return replace(self, images=images, histories=histories, run=run, accepted=accepted)

    def table(self) -> GeometryTable:
        return geometry_table(self.images, self.family, self.limits, pre_resize=self.pre_resize)

    def geometries(self) -> list[ProcessedImage]:
        """Geometry of every image in order; raises when one cannot be sent to the model."""
        if not len(self.images):
            raise WorkspaceError("add at least one image first")
        table = self.table()
        missing = [row[0] for row in table.rows if row[0] not in table.geometries]
        if missing:
            raise WorkspaceError(f"the model cannot take image(s) {', '.join(missing)}: see the notes in the table")
        return [table.geometries[i] for i in self.images.ids]

    # --- results -------------------------------------------------------------------------------------------
    def with_output(self, text: str, *, images: Sequence[ProcessedImage] | None = None, model: str = "pasted output",
                    target_image: int | None = None, warnings: Sequence[str] = (),
                    sent: Sequence[tuple[str, str]] | None = None, limits: PixelLimits | None = None) -> Workspace:
        """Parse a model output with the geometry the model really had (``images``) or the current settings.

        ``sent`` is the (image ID, file) list of the request when it was made: images removed or
        replaced since then get none of its detections.
        """
        geometries = list(images) if images is not None else self.geometries()
        family = geometries[0].family if geometries else self.family  # the model's own family wins
        result = parse_grounding(text, family, geometries, target_image=target_image)
        sent = list(sent) if sent is not None else [(e.image_id, e.path) for e in self.images]
        run = GroundingRun(text, result, tuple(i for i, _ in sent), model, tuple(warnings) + result.warnings,
                           tuple(p for _, p in sent), ModelFamily.from_name(family).name,
                           limits if images is not None else self.limits).keep_only(self.images)
        ws = replace(self, run=run)
        # an image the user has edited gets the new boxes as one more (undoable) state; the others start afresh
        histories = dict(self.histories)
        for image_id in self.images.ids:
            if image_id not in run.image_ids:
                continue  # not part of this run (added while the model worked): its boxes stay as they are
            history = self.history(image_id)
            edited = len(history.states) > 1
            histories[image_id] = history.push(ws.model_boxes(image_id)) if edited else BoxHistory.start(
                ws.model_boxes(image_id))
        return replace(ws, histories=histories)

    @property
    def result(self) -> ParseResult:
        return self.run.result if self.run else ParseResult()

    # --- box edits -----------------------------------------------------------------------------------------
    def history(self, image_id: str) -> BoxHistory:
        self.images.index_of(image_id)
        return self.histories.get(image_id) or BoxHistory.start()

    def boxes(self, image_id: str) -> tuple[EditorBox, ...]:
        return self.history(image_id).current

    def edit(self, image_id: str, boxes: Sequence[EditorBox]) -> Workspace:
        return replace(self, histories={**self.histories, image_id: self.history(image_id).push(boxes)})

    def undo(self, image_id: str) -> Workspace:
        return replace(self, histories={**self.histories, image_id: self.history(image_id).undo()})

    def redo(self, image_id: str) -> Workspace:
        return replace(self, histories={**self.histories, image_id: self.history(image_id).redo()})

    def model_boxes(self, image_id: str) -> tuple[EditorBox, ...]:
        """The boxes of the last run on this image, as the model placed them, clamped to the image.

        (The parser keeps out-of-image coordinates as written; boxes to edit and save live inside the image.)
        """
        run_boxes = self.run.detections_for(image_id) if self.run else ()
        size = self.images.get(image_id).original_wh
        return tuple(EditorBox(d.label, clamp_to(order_corners(d.original), size)) for d in run_boxes if d.kind == "box")

    def reset(self, image_id: str) -> Workspace:
        """Back to the model's boxes, as a new (undoable) edit."""
        return self.edit(image_id, self.model_boxes(image_id))

    def accept(self, image_id: str) -> Workspace:
        """Mark the current boxes of an image as reviewed and accepted."""
        return replace(self, accepted={**self.accepted, image_id: self.boxes(image_id)})

    # --- region prompts ------------------------------------------------------------------------------------
    def region_text(self, image_id: str, box_original: Sequence[float]) -> str:
        """A box drawn on the original image, as the model writes it (integers in its own space).

        Qwen2-VL gets its box tokens ``<|box_start|>(x1,y1),(x2,y2)<|box_end|>``; the JSON families a list.
        """
        index = self.images.index_of(image_id)
        image = self.geometries()[index]
        x1, y1, x2, y2 = (round_half_up(v) for v in to_model(box_original, image, clamp=True))
        if ModelFamily.from_name(self.family).name == "qwen2-vl":
            return f"<|box_start|>({x1},{y1}),({x2},{y2})<|box_end|>"
        return f"[{x1}, {y1}, {x2}, {y2}]"
