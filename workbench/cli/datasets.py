"""``workbench dataset ...`` (list, create, rename, delete) and ``workbench import ...``.

Imports: coco, yolo, labelstudio, hf, workbench (this project's export) and outputs (model answers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from workbench.cli.data_options import DataDirOption, open_store
from workbench.cli.options import DEFAULT_FAMILY, FamilyOption, MaxPixelsOption, MinPixelsOption, resolve
from workbench.errors import WorkbenchError
from workbench.importers import (
    ImportReport,
    import_coco,
    import_hf,
    import_labelstudio,
    import_model_outputs,
    import_workbench,
    import_yolo,
    read_outputs_jsonl,
)

dataset_app = typer.Typer(help="Create, list, rename and delete datasets.", no_args_is_help=True)
import_app = typer.Typer(help="Import COCO, YOLO, Label Studio or Hugging Face datasets, a workbench export, or "
                         "model outputs.", no_args_is_help=True)


def _fail(exc: WorkbenchError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


def _report(report: ImportReport) -> None:
    typer.echo(json.dumps({"dataset": report.dataset, "samples": len(report.samples),
                           "annotations": report.annotations, "warnings": list(report.warnings)}, indent=2))


@dataset_app.command("list")
def list_datasets(data_dir: DataDirOption = None) -> None:
    """Print the datasets as JSON: name, samples, created_at."""
    try:
        with open_store(data_dir) as store:
            rows = [{"name": d.name, "samples": d.samples, "created_at": d.created_at} for d in store.list_datasets()]
    except WorkbenchError as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))


@dataset_app.command("create")
def create(name: str, data_dir: DataDirOption = None) -> None:
    """Create an empty dataset."""
    try:
        with open_store(data_dir) as store:
            store.create_dataset(name)
    except WorkbenchError as exc:
        raise _fail(exc) from None


@dataset_app.command("rename")
def rename(name: str, new_name: str, data_dir: DataDirOption = None) -> None:
    """Rename a dataset."""
    try:
        with open_store(data_dir) as store:
            store.rename_dataset(name, new_name)
    except WorkbenchError as exc:
        raise _fail(exc) from None


@dataset_app.command("delete")
def delete(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
           data_dir: DataDirOption = None) -> None:
    """Delete a dataset, its samples, annotations and history."""
    if not yes and not typer.confirm(f"Delete dataset {name!r} and all its annotations?"):
        raise typer.Exit(code=1)
    try:
        with open_store(data_dir) as store:
            store.delete_dataset(name)
    except WorkbenchError as exc:
        raise _fail(exc) from None


@import_app.command("coco")
def coco(dataset: str, annotations: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
         images: Annotated[Path, typer.Argument(exists=True, file_okay=False)], data_dir: DataDirOption = None) -> None:
    """Import a COCO detection JSON (images under IMAGES) into DATASET (created if missing)."""
    try:
        with open_store(data_dir) as store:
            _report(import_coco(store, dataset, annotations, images))
    except WorkbenchError as exc:
        raise _fail(exc) from None


@import_app.command("yolo")
def yolo(dataset: str, folder: Annotated[Path, typer.Argument(exists=True, help=(
             "A YOLO folder with data.yaml (Ultralytics) or classes.txt + images/ + labels/, or the data.yaml."))],
         data_dir: DataDirOption = None) -> None:
    """Import a YOLO detection dataset into DATASET (created if missing); boxes become accepted ground truth."""
    try:
        with open_store(data_dir) as store:
            _report(import_yolo(store, dataset, folder))
    except WorkbenchError as exc:
        raise _fail(exc) from None


@import_app.command("labelstudio")
def labelstudio(dataset: str, tasks: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
                    "Label Studio's JSON export (a list of tasks)."))],
                images: Annotated[Optional[Path], typer.Option(exists=True, file_okay=False, help=(
                    "Folder holding the images the tasks name (default: beside the JSON)."))] = None,
                data_dir: DataDirOption = None) -> None:
    """Import a Label Studio JSON export: annotations as accepted human boxes, predictions as model proposals."""
    try:
        with open_store(data_dir) as store:
            _report(import_labelstudio(store, dataset, tasks, images_dir=images))
    except WorkbenchError as exc:
        raise _fail(exc) from None


@import_app.command("hf")
def hf(dataset: str, folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help=(
           "A datasets folder (save_to_disk, or local data files) with an image and an objects column."))],
       split: Annotated[Optional[str], typer.Option(help="Import only this split (default: every split).")] = None,
       data_dir: DataDirOption = None) -> None:
    """Import a Hugging Face datasets dataset (this project's layout or COCO-style objects) into DATASET."""
    try:
        with open_store(data_dir) as store:
            _report(import_hf(store, dataset, folder, split=split))
    except WorkbenchError as exc:
        raise _fail(exc) from None


@import_app.command("workbench")
def workbench(folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
              name: Annotated[str | None, typer.Option(help="Dataset name (default: as exported).")] = None,
              data_dir: DataDirOption = None) -> None:
    """Import a folder written by `workbench export --format workbench`."""
    try:
        with open_store(data_dir) as store:
            _report(import_workbench(store, folder, name=name))
    except WorkbenchError as exc:
        raise _fail(exc) from None


@import_app.command("outputs")
def outputs(dataset: str, jsonl: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
            family: FamilyOption = DEFAULT_FAMILY, min_pixels: MinPixelsOption = None,
            max_pixels: MaxPixelsOption = None, data_dir: DataDirOption = None) -> None:
    """Import model outputs: JSONL lines {"images": [...], "output": "...", "prompt", "model", "grid_thw"}."""
    model_family, limits = resolve(family, min_pixels, max_pixels)
    try:
        with open_store(data_dir) as store:
            _report(import_model_outputs(store, dataset, read_outputs_jsonl(jsonl), model_family, limits))
    except WorkbenchError as exc:
        raise _fail(exc) from None


def register(app: typer.Typer) -> None:
    app.add_typer(dataset_app, name="dataset")
    app.add_typer(import_app, name="import")
