"""Why a write to the data folder failed, in words a person can act on.

>>> write_failure(OSError(28, "No space left on device"))
'the disk is full (No space left on device)'
>>> import sqlite3; write_failure(sqlite3.OperationalError("attempt to write a readonly database"))
'the data folder is read-only (attempt to write a readonly database)'
"""

from __future__ import annotations

import errno

__all__ = ["write_failure"]


def write_failure(exc: BaseException) -> str:
    """``OSError`` gives its ``strerror``; SQLite says "database or disk is full" / "readonly database"."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    code = getattr(exc, "errno", None)
    lowered = text.lower()
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG) or "full" in lowered:
        return f"the disk is full ({text})"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or "readonly" in lowered or "read-only" in lowered:
        return f"the data folder is read-only ({text})"
    return text
