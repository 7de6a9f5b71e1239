"""Where a batch puts its results: the :class:`ResultSink` protocol, an in-memory sink and a JSONL file.

The runner calls a sink from one thread only, one unit at a time, and each call is one
transaction: after ``write`` returns, the unit is stored whole; a crash before that leaves
nothing of it. ``done`` answers for resuming: a unit already written with the same settings
key is skipped (failures are retried on the next run).

>>> from workbench.batch.units import WorkUnit
>>> sink = MemorySink()
>>> sink.fail(WorkUnit("a", ("a.png",), prompt="p"), UnitError("k1", "a.png: not an image", "input"))
>>> sink.done("a", "k1"), sink.failures["a"].message
(False, 'a.png: not an image')
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any, Protocol, runtime_checkable

from workbench.batch.results import UnitError, UnitResult
from workbench.batch.units import WorkUnit
from workbench.errors import WorkbenchError

__all__ = ["ResultSink", "MemorySink", "JsonlSink"]


@runtime_checkable
class ResultSink(Protocol):
    """Stores a batch's outcomes, one unit per transaction."""

    def done(self, unit_key: str, settings_key: str) -> bool:
        """Whether this unit already has a result made with these settings (then it is skipped)."""
        ...

    def write(self, result: UnitResult) -> None:
        """Store a unit's result (for a dataset: predictions on the item, status pre-annotated)."""
        ...

    def fail(self, unit: WorkUnit, error: UnitError) -> None:
        """Record that a unit failed and why (the item keeps its annotations)."""
        ...


class MemorySink:
    """Results in dictionaries; ``writes`` lists every ``write`` in order (to check nothing is written twice)."""

    def __init__(self) -> None:
        self.results: dict[str, UnitResult] = {}
        self.failures: dict[str, UnitError] = {}
        self.writes: list[str] = []

    def done(self, unit_key: str, settings_key: str) -> bool:
        found = self.results.get(unit_key)
        return found is not None and found.settings_key == settings_key

    def write(self, result: UnitResult) -> None:
        self.results[result.unit_key] = result
        self.failures.pop(result.unit_key, None)
        self.writes.append(result.unit_key)

    def fail(self, unit: WorkUnit, error: UnitError) -> None:
        self.failures[unit.key] = error

    def written_twice(self) -> list[str]:
        return [key for key, count in Counter(self.writes).items() if count > 1]


class JsonlSink:
    """One JSON object per line: ``{"kind": "result", ...}`` or ``{"kind": "failure", ...}``.

    Each record is written with a single ``write`` and flushed to the operating system, so a
    killed process loses nothing it wrote and can at worst leave a partial last line; opening
    the file again drops that line (its unit is redone) and says so in ``repaired``. A damaged
    line anywhere else is refused, so nothing already annotated is silently lost. Against a
    machine crash the file is also ``fsync``-ed at most every ``sync_every_s`` seconds and on
    close (0: after every record): a crash loses at most that much work, which the next run
    redoes; it never leaves a unit half-written or written twice.
    """

    def __init__(self, path: str | os.PathLike[str], *, sync_every_s: float = 1.0) -> None:
        self.path = Path(path)
        self.sync_every_s = sync_every_s
        self._synced = time.monotonic()
        self.repaired: str | None = None
        self._done: dict[str, str] = {}
        self._handle: IO[str] | None = None
        self._load()

    def _load(self) -> None:
        if not self.path.exists():
            return
        data = self.path.read_bytes()
        complete = data[: data.rfind(b"\n") + 1]
        for number, line in enumerate(complete.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                unit_key, settings_key = str(record["unit_key"]), str(record.get("settings_key"))
            except (ValueError, KeyError, TypeError):
                raise WorkbenchError(f"{self.path}: line {number} is not a batch record; fix or move the file") from None
            if record.get("kind") == "result":
                self._done[unit_key] = settings_key
        if len(complete) < len(data):  # a write cut short by a kill: its unit was never stored
            self.repaired = f"dropped an unfinished last line of {self.path.name} (its unit will be redone)"
            with self.path.open("r+b") as handle:
                handle.truncate(len(complete))

    def _append(self, record: dict[str, Any]) -> None:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        self._handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._handle.flush()
        if time.monotonic() - self._synced >= self.sync_every_s:
            os.fsync(self._handle.fileno())
            self._synced = time.monotonic()

    def done(self, unit_key: str, settings_key: str) -> bool:
        return self._done.get(unit_key) == settings_key

    def write(self, result: UnitResult) -> None:
        self._append({"kind": "result", **result.as_dict()})
        self._done[result.unit_key] = result.settings_key

    def fail(self, unit: WorkUnit, error: UnitError) -> None:
        images = [os.fspath(i) if isinstance(i, (str, os.PathLike)) else n for i, n in zip(unit.images, unit.image_ids)]
        self._append({"kind": "failure", "unit_key": unit.key, "images": images, **error.as_dict()})

    def close(self) -> None:
        if self._handle is not None:
            self._handle.flush()
            os.fsync(self._handle.fileno())
            self._handle.close()
            self._handle = None

    def __enter__(self) -> JsonlSink:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
