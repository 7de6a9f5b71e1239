"""Hugging Face Spaces entry point (also ``python app.py``)."""

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

from ui import create_app  # noqa: E402

demo = create_app()

if __name__ == "__main__":
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"))
