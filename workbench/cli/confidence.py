"""``workbench calibrate DATASET``: fit the dataset's confidence on its reviews now, and rescore its boxes.

A batch (``workbench annotate``, the Batch page) refits when it ends; this is the same on demand.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from workbench.cli.data_options import DataDirOption, open_store
from workbench.errors import USER_ERRORS


def calibrate(dataset: Annotated[str, typer.Argument(help="Dataset name.")],
              as_json: Annotated[bool, typer.Option("--json", help="The calibration as JSON.")] = False,
              data_dir: DataDirOption = None) -> None:
    """Fit P(box survives review) on DATASET's reviewed items (30 needed) and rescore every proposed box;
    prints held-out AUROC and ECE, or how many more reviews are needed."""
    from workbench.confidence import refit

    try:
        with open_store(data_dir) as store:
            report = refit(store, dataset)
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(json.dumps({"calibrated": report.calibrated, "reviewed_items": report.reviewed_items,
                               "rescored": report.rescored, "message": report.message,
                               "calibration": report.calibration.as_dict() if report.calibration else None}))
    else:
        typer.echo(report.message)


def register(app: typer.Typer) -> None:
    app.command("calibrate")(calibrate)
