"""The ``--data-dir`` option shared by the dataset, import and export commands."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.store import DATA_DIR_ENV, DatasetStore

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", envvar=DATA_DIR_ENV, file_okay=False,
                 help=f"Folder of the dataset store (default: ${DATA_DIR_ENV}, else the user data folder)."),
]


def open_store(data_dir: Path | None) -> DatasetStore:
    return DatasetStore.open(data_dir)
