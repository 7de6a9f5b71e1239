"""Grounding on dataset items: the model (or a pasted output) -> parsed detections -> the item's proposals.

One path for every way a model's answer reaches an item — a run from the review screen, a pasted
output, a batch — so provenance, clamping and the "never overwrite human work" rule are the same
everywhere. The geometry used to read the answer is the one the model really had: the backend's
report for a run, the dataset's family and pixel limits for a pasted output.

>>> import tempfile
>>> from PIL import Image
>>> from workbench.store import DatasetStore
>>> folder = Path(tempfile.mkdtemp()); Image.new("RGB", (640, 480)).save(folder / "a.png")
>>> store = DatasetStore(folder / "db.sqlite3")
>>> item = store.add_item(store.create_dataset("pets"), [folder / "a.png"])
>>> outcome = paste_on_item(store, item.id, '[{"bbox_2d": [322, 238, 644, 476], "label": "cat"}]',
...                         Reading("qwen2.5-vl"))
>>> outcome.applied, [(a.label, a.coords, a.provenance) for a in outcome.item.annotations]
(True, [('cat', (320.0, 240.0, 640.0, 480.0), 'model')])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grounding import (
    PixelLimits,
    ProcessedImage,
    clamp_to,
    process_size,
)
from grounding.confidence import repeating_tail
from grounding.parse import EMPTY_ANSWER_NOTE, ParseResult, parse_grounding
from workbench.backends import GroundingRequest, ModelBackend
from workbench.backends.base import DEFAULT_TOP_LOGPROBS, RawOutput
from workbench.confidence.scoring import answer_signals, dataset_scorer
from workbench.errors import WorkbenchError
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS, Reading
from workbench.runs.agreement import AGREEMENT_MODES, box_agreement, second_answer
from workbench.runs.pipeline import parse_output
from workbench.store import AnnotationDraft, DatasetStore, Item

__all__ = ["LOOP_NOTE", "ItemRunOutcome", "answer_notes", "drafts_from", "drafts_with_signals",
           "item_geometry", "paste_on_item", "run_on_item"]

LOOP_NOTE = "the answer repeats itself (a repeated-output loop): its later boxes are likely copies"
"""Said on an item whose answer loops (the same object again and again, or the same text to the end)."""

PASTED_MODEL = "pasted output"


@dataclass(frozen=True)
class ItemRunOutcome:
    item: Item
    applied: bool
    """True when the answer became the item's annotations; False when it was kept beside human work."""
    detections: int
    warnings: tuple[str, ...]
    text: str
    empty: bool = False
    """The model answered that there is nothing to find (an explicit empty answer)."""
    calibrated: bool = False
    """The boxes' scores are calibrated probabilities (else raw signals)."""
    reasoning: str = ""
    """What the model reasoned before answering (shown folded), "" when it did not."""
    thinking: str = ""
    """Whether thinking was in effect, in words ("" when the model has no thinking)."""


def item_geometry(item: Item, settings: Reading) -> list[ProcessedImage]:
    """What the model sees of each image of the item, with the dataset's family and limits."""
    return [process_size(image.wh, settings.model_family, settings.limits) for image in item.images]


def drafts_from(result: ParseResult, images: Sequence[tuple[int, int]], *,
                fallback_label: str = "") -> tuple[list[list[AnnotationDraft]], list[str]]:
    """Parsed detections as annotation drafts per image, clamped into their image (and marked when they left it).

    Boxes with nothing left inside the image are dropped, with a warning. A box the model wrote
    without a label is kept, marked ``label_missing``, and named ``fallback_label`` (what the prompt
    asked for, when known) so that it can be reviewed like the others.
    """
    per_image, _, warnings = drafts_with_signals(result, images, fallback_label=fallback_label)
    return per_image, warnings


