"""The Try-it view's per-session state: a few images, their geometry table, the last answer, drawn results."""
