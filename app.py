"""Hugging Face Spaces entry point (also ``python app.py``; ``workbench serve`` does the same)."""

from workbench.environment import gradio_quiet

gradio_quiet()  # before Gradio is imported

from ui.launch import build_demo, launch  # noqa: E402 (after gradio_quiet)

demo = build_demo()

if __name__ == "__main__":
    launch(demo=demo)
