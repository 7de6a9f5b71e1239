"""What every importer returns, and its error.

>>> ImportReport("demo", (1, 2), 5).samples
(1, 2)
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.errors import WorkbenchError

__all__ = ["DatasetImportError", "ImportReport"]


class DatasetImportError(WorkbenchError):
    """An import source is malformed; nothing was written to the store."""


@dataclass(frozen=True)
class ImportReport:
    dataset: str
    samples: tuple[int, ...]
    annotations: int
    warnings: tuple[str, ...] = ()
