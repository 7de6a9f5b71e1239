"""Where an evaluation cell's answers go: its eval run in the store, one item per transaction.

The batch runner (:func:`workbench.batch.run_batch`, or the Ray engine) drives it like any
:class:`~workbench.batch.ResultSink`; unlike the annotate sink it never touches the item: the answer
is parsed and clamped exactly as an annotate run's (:func:`workbench.runs.items.drafts_from`) and
stored as the run's proposals, with what it cost (``stats``: prompt and output tokens, seconds, whether
the token limit cut it, boxes beyond the image, the question asked). An item already answered by this
run is skipped, so a re-run resumes.
"""

from __future__ import annotations

from typing import Any

from grounding.parse import ParseResult
from workbench.batch.results import UnitError, UnitResult
from workbench.batch.units import WorkUnit
from workbench.runs.items import drafts_from
from workbench.store import DatasetStore

__all__ = ["EvalSink", "answer_stats"]


def answer_stats(result: UnitResult) -> dict[str, Any]:
    """What one answer cost and how it ended, as the run item keeps it."""
    return {
        "prompt_tokens": result.prompt_tokens,
        "output_tokens": result.completion_tokens,
        "seconds": round(result.timings.request_s, 4),
        "truncated": result.finish_reason == "length",
        "outside": sum(d.outside for image in result.images for d in image.detections),
        "prompt": result.prompt,
    }


class EvalSink:
    """Stores each answer of one eval run; ``unit_key`` is the item id."""

    def __init__(self, store: DatasetStore, run_id: int) -> None:
        self.store = store
        self.run_id = run_id

    def done(self, unit_key: str, settings_key: str) -> bool:
        return self.store.run_done(self.run_id, int(unit_key))

    def write(self, result: UnitResult) -> None:
        detections = tuple(d for image in result.images for d in image.detections)
        per_image, warnings = drafts_from(ParseResult(detections), [image.geometry.original_wh for image in result.images])
        self.store.record_eval_answer(self.run_id, int(result.unit_key), per_image, text=result.text,
                                      warnings=(*result.warnings, *warnings), stats=answer_stats(result))

    def fail(self, unit: WorkUnit, error: UnitError) -> None:
        self.store.record_eval_error(self.run_id, int(unit.key), f"{error.stage}: {error.message}",
                                     {"prompt": unit.prompt})
