"""The ``--data-dir`` option shared by the dataset, import and export commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.errors import StoreError
from workbench.store import DATA_DIR_ENV, DatasetStore
from workbench.store.datadir import DB_NAME, resolve_data_dir
from workbench.store.probe import store_problem

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar=DATA_DIR_ENV, file_okay=False,
                 help=f"Folder of the dataset store (default: ${DATA_DIR_ENV}, else the user data folder)."),
]


def open_store(data_dir: Path | None) -> DatasetStore:
    """The data folder's store, after every page of its file was read back (a damaged file is said in words, as
    the app's banner says it, and left as it is)."""
    problem = store_problem(resolve_data_dir(data_dir) / DB_NAME, thorough=True)
    if problem is not None:
        raise StoreError(f"cannot open the dataset store: {problem}; the file was left as it is")
    return DatasetStore.open(data_dir)
