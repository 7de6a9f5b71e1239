"""An evaluation as people and scripts read it: one JSON object per cell, one table row per cell.

>>> from workbench.store import Evaluation, EvaluationCell
>>> cell = EvaluationCell(3, 1, 1, 7, {"model": "m", "prompt": None, "max_pixels": None}, "done", {"items": 2, "acc50": 0.5})
>>> record = cell_json(Evaluation(1, 1, "", "val", {}, (4, 5), (cell,)), cell)
>>> record["model"], record["items"], record["metrics"]["acc50"], record["run_id"]
('m', 2, 0.5, 7)
>>> table_rows(Evaluation(1, 1, "", "val", {}, (4, 5), (cell,)))[0][:6]
[1, 'done', 'm', '(official)', None, 2]
"""

from __future__ import annotations

from typing import Any

from workbench.evaluate.grid import EvalSetup
from workbench.store import Evaluation, EvaluationCell

__all__ = ["TABLE_METRICS", "cell_json", "table_headers", "table_rows"]

TABLE_METRICS: tuple[str, ...] = ("acc50", "acc75", "miou", "center_acc", "map50_95", "map50", "f1",
                                  "parse_failures", "none_accuracy", "output_tokens", "seconds_per_item")
"""The metrics a table of cells shows (every metric is in the JSON)."""


def cell_json(evaluation: Evaluation, cell: EvaluationCell) -> dict[str, Any]:
    """One cell for scripts: ``model``, ``prompt``, ``max_pixels``, ``items``, ``metrics`` (snake_case keys),
    ``run_id``, and where it stands (``evaluation``, ``cell``, ``state``, ``error``)."""
    setup = EvalSetup.from_dict(cell.settings)
    metrics = dict(cell.metrics)
    return {"model": setup.model, "prompt": setup.prompt, "max_pixels": setup.max_pixels,
            "items": metrics.get("items", len(evaluation.items)), "metrics": metrics, "run_id": cell.run_id,
            "evaluation": evaluation.id, "cell": cell.position, "state": cell.state, "error": cell.error}


def table_headers() -> list[str]:
    return ["cell", "state", "model", "prompt", "max_pixels", "items", *TABLE_METRICS, "run"]


def _value(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


def table_rows(evaluation: Evaluation) -> list[list[Any]]:
    """One row per cell under :func:`table_headers` (numbers stay numbers, so a table sorts them as such; an
    empty max_pixels is the model's own budget)."""
    rows = []
    for cell in evaluation.cells:
        setup = EvalSetup.from_dict(cell.settings)
        rows.append([cell.position, cell.state, setup.model, setup.prompt or "(official)",
                     setup.max_pixels, cell.metrics.get("items", len(evaluation.items)),
                     *[_value(cell.metrics.get(k)) for k in TABLE_METRICS], cell.run_id])
    return rows
