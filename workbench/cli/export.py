"""``workbench export``: write a dataset in a trainer's format (a folder, a zip and a manifest)."""

from __future__ import annotations

import json
from enum import Enum
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
from workbench.errors import USER_ERRORS, ExportError
from workbench.export import FORMAT_NAMES, ExportSettings, export_dataset
from workbench.export.questions import TASKS
from workbench.export.saved import saved_templates

FormatName = Enum("FormatName", {name: name for name in FORMAT_NAMES}, type=str)  # type: ignore[misc]  # members from the registry
Task = Enum("Task", {"rec": "rec", "ovd": "ovd"}, type=str)
QuestionTask = Enum("QuestionTask", {name: name for name in TASKS}, type=str)  # type: ignore[misc]  # members from the registry
Paths = Enum("Paths", {"absolute": "absolute", "relative": "relative"}, type=str)


def _templates(pairs: list[str] | None) -> dict[str, str]:
    templates = {}
    for pair in pairs or []:
        task, sep, template = pair.partition("=")
        if not sep:
            raise ExportError(f"--question-template {pair!r}: write TASK=TEMPLATE, e.g. 'objects=Find {{labels}}.'")
        templates[task.strip()] = template
    return templates


def export(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    out: Annotated[Path, typer.Argument(file_okay=False, help="Folder to write <dataset>-<format>/ and its zip into.")],
    format: Annotated[FormatName, typer.Option("--format", case_sensitive=False, help="Export format."),
                      ] = FormatName("qwen_finetune"),
    family: FamilyOption = DEFAULT_FAMILY,
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Statuses of the items to export (repeatable; default: accepted).")] = None,
    split: Annotated[list[str] | None, typer.Option(
        "--split", help="Splits to export: train, val, test or none (repeatable; default: every split, one "
        "folder per split when items have one).")] = None,
    image_max_pixels: Annotated[int, typer.Option(help="LLaMA-Factory's image_max_pixels.")] = 768 * 768,
    image_min_pixels: Annotated[int, typer.Option(help="LLaMA-Factory's image_min_pixels.")] = 32 * 32,
    task: Annotated[QuestionTask, typer.Option(case_sensitive=False, help=(
        "What each training question asks: every labelled object, one referring expression per object, "
        "or points."))] = QuestionTask("objects"),
    question_template: Annotated[list[str] | None, typer.Option(
        "--question-template", help="TASK=TEMPLATE overriding the dataset's saved question (Export page) or "
        "the family's phrasing (repeatable); placeholders "
        "{labels} {label} {image} {picture} {pictures}.")] = None,
    negatives: Annotated[bool, typer.Option(
        help="Keep images/samples with nothing to answer as explicit negatives (default: skip and count them).")
    ] = False,
    paths: Annotated[Paths, typer.Option(case_sensitive=False, help=(
        "Image paths for ms-swift and XComposer2: absolute (run from anywhere) or relative (the command "
        "states the root)."))] = Paths("absolute"),
    vlmr1_task: Annotated[Task, typer.Option(case_sensitive=False, help="VLM-R1 task.")] = Task("rec"),
    transformers_version: Annotated[str | None, typer.Option(
        help="The trainer's transformers version (qwen-vl-finetune ignores pixel limits with 5.x).")] = None,
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier export of the same name.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Export DATASET to OUT for a trainer; coordinates follow --family and the trainer's pixel limits.

    Prints a JSON summary (folder, zip, counts, the command that trains on it, warnings); exits 1 with a
    message on any problem.
    """
    model_family, limits = resolve(family, min_pixels, max_pixels)
    try:
        with open_store(data_dir) as store:
            templates = {**saved_templates(store, dataset, model_family), **_templates(question_template)}
            settings = ExportSettings(model_family, limits, statuses=tuple(status or ("accepted",)),
                                      task=task.value, question_templates=templates,
                                      negatives=negatives, paths=paths.value,
                                      image_max_pixels=image_max_pixels, image_min_pixels=image_min_pixels,
                                      vlmr1_task=vlmr1_task.value, transformers_version=transformers_version,
                                      splits=tuple(split or ()))
            result = export_dataset(store, dataset, format.value, settings, out, overwrite=overwrite)
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(json.dumps({"folder": str(result.folder), "zip": str(result.zip_path),
                           "counts": result.manifest["counts"], "usage": result.manifest["usage"],
                           **({"splits": list(result.manifest["splits"])} if "splits" in result.manifest else {}),
                           "warnings": list(result.warnings)},
                          indent=2, ensure_ascii=False))


def register(app: typer.Typer) -> None:
    app.command("export")(export)
