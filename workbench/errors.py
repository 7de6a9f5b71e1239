"""The one error root of the application core, and what a boundary shows a person.

    WorkbenchError           something the user can act on; the message says what happened in words
     ├── BackendError        a model backend could not load or answer
     ├── StoreError          the dataset store could not read or write
     │    └── StaleItemError the item changed elsewhere since it was shown (carries the fresh item)
     ├── ExportError         an export could not be written, or would not load in its trainer
     └── ...                 UploadError, DatasetImportError, WorkspaceError, ImageSetError

``grounding`` has its own root, :class:`grounding.GroundingError` (bad arguments: an unknown family,
impossible limits, a file that is not an image). Boundaries — the UI's notice area, the CLI, the
public API — catch :data:`USER_ERRORS` and show the message; anything else is a bug, shown as one.

>>> issubclass(BackendError, WorkbenchError)
True
"""

from __future__ import annotations

from grounding.errors import GroundingError

__all__ = ["USER_ERRORS", "BackendError", "ExportError", "StoreError", "WorkbenchError"]


class WorkbenchError(Exception):
    """Something the user can act on; the message says what happened in words."""


class BackendError(WorkbenchError):
    """A model backend could not load or answer."""


class StoreError(WorkbenchError):
    """The dataset store could not read or write."""


class ExportError(WorkbenchError):
    """An export could not be written or would not load in its trainer."""


USER_ERRORS: tuple[type[Exception], ...] = (WorkbenchError, GroundingError)
"""Errors whose message is meant for the person (bad input, a refused action)."""
