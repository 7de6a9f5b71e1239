"""Where a batch stands: counts, rate and ETA, for a progress bar or a UI poll.

>>> p = BatchProgress(total=10, written=3, failed=1, skipped=2, elapsed_s=2.0)
>>> p.processed, p.remaining, p.rate, p.eta_s
(4, 4, 2.0, 2.0)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BatchProgress"]


@dataclass(frozen=True)
class BatchProgress:
    """A snapshot: ``total`` units in the job (None while unknown), how many were written, failed,
    skipped (done before with the same settings, or repeated keys), seconds since the start."""

    total: int | None
    written: int = 0
    failed: int = 0
    skipped: int = 0
    elapsed_s: float = 0.0
    last_key: str | None = None

    @property
    def processed(self) -> int:
        """Units this run sent to the model (written or failed)."""
        return self.written + self.failed

    @property
    def remaining(self) -> int | None:
        return None if self.total is None else max(self.total - self.skipped - self.processed, 0)

    @property
    def rate(self) -> float:
        """Units per second processed by this run."""
        return self.processed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        remaining = self.remaining
        if remaining is None or self.rate <= 0:
            return None
        return remaining / self.rate

    def as_dict(self) -> dict[str, object]:
        return {
            "total": self.total, "written": self.written, "failed": self.failed, "skipped": self.skipped,
            "elapsed_s": round(self.elapsed_s, 3), "rate": round(self.rate, 3),
            "eta_s": None if self.eta_s is None else round(self.eta_s, 1),
        }
