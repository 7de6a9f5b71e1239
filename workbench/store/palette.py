"""The colours a dataset gives its labels, in turn (a label keeps its colour once it has one).

>>> next_color(0), next_color(len(PALETTE))
('#e6194b', '#e6194b')
"""

from __future__ import annotations

__all__ = ["PALETTE", "next_color"]

PALETTE = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45", "#fabed4",
           "#469990", "#dcbeff", "#9a6324", "#800000", "#aaffc3", "#808000", "#000075")


def next_color(labels_so_far: int) -> str:
    """The colour of the next label of a dataset that has ``labels_so_far`` labels."""
    return PALETTE[labels_so_far % len(PALETTE)]
