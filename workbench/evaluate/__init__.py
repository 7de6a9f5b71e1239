"""Evaluate models, prompts and pixel budgets against a dataset's accepted boxes.

- :mod:`~workbench.evaluate.grid`: :class:`EvalGrid` (what is measured), :class:`EvalSetup` (one cell);
- :mod:`~workbench.evaluate.runner`: :func:`plan_evaluation`, :func:`run_evaluation` (each cell a batch into
  its own ``eval`` run, through :func:`workbench.batch.run_batch` or the Ray engine);
- :mod:`~workbench.evaluate.sink`: :class:`EvalSink` (answers stored, items never touched);
- :mod:`~workbench.evaluate.measure`: the run against the truth (metrics from :mod:`grounding.evaluation`);
- :mod:`~workbench.evaluate.compare`: two runs on the same items, with bootstrap intervals;
- :mod:`~workbench.evaluate.jobs`: evaluations started from the app, in the background.

>>> from workbench.evaluate import EvalGrid, plan_evaluation, run_evaluation
"""

from workbench.evaluate.grid import EvalGrid, EvalSetup, item_prompt
from workbench.evaluate.measure import ItemOutcome, item_outcomes, measure_run, scored_run
from workbench.evaluate.runner import plan_evaluation, run_evaluation
from workbench.evaluate.sink import EvalSink

__all__ = ["EvalGrid", "EvalSetup", "EvalSink", "ItemOutcome", "item_outcomes", "item_prompt", "measure_run",
           "plan_evaluation", "run_evaluation", "scored_run"]
