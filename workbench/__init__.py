"""Grounding Workbench application core: backends, dataset store, exports, CLI (no Gradio)."""

__version__ = "0.1.0"
