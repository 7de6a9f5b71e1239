"""The one error root of the application core.

>>> issubclass(BackendError, WorkbenchError)
True
"""

from __future__ import annotations

__all__ = ["WorkbenchError", "BackendError", "StoreError", "ExportError"]


class WorkbenchError(Exception):
    """Something the user can act on; the message says what happened in words."""


class BackendError(WorkbenchError):
    """A model backend could not load or answer."""


class StoreError(WorkbenchError):
    """The dataset store could not read or write."""


class ExportError(WorkbenchError):
    """An export could not be written or would not load in its trainer."""
