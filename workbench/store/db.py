"""One SQLite connection behind a lock, and the store's two ways to use it: a read, or one write transaction.

Every store module is functions over a :class:`Database` (or, inside a transaction, over the open
``sqlite3.Connection``), so each concern keeps its SQL in one place while they all share one
connection, one lock and one clock.

>>> import tempfile, pathlib
>>> db = Database(pathlib.Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> with db.write() as conn:
...     _ = conn.execute("INSERT INTO datasets (owner, name, created_at) VALUES ('', 'pets', ?)", (db.clock(),))
>>> db.read("SELECT name FROM datasets")
[('pets',)]
>>> db.close()
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store.faults import write_failure
from workbench.store.migrations import migrate
from workbench.store.probe import store_problem
from workbench.store.schema import PRAGMAS

__all__ = ["Database", "utc_now"]


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


class Database:
    """The store's connection: WAL, ``busy_timeout``, migrated to the current schema when opened.

    Safe to share between the threads of one process (one connection behind a re-entrant lock);
    other processes may open the same file at the same time. ``durable=False`` trades the fsync per
    commit for WAL's ``NORMAL`` (safe if the process dies; the last commits may be lost on power loss).
    """

    def __init__(self, path: str | os.PathLike, *, busy_timeout_s: float = 10.0, durable: bool = True,
                 clock: Callable[[], str] = utc_now) -> None:
        self.path = Path(path)
        self.clock = clock
        self.lock = threading.RLock()
        problem = store_problem(self.path)  # read-only: nothing is written into a file that is not ours
        if problem is not None:
            raise StoreError(f"cannot open the dataset store: {problem}; the file was left as it is")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, timeout=busy_timeout_s, isolation_level=None,
                                        check_same_thread=False)
            for pragma in PRAGMAS:
                self.conn.execute(pragma)
            if not durable:
                self.conn.execute("PRAGMA synchronous=NORMAL")
            self.conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_s * 1000)}")
            migrate(self.conn, self.path)
        except (sqlite3.DatabaseError, OSError) as exc:
            raise StoreError(f"{self.path}: cannot open the dataset store ({exc})") from None

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        A failed write (disk full, read-only folder, I/O error) comes back as a :class:`StoreError`
        in words; SQLite may already have rolled the transaction back itself (it does on a full
        disk), so the rollback here is only attempted while a transaction is open.
        """
        with self.lock:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreError(f"the dataset store is busy or read-only ({exc})") from None
            try:
                yield self.conn
            except BaseException as exc:
                self._rollback()
                if isinstance(exc, (sqlite3.OperationalError, OSError)):  # disk full, read-only, I/O; not constraints
                    raise StoreError(f"nothing was saved: {write_failure(exc)}") from None
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlite3.DatabaseError as exc:
                self._rollback()
                raise StoreError(f"could not commit to the dataset store, nothing was saved: {write_failure(exc)}") from None

    def _rollback(self) -> None:
        if self.conn.in_transaction:
            with contextlib.suppress(sqlite3.DatabaseError):  # the connection may have undone it already
                self.conn.execute("ROLLBACK")

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.lock:
            try:
                return self.conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if type(exc) is not sqlite3.DatabaseError:  # busy, locked...: as they were
                    raise
                raise StoreError(f"the dataset store {self.path.name} is damaged ({exc})") from None
