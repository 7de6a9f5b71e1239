"""One batch orchestration for every entry point: ``workbench annotate``, the Batch page's jobs and evaluations.

Each of them opens its backend, resolves its :class:`~workbench.batch.units.JobSettings` and picks its sink (a
JSONL file, the store, an evaluation run); what follows is the same everywhere and lives here: units without a
prompt of their own get the job's (:class:`Ask`), the local model takes one call at a time, and the units run on
the chosen engine (threads, :func:`~workbench.batch.runner.run_batch`, or Ray Data) with progress and cancel.

>>> from PIL import Image
>>> from workbench.backends.fake import FakeBackend
>>> from workbench.batch import JobSettings, MemorySink, WorkUnit
>>> backend = FakeBackend(lambda request, geometry: '[{"bbox_2d": [10, 10, 50, 50], "label": "cat"}]')
>>> units = [WorkUnit("a", (Image.new("RGB", (64, 48)),), ("a",))]
>>> summary = run_units(units, backend, MemorySink(), JobSettings.for_backend(backend), ask=Ask(labels=("cat",)))
>>> summary.written
1
>>> Ask().check()
Traceback (most recent call last):
...
workbench.errors.WorkbenchError: say what to find: give labels (the family's own request for them) or a prompt
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from grounding import ModelFamily
from grounding.prompts import GroundingTask
from workbench.backends.base import ModelBackend
from workbench.batch.ledger import BatchSummary
from workbench.batch.progress import BatchProgress
from workbench.batch.runner import run_batch
from workbench.batch.sinks import ResultSink
from workbench.batch.units import JobSettings, WorkUnit, unit_prompt
from workbench.config import require_server
from workbench.errors import WorkbenchError
from workbench.run_settings import DEFAULT_CONCURRENCY, check_concurrency

__all__ = ["ENGINES", "Ask", "BatchRequest", "run_units"]

ENGINES = ("threads", "ray")
"""How a batch runs: threads in this process, or Ray Data (a cluster at ``RAY_ADDRESS``, else a local one)."""


@dataclass(frozen=True)
class Ask:
    """What a unit without a prompt of its own asks: the person's ``prompt``, or the family's own request for
    ``labels`` (one of the two), for ``task`` (boxes or points)."""

    prompt: str = ""
    labels: tuple[str, ...] = ()
    task: str = GroundingTask.BOXES.value

    def check(self, *, prompt_word: str = "a prompt", labels_word: str = "labels") -> None:
        """Refuse neither and both, in the words of the entry point (``--prompt TEXT``, ``--labels a,b,c``)."""
        has_prompt, has_labels = bool(self.prompt.strip()), any(label.strip() for label in self.labels)
        if not has_prompt and not has_labels:
            raise WorkbenchError(f"say what to find: give {labels_word} (the family's own request for them) or "
                                 f"{prompt_word}")
        if has_prompt and has_labels:
            raise WorkbenchError(f"give either {prompt_word} or {labels_word} (the family's own request for them), "
                                 "not both")

    def prompted(self, units: Iterable[WorkUnit], family: ModelFamily | str) -> Iterator[WorkUnit]:
        """``units``, each with its own prompt or the job's for its images (read lazily)."""
        for unit in units:
            if unit.prompt:
                yield unit
            else:
                yield dataclasses.replace(unit, prompt=unit_prompt(family, unit.image_ids, prompt=self.prompt or None,
                                                                   labels=self.labels, task=self.task))


@dataclass(frozen=True)
class BatchRequest:
    """What every batch the app runs in the background asks of its model and server: the backend, the server
    (blank: the configured one), how many requests at once, and whether to probe the server's resizing first.
    The Batch page's :class:`~workbench.batch.jobs.JobRequest` and an evaluation's
    :class:`~workbench.evaluate.jobs.EvalRequest` add what they ask besides.

    >>> BatchRequest(concurrency=0).check()
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchError: requests at once must be between 1 and 64
    """

    backend: str = "openai"
    base_url: str = ""
    concurrency: int = DEFAULT_CONCURRENCY
    geometry_check: bool = True

    @property
    def local(self) -> bool:
        """The local model (one call at a time, no server to probe)."""
        return self.backend == "local"

    def check(self) -> None:
        """Refuse what cannot run, in words (an unknown backend, requests at once out of range, no server)."""
        if self.backend not in ("openai", "local"):
            raise WorkbenchError(f"backend must be openai or local, got {self.backend!r}")
        check_concurrency(self.concurrency)
        require_server(self.backend, self.base_url)


def run_units(units: Iterable[WorkUnit], backend: ModelBackend, sink: ResultSink, settings: JobSettings, *,
              ask: Ask | None = None, engine: str = "threads", local: bool = False,
              concurrency: int = DEFAULT_CONCURRENCY, total: int | None = None,
              on_progress: Callable[[BatchProgress], None] | None = None,
              cancel: threading.Event | None = None) -> BatchSummary:
    """Run ``units`` into ``sink``: prompted by ``ask`` where they have none, one call at a time on a ``local``
    model, on ``engine``. Resumable: what ``sink`` holds is skipped."""
    if engine not in ENGINES:
        raise WorkbenchError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    prompted = ask.prompted(units, settings.family) if ask is not None else units
    at_once = 1 if local else concurrency
    if engine == "ray":
        from workbench.batch.ray_engine import run_batch_ray

        return run_batch_ray(prompted, backend, sink, settings, concurrency=at_once, total=total,
                             on_progress=on_progress, cancel=cancel)
    return run_batch(prompted, backend, sink, settings, concurrency=at_once, total=total, on_progress=on_progress,
                     cancel=cancel)
