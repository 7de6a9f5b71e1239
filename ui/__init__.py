"""Gradio wiring for the workbench; no maths here, only calls into ``workbench`` and ``grounding``."""

from ui.app import create_app

__all__ = ["create_app"]
