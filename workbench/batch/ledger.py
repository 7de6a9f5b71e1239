"""The bookkeeping every batch engine shares: which units run, what was stored, the summary.

One :class:`BatchLedger` per run. ``admit`` skips units already done with the same settings
(asking the sink) and repeated keys; ``record`` hands an outcome to the sink (one transaction)
and updates the counts and the progress callback. Engines call both from one thread.

>>> from grounding import PixelLimits
>>> from workbench.batch.sinks import MemorySink
>>> from workbench.batch.units import JobSettings, WorkUnit
>>> ledger = BatchLedger(MemorySink(), JobSettings("m", "qwen2.5-vl", PixelLimits(3136, 1003520)), total=2)
>>> unit = WorkUnit("a", ("a.png",), prompt="p")
>>> ledger.admit(unit), ledger.admit(unit)
(True, False)
>>> ledger.record(unit, UnitError(ledger.settings.key("p"), "a.png: not an image", "input"))
>>> ledger.summary().failed, ledger.summary().duplicates
(1, 1)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from workbench.batch.progress import BatchProgress
from workbench.batch.results import UnitError, UnitResult
from workbench.batch.sinks import ResultSink
from workbench.batch.units import JobSettings, WorkUnit

__all__ = ["BatchLedger", "BatchSummary"]

ProgressCallback = Callable[[BatchProgress], None]


@dataclass(frozen=True)
class BatchSummary:
    """How a run ended. ``stopped`` is None when every unit was processed, else why it stopped early
    (cancelled, servers unavailable); the units it did not reach are done by the next run."""

    written: int
    failed: int
    skipped: int
    duplicates: int
    elapsed_s: float
    failures: tuple[tuple[str, str], ...] = ()
    stopped: str | None = None

    @property
    def complete(self) -> bool:
        return self.stopped is None

    def lines(self, shown_failures: int = 10, again: str = "run the same command again to go on") -> list[str]:
        """Plain lines: counts, then the first failures; ``again`` says how a run stopped early goes on (a terminal's
        words by default; the app's Batch page says its own)."""
        head = f"{self.written} annotated, {self.failed} failed, {self.skipped} already done"
        if self.duplicates:
            head += f", {self.duplicates} repeated keys ignored"
        lines = [head + f" ({self.elapsed_s:.1f} s)"]
        for key, message in self.failures[:shown_failures]:
            lines.append(f"  failed {key}: {message}")
        if len(self.failures) > shown_failures:
            lines.append(f"  ... and {len(self.failures) - shown_failures} more failures")
        if self.stopped:
            lines.append(f"stopped early: {self.stopped}; {again}")
        return lines


class BatchLedger:
    """Counts and sink calls of one run (not thread-safe: one engine thread calls it)."""

    def __init__(
        self,
        sink: ResultSink,
        settings: JobSettings,
        *,
        total: int | None = None,
        on_progress: ProgressCallback | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink = sink
        self.settings = settings
        self.total = total
        self.on_progress = on_progress
        self._clock = clock
        self._started = clock()
        self._seen: set[str] = set()
        self.written = self.failed = self.skipped = self.duplicates = 0
        self.failures: list[tuple[str, str]] = []
        self.last_key: str | None = None

    def admit(self, unit: WorkUnit) -> bool:
        """True when the unit is to be run now; False for a repeated key or one done before."""
        if unit.key in self._seen:
            self.duplicates += 1
            return False
        self._seen.add(unit.key)
        if self.sink.done(unit.key, self.settings.key(unit.prompt)):
            self.skipped += 1
            self._report(unit.key)
            return False
        return True

    def record(self, unit: WorkUnit, outcome: UnitResult | UnitError) -> None:
        """Store one outcome (one sink transaction) and report progress."""
        if isinstance(outcome, UnitResult):
            self.sink.write(outcome)
            self.written += 1
        else:
            self.sink.fail(unit, outcome)
            self.failed += 1
            self.failures.append((unit.key, outcome.message))
        self._report(unit.key)

    def progress(self) -> BatchProgress:
        return BatchProgress(
            total=self.total, written=self.written, failed=self.failed, skipped=self.skipped,
            elapsed_s=self._clock() - self._started, last_key=self.last_key,
        )

    def _report(self, key: str) -> None:
        self.last_key = key
        if self.on_progress is not None:
            self.on_progress(self.progress())

    def summary(self, stopped: str | None = None) -> BatchSummary:
        return BatchSummary(
            written=self.written, failed=self.failed, skipped=self.skipped, duplicates=self.duplicates,
            elapsed_s=self._clock() - self._started, failures=tuple(self.failures), stopped=stopped,
        )
