"""The dataset store: SQLite (WAL) + content-hashed image copies under a user-chosen data dir.

:class:`DatasetStore` is the facade; behind it, one module per concern, each functions over one
connection (:mod:`~workbench.store.db`): datasets, labels, items, queue, actions (+ history), runs, jobs,
splits, evaluations.
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
    Evaluation,
    EvaluationCell,
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
    RunAnswer,
    clean_label,
)
from workbench.store.schema import SPLITS
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
    "Evaluation",
    "EvaluationCell",
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
    "RunAnswer",
    "SPLITS",
    "StaleItemError",
    "clean_label",
    "resolve_data_dir",
    "utc_now",
]
