"""What every importer returns, and its error.

>>> ImportReport("demo", (1, 2), 5, duplicates=1).as_dict()
{'dataset': 'demo', 'items': 2, 'annotations': 5, 'duplicates': 1, 'skipped': 0, 'warnings': []}
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
    items: tuple[int, ...]
    """Ids of the items created, in order."""
    annotations: int
    warnings: tuple[str, ...] = ()
    duplicates: int = 0
    """Images the dataset already held (same content): not added again."""
    skipped: int = 0
    """Files that could not be read as images (named in ``warnings``)."""

    def as_dict(self) -> dict[str, object]:
        return {"dataset": self.dataset, "items": len(self.items), "annotations": self.annotations,
                "duplicates": self.duplicates, "skipped": self.skipped, "warnings": list(self.warnings)}