def drafts_with_signals(result: ParseResult, images: Sequence[tuple[int, int]], signals: Sequence[Mapping[str, Any]] = (),
                        *, fallback_label: str = "", score: Callable[[Mapping[str, Any]], float] | None = None,
                        ) -> tuple[list[list[AnnotationDraft]], list[list[dict[str, Any]]], list[str]]:
    """:func:`drafts_from`, with each detection's ``signals`` (one per detection, in order) kept beside its draft
    per image, and the draft scored with ``score(signals)``."""
    per_image: list[list[AnnotationDraft]] = [[] for _ in images]
    per_image_signals: list[list[dict[str, Any]]] = [[] for _ in images]
    dropped = unnamed = clamped = 0
    for index, d in enumerate(result.detections):
        found = dict(signals[index]) if index < len(signals) else {}
        wh = images[d.image - 1]
        coords = clamp_to(d.original, wh)
        if d.kind == "box" and (coords[2] - coords[0] < 1e-6 or coords[3] - coords[1] < 1e-6):
            dropped += 1
            continue
        clamped += d.outside
        attributes = {k: v for k, v in d.attributes.items() if k not in {"image", "img_idx", "image_id"}}
        attributes["model_coords"] = list(d.model)
        if d.outside:
            attributes["outside"] = True
        label = d.label
        if not label.strip() and fallback_label.strip():
            label, unnamed = fallback_label.strip(), unnamed + 1
        value = score(found) if score is not None and found else None
        per_image[d.image - 1].append(AnnotationDraft(d.kind, coords, label, "model", attributes=attributes,
                                                      score=value))
        per_image_signals[d.image - 1].append(found)
    warnings = [f"{clamped} box(es)/point(s) reaching beyond their image were clamped into it (the model's "
                "coordinates are kept with each)"] if clamped else []
    if dropped:
        warnings.append(f"{dropped} box(es) lay wholly outside their image and were left out")
    if unnamed:
        warnings.append(f"{unnamed} box(es) came without a label and were named '{fallback_label.strip()}' "
                        "(what the prompt asked for); rename them if that is wrong")
    return per_image, per_image_signals, warnings


def answer_notes(text: str, signals: Sequence[Mapping[str, Any]], empty: bool) -> tuple[str, ...]:
    """What an answer says about itself, for the item: an explicit empty answer, a repeated-output loop."""
    notes = [EMPTY_ANSWER_NOTE] if empty else []
    if any(s.get("loop") for s in signals) or (not signals and repeating_tail(text)):
        notes.append(LOOP_NOTE)
    return tuple(notes)


def _record(store: DatasetStore, item: Item, result: ParseResult, text: str, *, model: str, family: str,
            settings: Mapping[str, Any], extra_warnings: Sequence[str], expected_version: int | None,
            fallback_label: str = "", signals: Sequence[Mapping[str, Any]] = (), thinking: str = "") -> ItemRunOutcome:
    score, calibrated = dataset_scorer(store, item.dataset_id)
    per_image, per_image_signals, warnings = drafts_with_signals(
        result, [image.wh for image in item.images], signals, fallback_label=fallback_label, score=score)
    run = store.run(item.dataset_id, model=model, family=family, settings=settings)
    said = result.warnings_except("outside")  # said below as what was done with them
    all_warnings = (*extra_warnings, *answer_notes(text, signals, result.empty), *said, *warnings)
    updated, applied = store.record_proposals(run.id, item.id, per_image, text=text, warnings=all_warnings,
                                              expected_version=expected_version, signals=per_image_signals)
    return ItemRunOutcome(updated, applied, sum(len(p) for p in per_image), tuple(all_warnings), text, result.empty,
                          calibrated, result.reasoning, thinking)


