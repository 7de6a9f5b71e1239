"""``workbench dataset ...`` (list, create, rename, delete), ``workbench import ...`` and ``workbench items``.

Imports: images (files, folders, globs, zips), coco, yolo, labelstudio, hf, workbench (this project's export) and
outputs (model answers).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from workbench.cli.data_options import DataDirOption, open_store
from workbench.cli.options import (
    DEFAULT_FAMILY,
    FamilyOption,
    MaxPixelsOption,
    MinPixelsOption,
    resolve,
)
from workbench.deployment import ResourceLimits
from workbench.errors import USER_ERRORS, StoreError
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
from workbench.store import ITEM_STATUSES, SPLITS, ItemFilter
from workbench.store.rules import check_status
from workbench.store.scores import ORDERS
from workbench.store.splits import check_split

AllowOutsideOption = Annotated[bool, typer.Option(
    "--allow-outside", help="Read files the source names outside its own folder (absolute paths, ../, links): "
    "only for a source you trust.")]

dataset_app = typer.Typer(help="Create, list, rename and delete datasets.", no_args_is_help=True)
import_app = typer.Typer(help="Import images, COCO, YOLO, Label Studio or Hugging Face datasets, a workbench "
                         "export, or model outputs.", no_args_is_help=True)


def _fail(exc: Exception) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(code=1)


ImportStatusOption = Annotated[str | None, typer.Option(
    "--status", help="Give every imported item this status (accepted: reviewed ground truth, ready to evaluate "
    "on; default: what the source says).")]


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
            _report(import_images(store, dataset, paths, limits=ResourceLimits.from_env()))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("coco")
def coco(dataset: str, annotations: Annotated[Path, typer.Argument(exists=True, dir_okay=False)],
         images: Annotated[Path, typer.Argument(exists=True, file_okay=False)], status: ImportStatusOption = None,
         data_dir: DataDirOption = None, allow_outside: AllowOutsideOption = False) -> None:
    """Import a COCO detection JSON (images under IMAGES) into DATASET (created if missing)."""
    try:
        with open_store(data_dir) as store:
            _report(import_coco(store, dataset, annotations, images, status=status, allow_outside=allow_outside))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("yolo")
def yolo(dataset: str, folder: Annotated[Path, typer.Argument(exists=True, help=(
             "A YOLO folder with data.yaml (Ultralytics) or classes.txt + images/ + labels/, or the data.yaml."))],
         status: ImportStatusOption = None, data_dir: DataDirOption = None,
         allow_outside: AllowOutsideOption = False) -> None:
    """Import a YOLO detection dataset into DATASET (created if missing); boxes become accepted ground truth."""
    try:
        with open_store(data_dir) as store:
            _report(import_yolo(store, dataset, folder, status=status, allow_outside=allow_outside))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("labelstudio")
def labelstudio(dataset: str, tasks: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=(
                    "Label Studio's JSON export (a list of tasks)."))],
                images: Annotated[Path | None, typer.Option(exists=True, file_okay=False, help=(
                    "Folder holding the images the tasks name (default: beside the JSON)."))] = None,
                status: ImportStatusOption = None, data_dir: DataDirOption = None,
                allow_outside: AllowOutsideOption = False) -> None:
    """Import a Label Studio JSON export: annotations as accepted human boxes, predictions as model proposals."""
    try:
        with open_store(data_dir) as store:
            _report(import_labelstudio(store, dataset, tasks, images_dir=images, status=status, allow_outside=allow_outside))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("hf")
def hf(dataset: str, folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help=(
           "A datasets folder (save_to_disk, or local data files) with an image and an objects column."))],
       split: Annotated[str | None, typer.Option(help="Import only this split (default: every split).")] = None,
       status: ImportStatusOption = None, data_dir: DataDirOption = None) -> None:
    """Import a Hugging Face datasets dataset (this project's layout or COCO-style objects) into DATASET."""
    try:
        with open_store(data_dir) as store:
            _report(import_hf(store, dataset, folder, split=split, status=status))
    except USER_ERRORS as exc:
        raise _fail(exc) from None


@import_app.command("workbench")
def workbench(folder: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
              name: Annotated[str | None, typer.Option(help="Dataset name (default: as exported).")] = None,
              status: ImportStatusOption = None, data_dir: DataDirOption = None) -> None:
    """Import a folder written by `workbench export --format workbench`."""
    try:
        with open_store(data_dir) as store:
            _report(import_workbench(store, folder, name=name, status=status))
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


def _ids(text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise StoreError(f"--ids takes item ids separated by commas or spaces, got {text!r}") from None


def items(dataset: Annotated[str, typer.Argument(help="Dataset name.")],
          status: Annotated[str | None, typer.Option(help=f"Only items of this status ({', '.join(ITEM_STATUSES)}).")
                            ] = None,
          split: Annotated[str | None, typer.Option(help=f"Only items of this split ({', '.join(SPLITS)} or none).")
                           ] = None,
          ids: Annotated[str | None, typer.Option("--ids", help="Only these items (ids, comma-separated).")] = None,
          order: Annotated[str, typer.Option(
              help="file (the dataset's order), confidence (the item whose weakest box scores lowest first, each "
                   "box with its confidence) or edits (most expected edits first).")] = "file",
          set_status: Annotated[str | None, typer.Option(
              "--set-status", help="Give the chosen items this status (each change can be undone on its own).")
          ] = None,
          set_split: Annotated[str | None, typer.Option(
              "--set-split", help=f"Put the chosen items into this split ({', '.join(SPLITS)} or none).")] = None,
          as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
          data_dir: DataDirOption = None) -> None:
    """List the items of DATASET (id, status, split, images, boxes, points), in file order or weakest first;
    --set-status / --set-split change the chosen ones (those the filters and --ids pick) first."""
    from workbench.confidence import status_text

    if order not in ("file", *ORDERS):
        raise _fail(ValueError(f"--order must be file, {', '.join(ORDERS)}; got {order!r}"))
    scored = order != "file"
    try:
        with open_store(data_dir) as store:
            wanted = _ids(ids)
            ordered = store.item_ids(dataset, ItemFilter(status=status or None, split=split,
                                                         order=order if scored else None))
            found = {item.id: item for item in store.items(dataset, statuses=[status] if status else None)}
            chosen = [found[i] for i in ordered if i in found]
            if wanted is not None:
                known = {item.id for item in store.items(dataset)}
                missing = [i for i in wanted if i not in known]
                if missing:
                    raise StoreError(f"no item {', '.join(map(str, missing[:5]))} in {dataset!r}; nothing was changed")
                chosen = [item for item in chosen if item.id in set(wanted)]
            if set_status is not None or set_split is not None:
                if set_status is not None:
                    check_status(set_status)  # both checked before either changes anything
                if set_split is not None:
                    check_split(set_split)
                picked = [item.id for item in chosen]
                if set_split is not None:
                    moved = store.set_split(dataset, picked, set_split)
                    typer.echo(f"{moved} item(s) moved to {check_split(set_split) or 'no split'}", err=True)
                if set_status is not None:
                    changed = store.set_status_many(picked, set_status)
                    typer.echo(f"{changed} item(s) set to {set_status}", err=True)
                chosen = [store.item(i) for i in picked]
            if scored:  # say whether the scores are probabilities or the raw signal
                typer.echo(status_text(store, dataset), err=True)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    for item in chosen:
        row: dict[str, Any] = {"id": item.id, "status": item.status, "split": item.split,
               "images": [{"id": i.image_id, "file": i.original_name, "original": [i.width, i.height]}
                          for i in item.images],
               "boxes": sum(a.kind == "box" for a in item.annotations),
               "points": sum(a.kind == "point" for a in item.annotations)}
        scores = [a.score for a in item.annotations if a.score is not None]
        if scored:
            row["weakest"] = min(scores) if scores else None
            row["annotations"] = [{"picture": image.position, "kind": a.kind, "label": a.label,
                                   "coords": list(a.coords), "provenance": a.provenance, "confidence": a.score}
                                  for image in item.images for a in image.annotations]
        if as_json:
            typer.echo(json.dumps(row, ensure_ascii=False))
        else:
            files = ", ".join(f"{i['file']} {i['original'][0]}x{i['original'][1]}" for i in row["images"])
            weakest = (f"\tweakest {min(scores):.3f}" if scores else "\tno score") if scored else ""
            typer.echo(f"{item.id}\t{item.status}\t{item.split or '-'}\t{row['boxes']} box(es)\t"
                       f"{row['points']} point(s){weakest}\t{files}")


def split(dataset: Annotated[str, typer.Argument(help="Dataset name.")],
          train: Annotated[float | None, typer.Option(min=0, max=1, help="Share of items for train.")] = None,
          val: Annotated[float | None, typer.Option(min=0, max=1, help="Share of items for val.")] = None,
          test: Annotated[float | None, typer.Option(min=0, max=1, help="Share of items for test.")] = None,
          reassign: Annotated[bool, typer.Option("--reassign", help=(
              "Also move items that already have a split (set by hand or earlier)."))] = False,
          data_dir: DataDirOption = None) -> None:
    """Put the items of DATASET that have no split into train, val or test from their images' content: the same
    images always land in the same split, on any machine. Fractions given are kept as the dataset's (default
    0.8/0.1/0.1). Prints how many items each split received and how many each holds now."""
    try:
        with open_store(data_dir) as store:
            fractions = None
            if train is not None or val is not None or test is not None:
                fractions = {"train": train or 0.0, "val": val or 0.0, "test": test or 0.0}
            assigned = store.assign_splits(dataset, fractions, overwrite=reassign)
            totals = store.split_counts(dataset)
            kept = store.split_fractions(dataset)
    except USER_ERRORS as exc:
        raise _fail(exc) from None
    name = {"": "none"}
    typer.echo(json.dumps({"fractions": kept, "assigned": {name.get(k, k): v for k, v in assigned.items()},
                           "items": {name.get(k, k): v for k, v in totals.items()}}, indent=2))


def register(app: typer.Typer) -> None:
    app.command("items")(items)
    app.command("split")(split)
    app.add_typer(dataset_app, name="dataset")
    app.add_typer(import_app, name="import")
