"""The dataset store: SQLite (WAL) + content-hashed image copies under a user-chosen data dir.

>>> from workbench.store import DatasetStore, AnnotationDraft
"""

from workbench.store.blobs import Blob, ImageBlobs
from workbench.store.datadir import DATA_DIR_ENV, DB_NAME, resolve_data_dir
from workbench.store.records import (
    KINDS,
    PROVENANCES,
    STATUSES,
    Annotation,
    AnnotationDraft,
    Dataset,
    Edit,
    ImageSource,
    Sample,
    SampleImage,
)
from workbench.store.store import DatasetRef, DatasetStore, utc_now

__all__ = [
    "DATA_DIR_ENV",
    "DB_NAME",
    "KINDS",
    "PROVENANCES",
    "STATUSES",
    "Annotation",
    "AnnotationDraft",
    "Blob",
    "Dataset",
    "DatasetRef",
    "DatasetStore",
    "Edit",
    "ImageBlobs",
    "ImageSource",
    "Sample",
    "SampleImage",
    "resolve_data_dir",
    "utc_now",
]