def paste_on_item(store: DatasetStore, item_id: int, text: str, settings: Reading, *,
                  target_image: int | None = None, expected_version: int | None = None,
                  fallback_label: str = "") -> ItemRunOutcome:
    """Read a pasted model output for the item with the dataset's geometry and store it as a run's proposals."""
    item = store.item(item_id)
    if not text.strip():
        raise WorkbenchError("paste a model output first")
    geometry = item_geometry(item, settings)
    result = parse_grounding(text, settings.model_family, geometry, target_image=target_image,
                             image_ids=[image.image_id for image in item.images],
                             coordinate_keys=settings.coordinate_keys)
    signals = answer_signals(text, result.detections, geometry, labels=_label_set(store, item))
    return _record(store, item, result, text, model=PASTED_MODEL, family=settings.family,
                   settings={**settings.as_dict(), "target_image": target_image}, extra_warnings=(),
                   expected_version=expected_version, fallback_label=fallback_label, signals=signals)


def _label_set(store: DatasetStore, item: Item) -> list[str]:
    return [label.name for label in store.labels(item.dataset_id, counts=False)]


def output_signals(store: DatasetStore, item: Item, output: RawOutput, detections: Sequence[Any]) -> list[dict[str, Any]]:
    """The signals of each detection of a model's answer on the item (tokens, structure, the dataset's labels)."""
    return answer_signals(output.text, detections, output.images, tokens=output.token_logprobs,
                          finish_reason=output.finish_reason, labels=_label_set(store, item))


def run_on_item(store: DatasetStore, backend: ModelBackend, item_id: int, prompt: str, *,
                limits: PixelLimits | None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS, add_vision_id: bool | None = None,
                on_text: Callable[[str], None] | None = None, expected_version: int | None = None,
                request_settings: Mapping[str, Any] | None = None, fallback_label: str = "",
                coordinate_keys: Sequence[str] = (), logprobs: int = DEFAULT_TOP_LOGPROBS,
                agreement: str | None = None, convention: str | None = None,
                thinking: bool = False) -> ItemRunOutcome:
    """Run the model on the item's images and store the answer as the run's proposals on the item.

    The answer is parsed with the geometry the backend reports for this very call (the processor's
    ``image_grid_thw`` locally), never with assumed limits. ``logprobs`` alternatives per token are asked
    for the boxes' confidence (0: none); ``agreement`` (``budget`` or ``mirror``) asks a second time and
    records each box's IoU with its match (:mod:`workbench.runs.agreement`).
    """
    item = store.item(item_id)
    if agreement and agreement not in AGREEMENT_MODES:
        raise WorkbenchError(f"unknown agreement check {agreement!r}; expected one of {', '.join(AGREEMENT_MODES)}")
    request = GroundingRequest(images=tuple(Path(image.file) for image in item.images), prompt=prompt,
                               image_ids=tuple(image.image_id for image in item.images), add_vision_id=add_vision_id,
                               max_new_tokens=max_new_tokens, limits=limits, coordinate_keys=tuple(coordinate_keys),
                               logprobs=logprobs, convention=convention, thinking=thinking)
    output = backend.generate(request, on_text=on_text)
    run = parse_output(request, output)  # the one pipeline: the geometry of this very call, answers by image ID
    result = ParseResult(run.detections, empty=run.empty, reasoning=run.reasoning)
    signals = output_signals(store, item, output, run.detections)
    if agreement:
        again = second_answer(backend, request, output, agreement)
        for found, iou in zip(signals, box_agreement(run.detections, again, pictures=len(output.images))):
            if iou is not None:
                found.update(agreement=iou, agreement_mode=agreement)
    used = output.limits or limits
    settings = {"prompt": prompt, "max_new_tokens": max_new_tokens, **dict(request_settings or {}),
                **({"min_pixels": used.min_pixels, "max_pixels": used.max_pixels} if used else {}),
                **({"coordinate_keys": list(request.coordinate_keys)} if request.coordinate_keys else {}),
                **({"convention": convention} if convention else {}), "thinking": output.thinking.value}
    return _record(store, item, result, output.text, model=output.model, family=output.family.name,
                   settings=settings, extra_warnings=run.warnings, expected_version=expected_version,
                   fallback_label=fallback_label, signals=signals, thinking=output.thinking.note(output.max_new_tokens))
