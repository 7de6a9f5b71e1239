"""``workbench dataset ...`` (list, create, rename, delete), ``workbench import ...`` and ``workbench items``.

Imports: images (files, folders, globs, zips), coco, yolo, labelstudio, hf, workbench (this project's export) and
outputs (model answers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.data_options import DataDirOption, open_store
from workbench.cli.options import (
    DEFAULT_FAMILY,
    FamilyOption,
    MaxPixelsOption,
    MinPixelsOption,
    resolve,
)
from workbench.errors import USER_ERRORS
from workbench.importers import (
    ImportReport,
    import_coco,
    import_hf,
    import_images,
    import_labelstudio,
    import_model_outputs,
    import_workbench,
    import_yolo,
    read_outputs_jsonl,
)
from workbench.store import ITEM_STATUSES

AllowOutsideOption = Annotated[bool, typer.Option(
    "--allow-outside", help="Read files the source names outside its own folder (absolute paths, ../, links): "
    "only for a source you trust.")]

dataset_app = typer.Typer(help="Create, list, rename and delete datasets.", no_args_is_help=True)
import_app = typer.Typer(help="Import images, COCO, YOLO, Label Studio or Hugging Face datasets, a workbench "
                         "export, or model outputs.", no_args_is_help=True)


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


def _report(report: ImportReport) -> None:
    typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))


@dataset_app.command("list")
def list_datasets(data_dir: DataDirOption = None) -> None:
    """Print the datasets as JSON: name, items, items per status, created_at."""
    try:
        with open_store(data_dir) as store:
            rows = [{"name": d.name, "items": record.items, "status": dict(record.counts), "created_at": d.created_at}
                    for d in store.list_datasets() for record in [store.dataset(d.id)]]
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    typer.echo(json.dumps(rows, indent=2, ensure_ascii=False))


@dataset_app.command("create")
def create(name: str, data_dir: DataDirOption = None) -> None:
    """Create an empty dataset."""
    try:
        with open_store(data_dir) as store:
            store.create_dataset(name)
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@dataset_app.command("rename")
def rename(name: str, new_name: str, data_dir: DataDirOption = None) -> None:
    """Rename a dataset."""
    try:
        with open_store(data_dir) as store:
            store.rename_dataset(name, new_name)
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@dataset_app.command("delete")
def delete(name: str, yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
           data_dir: DataDirOption = None) -> None:
    """Delete a dataset, its items, annotations and history."""
    if not yes and not typer.confirm(f"Delete dataset {name!r} and all its annotations?"):
        raise typer.Exit(code=1)
    try:
        with open_store(data_dir) as store:
            store.delete_dataset(name)
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("images")
def images(dataset: Annotated[str, typer.Argument(help="Dataset name (created if missing).")],
           paths: Annotated[list[str], typer.Argument(help="Image files, folders, globs ('photos/**/*.jpg') or zips.")],
           data_dir: DataDirOption = None) -> None:
    """Add each image as a new item of DATASET; an image the dataset already holds (same content) is skipped."""
    try:
        with open_store(data_dir) as store:
            _report(import_images(store, dataset, paths))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("coco")
def coco(dataset: str, annotations: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
         images: Annotated[Path, typer.Argument(exists=True, file_okay=False)], data_dir: DataDirOption = None,
         allow_outside: AllowOutsideOption = False) -> None:
    """Import a COCO detection JSON (images under IMAGES) into DATASET (created if missing)."""
    try:
        with open_store(data_dir) as store:
            _report(import_coco(store, dataset, annotations, images, allow_outside=allow_outside))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("yolo")
def yolo(dataset: str, folder: Annotated[Path, typer.Argument(exists=True, help=(
             "A YOLO folder with data.yaml (Ultralytics) or classes.txt + images/ + labels/, or the data.yaml."))],
         data_dir: DataDirOption = None, allow_outside: AllowOutsideOption = False) -> None:
    """Import a YOLO detection dataset into DATASET (created if missing); boxes become accepted ground truth."""
    try:
        with open_store(data_dir) as store:
            _report(import_yolo(store, dataset, folder, allow_outside=allow_outside))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("labelstudio")
def labelstudio(dataset: str, tasks: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
                    "Label Studio's JSON export (a list of tasks)."))],
                images: Annotated[Path | None, typer.Option(exists=True, file_okay=False, help=(
                    "Folder holding the images the tasks name (default: beside the JSON)."))] = None,
                data_dir: DataDirOption = None, allow_outside: AllowOutsideOption = False) -> None:
    """Import a Label Studio JSON export: annotations as accepted human boxes, predictions as model proposals."""
    try:
        with open_store(data_dir) as store:
            _report(import_labelstudio(store, dataset, tasks, images_dir=images, allow_outside=allow_outside))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("hf")
def hf(dataset: str, folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help=(
           "A datasets folder (save_to_disk, or local data files) with an image and an objects column."))],
       split: Annotated[str | None, typer.Option(help="Import only this split (default: every split).")] = None,
       data_dir: DataDirOption = None) -> None:
    """Import a Hugging Face datasets dataset (this project's layout or COCO-style objects) into DATASET."""
    try:
        with open_store(data_dir) as store:
            _report(import_hf(store, dataset, folder, split=split))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("workbench")
def workbench(folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
              name: Annotated[str | None, typer.Option(help="Dataset name (default: as exported).")] = None,
              data_dir: DataDirOption = None) -> None:
    """Import a folder written by `workbench export --format workbench`."""
    try:
        with open_store(data_dir) as store:
            _report(import_workbench(store, folder, name=name))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("outputs")
def outputs(dataset: str, jsonl: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
            family: FamilyOption = DEFAULT_FAMILY, min_pixels: MinPixelsOption = None,
            max_pixels: MaxPixelsOption = None, data_dir: DataDirOption = None,
            allow_outside: AllowOutsideOption = False) -> None:
    """Import model outputs: JSONL lines {"images": [...], "output": "...", "prompt", "model", "grid_thw"}."""
    model_family, limits = resolve(family, min_pixels, max_pixels)
    try:
        outputs = read_outputs_jsonl(jsonl, allow_outside=allow_outside)
        with open_store(data_dir) as store:
            _report(import_model_outputs(store, dataset, outputs, model_family, limits))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


def items(dataset: Annotated[str, typer.Argument(help="Dataset name.")],
          status: Annotated[str | None, typer.Option(help=f"Only items of this status ({', '.join(ITEM_STATUSES)}).")
                            ] = None,
          as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
          data_dir: DataDirOption = None) -> None:
    """List the items of DATASET: id, status, images (file, original size), boxes and points."""
    try:
        with open_store(data_dir) as store:
            chosen = store.items(dataset, statuses=[status] if status else None)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    for item in chosen:
        row = {"id": item.id, "status": item.status,
               "images": [{"id": i.image_id, "file": i.original_name, "original": [i.width, i.height]}
                          for i in item.images],
               "boxes": sum(a.kind == "box" for a in item.annotations),
               "points": sum(a.kind == "point" for a in item.annotations)}
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            files = ", ".join(f"{i['file']} {i['original'][0]}x{i['original'][1]}" for i in row["images"])
            typer.echo(f"{item.id}\t{item.status}\t{row['boxes']} box(es)\t{row['points']} point(s)\t{files}")


def register(app: typer.Typer) -> None:
    app.command("items")(items)
    app.add_typer(dataset_app, name="dataset")
    app.add_typer(import_app, name="import")
