"""Whether a store file can be used, found out without writing a byte to it.

Opening a store runs pragmas (WAL mode) and migrations, which write; on a file that is not the
workbench's (garbage, truncated, written by a newer version) that could make things worse. So the
file is looked at first, read-only and as it lies on disk (SQLite's ``immutable`` mode: no lock,
no journal, no write): its first bytes, its schema version, its table list, and with
``thorough`` every page (``PRAGMA quick_check``). The answer is a sentence for the person, or None.

>>> import tempfile
>>> folder = Path(tempfile.mkdtemp())
>>> store_problem(folder / "missing.sqlite3") is None
True
>>> _ = (folder / "junk.sqlite3").write_bytes(b"GIF89a" + bytes(5000))
>>> print(store_problem(folder / "junk.sqlite3"))
junk.sqlite3 is not an SQLite database (its first bytes are not SQLite's)
"""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path
from urllib.parse import quote

from workbench.store.schema import SCHEMA_VERSION

__all__ = ["SQLITE_HEADER", "store_problem"]

SQLITE_HEADER = b"SQLite format 3\x00"


def store_problem(db_path: str | os.PathLike, *, thorough: bool = False) -> str | None:
    """Why ``db_path`` cannot be opened as the dataset store, or None (it is fine, or does not exist yet)."""
    path = Path(db_path)
    name = path.name
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{name} cannot be read ({exc.strerror or exc})"
    if not stat.S_ISREG(info.st_mode):
        return f"{name} is not a file"
    if info.st_size == 0:
        return None  # SQLite makes an empty file a new database
    try:
        with open(path, "rb") as stream:
            head = stream.read(len(SQLITE_HEADER))
    except OSError as exc:
        return f"{name} cannot be read ({exc.strerror or exc})"
    if head != SQLITE_HEADER:
        return f"{name} is not an SQLite database (its first bytes are not SQLite's)"
    try:
        conn = sqlite3.connect(f"file:{quote(os.path.abspath(path))}?immutable=1", uri=True)
    except sqlite3.Error as exc:
        return f"{name} cannot be opened ({exc})"
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            return (f"{name} was written by a newer workbench (schema {version}; this one reads up to "
                    f"{SCHEMA_VERSION}): upgrade the workbench")
        conn.execute("SELECT name, sql FROM sqlite_master").fetchall()
        if thorough:
            found = [row[0] for row in conn.execute("PRAGMA quick_check(3)").fetchall()]
            if found != ["ok"]:
                return f"{name} is damaged ({'; '.join(str(f) for f in found)})"
    except sqlite3.DatabaseError as exc:
        return f"{name} is damaged ({exc})"
    finally:
        conn.close()
    return None
