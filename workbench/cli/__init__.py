"""The ``workbench`` command: one module per subcommand, joined here.

>>> from typer.testing import CliRunner
>>> CliRunner().invoke(app, ["--help"]).exit_code
0
"""

from __future__ import annotations

import typer

from workbench.cli import (
    annotate,
    canvas,
    confidence,
    datasets,
    evaluate,
    export,
    geometry,
    ground,
    probe_convention,
    probe_order,
    serve,
    steps,
    tile,
)
from workbench.cli import parse as parse_command

__all__ = ["app", "main"]

app = typer.Typer(
    name="workbench",
    help="Grounding Workbench: Qwen-VL image geometry, grounding output parsing, datasets and exports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Grounding Workbench: Qwen-VL image geometry, grounding output parsing, datasets and exports."""


geometry.register(app)
ground.register(app)
probe_order.register(app)
probe_convention.register(app)
canvas.register(app)
tile.register(app)
steps.register(app)
export.register(app)
datasets.register(app)
parse_command.register(app)
serve.register(app)
annotate.register(app)
confidence.register(app)
evaluate.register(app)


def main() -> None:
    app()
