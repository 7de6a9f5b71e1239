"""Hugging Face Spaces entry point (also ``python app.py``; ``workbench serve`` does the same)."""

from ui.launch import build_demo, launch

demo = build_demo()

if __name__ == "__main__":
    launch(demo=demo)
