"""What uploads may hold on disk: bytes per visitor and in total, and how soon they go.

The web framework keeps every upload (for an hour, by default). An :class:`UploadLedger` admits an
upload only when the visitor's files still on disk, plus this one, fit the visitor's budget, and all
uploads together fit the total; it records the files each upload wrote and reclaims them early: a file
older than ``keep_s`` goes, and when the total would be passed, the oldest files (older than
``min_age_s``, so a file being used right now stays) go first. The ledger only removes files it
recorded. Sizes come from the request's declared length before a byte is written; a reservation
holds them until the upload has finished, so parallel uploads cannot all pass the same check.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> ledger = UploadLedger(visitor_bytes=100, total_bytes=150, keep_s=900, min_age_s=0)
>>> ticket = ledger.admit("ip:a", 60); _ = (folder / "one").write_bytes(b"x" * 60)
>>> ledger.finish(ticket, [folder / "one"])
60
>>> ledger.admit("ip:a", 60)
Traceback (most recent call last):
...
workbench.deployment.uploads.UploadQuotaError: your uploads already hold 60 bytes on this server; with this one (60 bytes) they would pass 100 bytes. Wait a few minutes for them to be reclaimed, or upload less at once
>>> ledger.release(ledger.admit("ip:b", 60)); ledger.held("ip:b")
0
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from workbench.errors import WorkbenchError

__all__ = ["UploadLedger", "UploadQuotaError"]


class UploadQuotaError(WorkbenchError):
    """An upload that would pass the visitor's or the server's budget (said in words)."""


def _size(n: int) -> str:
    return f"{n / (1 << 20):.3g} MB" if n >= 1 << 20 else f"{n} bytes"


@dataclass
class _File:
    key: str
    path: Path
    size: int
    at: float


@dataclass(frozen=True)
class Ticket:
    """A reservation made by :meth:`UploadLedger.admit`; give it back with ``finish`` or ``release``."""

    key: str
    size: int
    number: int


class UploadLedger:
    """Upload bytes on disk per visitor key and in total (0 = no bound for that one)."""

    def __init__(self, *, visitor_bytes: int, total_bytes: int, keep_s: float, min_age_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.visitor_bytes, self.total_bytes = visitor_bytes, total_bytes
        self.keep_s, self.min_age_s = keep_s, min_age_s
        self._clock = clock
        self._lock = threading.Lock()
        self._files: dict[Path, _File] = {}
        self._reserved: dict[int, Ticket] = {}
        self._numbers = 0

    def held(self, key: str | None = None) -> int:
        """Bytes recorded (and reserved) for ``key``, or for everyone."""
        with self._lock:
            return self._held(key)

    def _held(self, key: str | None) -> int:
        files = sum(f.size for f in self._files.values() if key is None or f.key == key)
        return files + sum(t.size for t in self._reserved.values() if key is None or t.key == key)

    def admit(self, key: str, size: int) -> Ticket:
        """Reserve ``size`` bytes for ``key``'s upload, or raise :class:`UploadQuotaError` in words."""
        self.reclaim()
        with self._lock:
            mine = self._held(key)
            if self.visitor_bytes and size > self.visitor_bytes:
                raise UploadQuotaError(f"this upload ({_size(size)}) is more than one visitor may keep on this server "
                                       f"({_size(self.visitor_bytes)}); upload fewer or smaller files at once")
            if self.visitor_bytes and mine + size > self.visitor_bytes:
                raise UploadQuotaError(f"your uploads already hold {_size(mine)} on this server; with this one "
                                       f"({_size(size)}) they would pass {_size(self.visitor_bytes)}. Wait a few "
                                       "minutes for them to be reclaimed, or upload less at once")
            if self.total_bytes and self._held(None) + size > self.total_bytes:
                self._make_room(self._held(None) + size - self.total_bytes)
                if self._held(None) + size > self.total_bytes:
                    raise UploadQuotaError("the server holds as many uploads as it may right now; try again in a "
                                           "few minutes")
            self._numbers += 1
            ticket = Ticket(key, size, self._numbers)
            self._reserved[ticket.number] = ticket
            return ticket

    def finish(self, ticket: Ticket, paths: Iterable[str | os.PathLike]) -> int:
        """Replace the reservation by the files the upload wrote; returns their bytes."""
        now = self._clock()
        total = 0
        with self._lock:
            self._reserved.pop(ticket.number, None)
            for raw in paths:
                path = Path(raw)
                try:
                    size = path.stat().st_size
                except OSError:
                    continue
                self._files[path] = _File(ticket.key, path, size, now)
                total += size
        return total

    def release(self, ticket: Ticket) -> None:
        """Drop a reservation whose upload failed."""
        with self._lock:
            self._reserved.pop(ticket.number, None)

    def forget(self, paths: Iterable[str | os.PathLike], *, remove: bool = False) -> None:
        """Stop counting files that were used up (removing them with ``remove``)."""
        with self._lock:
            for raw in paths:
                entry = self._files.pop(Path(raw), None)
                if entry is not None and remove:
                    _remove(entry.path)

    def reclaim(self) -> list[Path]:
        """Forget files that are gone; remove those older than ``keep_s``. Returns the files removed."""
        now = self._clock()
        removed = []
        with self._lock:
            for path, entry in list(self._files.items()):
                if not path.exists():
                    del self._files[path]
                elif self.keep_s and now - entry.at > self.keep_s:
                    _remove(path)
                    del self._files[path]
                    removed.append(path)
        return removed

    def _make_room(self, needed: int) -> None:
        """Remove the oldest files (older than ``min_age_s``) until ``needed`` bytes are free (lock held)."""
        now = self._clock()
        for entry in sorted(self._files.values(), key=lambda f: f.at):
            if needed <= 0 or now - entry.at < self.min_age_s:
                break
            _remove(entry.path)
            del self._files[entry.path]
            needed -= entry.size


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        return
    with contextlib.suppress(OSError):  # the framework keeps each upload in a folder of its own
        path.parent.rmdir()
