"""Shared bits of the bench scripts: run from the repository root (``python bench/NAME.py``)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bench._record import Row

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def write_result(name: str, result: dict[str, object], rows: Sequence[Row] = ()) -> Path:
    """The shared record format (``bench/_record.py``) with its summary ``rows``, and the parser's libraries' versions."""
    from bench._record import write_record

    return write_record(name, result, ("supervision", "json_repair", "pillow", "numpy"), rows=rows)


def best_of(repeats: int, fn) -> float:
    """Fastest of ``repeats`` wall-clock runs of ``fn()`` in seconds (least disturbed by other load)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)
