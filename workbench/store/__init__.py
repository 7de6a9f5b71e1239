"""The dataset store: SQLite (WAL) + content-hashed image copies under a user-chosen data dir.

:class:`DatasetStore` is the facade; behind it, one module per concern, each functions over one
connection (:mod:`~workbench.store.db`): datasets, labels, items, queue, actions (+ history), runs, jobs.
Records (:mod:`~workbench.store.records`) are frozen dataclasses, never rows.

>>> from workbench.store import DatasetStore, AnnotationDraft, ItemFilter, ItemStatus
"""

from workbench.store.blobs import Blob, ImageBlobs
from workbench.store.datadir import DATA_DIR_ENV, DB_NAME, resolve_data_dir
from workbench.store.records import (
    ITEM_STATUSES,
    KINDS,
    PROVENANCES,
    Action,
    Annotation,
    AnnotationDraft,
    Dataset,
    ImageSource,
    Item,
    ItemFilter,
    ItemImage,
    ItemRow,
    ItemStatus,
    Job,
    Label,
    Proposal,
    QueuePage,
    Run,
    clean_label,
)
from workbench.store.store import DatasetRef, DatasetStore, StaleItemError, utc_now

__all__ = [
    "DATA_DIR_ENV",
    "DB_NAME",
    "ITEM_STATUSES",
    "KINDS",
    "PROVENANCES",
    "Action",
    "Annotation",
    "AnnotationDraft",
    "Blob",
    "Dataset",
    "DatasetRef",
    "DatasetStore",
    "ImageBlobs",
    "ImageSource",
    "Item",
    "ItemFilter",
    "ItemImage",
    "ItemRow",
    "ItemStatus",
    "Job",
    "Label",
    "Proposal",
    "QueuePage",
    "Run",
    "StaleItemError",
    "clean_label",
    "resolve_data_dir",
    "utc_now",
]
