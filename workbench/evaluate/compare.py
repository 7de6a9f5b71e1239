"""Two eval runs on the items both measured: every metric's difference with its paired bootstrap 95 %
interval (:func:`grounding.evaluation.compare.paired_bootstrap`), and the items that got worse.

Both runs are scored afresh against the items' accepted boxes as they are now, on the items both of their
evaluations measured (in the first one's order): a difference says how ``b`` does next to ``a`` on the very
same questions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from grounding.evaluation.compare import Difference, ItemChange, paired_bootstrap, worse_items
from workbench.errors import WorkbenchError
from workbench.evaluate.measure import scored_run
from workbench.store import DatasetStore, Evaluation, Run

__all__ = ["RunComparison", "compare_runs", "evaluation_of"]


def evaluation_of(store: DatasetStore, run: Run) -> Evaluation:
    """The evaluation an eval run belongs to (a run of another kind is refused in words)."""
    evaluation_id = run.settings.get("evaluation") if run.kind == "eval" else None
    if not isinstance(evaluation_id, int):
        raise WorkbenchError(f"run {run.id} is not an evaluation run (it annotated items); compare the runs "
                             "`workbench eval` made (their ids are in its output)")
    return store.evaluation(evaluation_id)


@dataclass(frozen=True)
class RunComparison:
    a: Run
    b: Run
    items: int
    """Items both runs' evaluations measured (and still in the dataset)."""
    differences: tuple[Difference, ...]
    worse: tuple[ItemChange, ...]
    """Items whose quality dropped from ``a`` to ``b``, the largest drop first (``key`` is the item id)."""
    resamples: int

    def as_dict(self) -> dict[str, Any]:
        return {"run_a": self.a.id, "run_b": self.b.id, "items": self.items, "resamples": self.resamples,
                "metrics": {d.metric: d.as_dict() for d in self.differences},
                "worse": [{"item": int(c.key), "a": c.a, "b": c.b} for c in self.worse]}


def compare_runs(store: DatasetStore, run_a: int, run_b: int, *, resamples: int = 1000,
                 seed: int = 0) -> RunComparison:
    a, b = store.run_record(run_a), store.run_record(run_b)
    first, second = evaluation_of(store, a), evaluation_of(store, b)
    if first.dataset_id != second.dataset_id:
        raise WorkbenchError(f"runs {run_a} and {run_b} measured different datasets; compare runs of one dataset")
    shared = set(second.items)
    items = [i for i in first.items if i in shared]
    if not items:
        raise WorkbenchError(f"runs {run_a} and {run_b} measured no item in common")
    kept_a, scored_a = scored_run(store, first, run_a, items)
    _, scored_b = scored_run(store, second, run_b, [item.id for item in kept_a])
    differences = paired_bootstrap(scored_a, scored_b, resamples=resamples, seed=seed)
    return RunComparison(a, b, scored_a.count, tuple(differences.values()), tuple(worse_items(scored_a, scored_b)),
                         resamples)
