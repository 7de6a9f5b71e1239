"""Start the app: used by ``app.py`` (Spaces) and ``workbench serve``.

Analytics are off unless the user turns them on; the data folder comes from the argument,
``WORKBENCH_DATA_DIR`` or the user data folder.
"""

from __future__ import annotations

import os

__all__ = ["build_demo", "launch"]


def build_demo(data_dir: str | None = None):
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from ui.app import create_app
    from workbench.services import Services

    services = Services.create(data_dir)
    if os.environ.get("SPACES_ZERO_GPU"):
        # ZeroGPU wants the model loaded (and moved to "cuda") when the Space starts, not inside a request.
        from workbench.backends import default_model

        services.backend("local", model=default_model()).load()
    return create_app(services)


def launch(host: str | None = None, port: int | None = None, data_dir: str | None = None, share: bool = False,
           demo=None) -> None:
    demo = demo or build_demo(data_dir)
    demo.queue(default_concurrency_limit=4).launch(
        server_name=host or os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=port or int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        share=share,
    )
