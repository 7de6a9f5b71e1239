"""``workbench serve``: start the Gradio app (the same as ``python app.py``)."""

from __future__ import annotations

import importlib
from typing import Annotated

import typer

from workbench import environment as env


def serve(
    host: Annotated[str, typer.Option(envvar="GRADIO_SERVER_NAME", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(envvar="GRADIO_SERVER_PORT", help="Port.")] = 7860,
    data_dir: Annotated[str | None, typer.Option(envvar=env.DATA_DIR, help="Datasets and exports folder.")] = None,
    share: Annotated[bool, typer.Option(help="Ask Gradio for a public share link.")] = False,
    public: Annotated[bool, typer.Option(help="Serve strangers: only the configured server and model "
                                               "(WORKBENCH_BASE_URL, WORKBENCH_MODEL), as on a Space.")] = False,
) -> None:
    """Open the workbench in the browser at http://HOST:PORT."""
    # The UI layer is imported only here, when asked for: the core never imports Gradio.
    importlib.import_module("ui.launch").launch(host=host, port=port, data_dir=data_dir, share=share,
                                                public=public or None)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
