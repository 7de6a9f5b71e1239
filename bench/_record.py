"""Benchmark records: one JSON file per benchmark, with summary rows that ``python -m bench`` tabulates.

A benchmark script measures, then calls :func:`write_record` with its details (anything JSON) and
zero or more :class:`Row` objects: the figures for the summary table (benchmark, ours, peer,
ratio, goal, pass, units, notes). ``ratio`` is always ``ours / peer``; the :class:`Goal` says
which way is good (time: at most; throughput: at least) and whether it judges ``ours`` or the
ratio, so ``pass`` is computed, never typed in.

>>> row = Row("draw 50 boxes", ours=24.0, peer=150.0, units="ms", goal=Goal.ours_at_most(30))
>>> round(row.ratio, 2), row.passed, str(row.goal)
(0.16, True, 'ours ≤ 30 ms')
>>> Row("parse", ours=9000.0, peer=10000.0, units="outputs/s", goal=Goal.ratio_at_least(1)).passed
False
>>> Row("fuzz", ours=0.0, units="exceptions", goal=Goal.ours_at_most(0)).as_dict()["pass"]
True
"""

from __future__ import annotations

import json
import math
import os
import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

__all__ = ["RESULTS", "Goal", "Row", "versions", "write_record", "read_rows"]

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Goal:
    """What passing means: ``on`` ("ours" or "ratio") is at most (or at least) ``limit``."""

    on: str
    at_most: bool
    limit: float

    def __post_init__(self) -> None:
        if self.on not in ("ours", "ratio"):
            raise ValueError(f"a goal judges 'ours' or 'ratio', not {self.on!r}")

    @classmethod
    def ours_at_most(cls, limit: float) -> Goal:
        return cls("ours", True, limit)

    @classmethod
    def ours_at_least(cls, limit: float) -> Goal:
        return cls("ours", False, limit)

    @classmethod
    def ratio_at_most(cls, limit: float) -> Goal:
        return cls("ratio", True, limit)

    @classmethod
    def ratio_at_least(cls, limit: float) -> Goal:
        return cls("ratio", False, limit)

    def met(self, ours: float, ratio: float | None) -> bool | None:
        """Whether the figures meet the goal; None when the ratio is needed but there is no peer."""
        value = ours if self.on == "ours" else ratio
        if value is None or math.isnan(value):
            return None
        return value <= self.limit if self.at_most else value >= self.limit

    def describe(self, units: str = "") -> str:
        """``ours ≤ 30 ms``, ``ratio ≥ 1``."""
        limit = f"{self.limit:g}" + (f" {units}" if units and self.on == "ours" else "")
        return f"{self.on} {'≤' if self.at_most else '≥'} {limit}"

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class Row:
    """One line of the summary table. ``peer`` is measured in the same run, in the same ``units``."""

    benchmark: str
    ours: float
    units: str
    peer: float | None = None
    goal: Goal | None = None
    notes: str = ""

    @property
    def ratio(self) -> float | None:
        """``ours / peer`` (None without a peer, or with a peer of 0)."""
        if self.peer is None or self.peer == 0:
            return None
        return self.ours / self.peer

    @property
    def passed(self) -> bool | None:
        return None if self.goal is None else self.goal.met(self.ours, self.ratio)

    def as_dict(self) -> dict:
        """The JSON form (also what :func:`read_rows` gives back)."""
        goal = self.goal
        return {
            "benchmark": self.benchmark, "ours": self.ours, "peer": self.peer, "ratio": self.ratio,
            "goal": goal.describe(self.units) if goal else None, "pass": self.passed, "units": self.units,
            "notes": self.notes,
            "goal_spec": {"on": goal.on, "at_most": goal.at_most, "limit": goal.limit} if goal else None,
        }

    def __str__(self) -> str:
        peer = "" if self.peer is None else f"  peer {self.peer:.4g} {self.units}  ratio {self.ratio:.3g}"
        verdict = {True: "pass", False: "FAIL", None: "-"}[self.passed]
        goal = f"  goal {self.goal.describe(self.units)}: {verdict}" if self.goal else ""
        return f"{self.benchmark}: ours {self.ours:.4g} {self.units}{peer}{goal}"


def versions(*packages: str) -> dict[str, str]:
    found = {}
    for package in packages:
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def write_record(name: str, payload: dict, packages: tuple[str, ...] = (), rows: Sequence[Row] = ()) -> Path:
    """Write ``bench/results/NAME.json``: machine, versions, ``payload``, and the summary ``rows``."""
    RESULTS.mkdir(exist_ok=True)
    record = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"python": platform.python_version(), "cpu_count": os.cpu_count(), "platform": platform.platform()},
        "versions": versions(*packages),
        **payload,
        "rows": [row.as_dict() for row in rows],
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(record, indent=2))
    for row in rows:
        print(row)
    return path


def read_rows(path: Path) -> list[dict]:
    """The summary rows of a record file (``[]`` for records written without rows)."""
    return list(json.loads(path.read_text(encoding="utf-8")).get("rows", []))
