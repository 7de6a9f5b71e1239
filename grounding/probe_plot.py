"""The order probe's heat map as a picture (Pillow only): images down, orders across.

Each cell is coloured by that order's agreement with the other orders on that image (red 0 to green 1)
and shows its box count; the most consistent order's column is outlined. Input is
:meth:`grounding.order_probe.OrderProbeReport.plot_data` (or the ``plot`` of its JSON).

>>> plot = {"x": ["1,2", "2,1"], "y": ["a", "b"], "agreement": [[1.0, 1.0], [0.5, 0.5]],
...         "counts": [[1, 1], [2, 1]], "best": "1,2"}
>>> picture = render_probe_plot(plot)
>>> picture.getpixel((picture.width - 12, picture.height - 12))   # image b, order 2,1: agreement 0.5
(234, 160, 70)
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from grounding.errors import GroundingError
from grounding.fonts import cjk_font_path

__all__ = ["agreement_colour", "render_probe_plot"]

CELL_WH = (64, 32)
MARGIN = 8


def agreement_colour(value: float | None) -> tuple[int, int, int]:
    """Red (0) through amber (0.5) to green (1); grey for no value.

    >>> agreement_colour(0.0), agreement_colour(1.0), agreement_colour(None)
    ((214, 69, 65), (76, 175, 80), (200, 200, 200))
    """
    if value is None:
        return (200, 200, 200)
    t = min(max(float(value), 0.0), 1.0)
    stops = [(0.0, (214, 69, 65)), (0.5, (234, 160, 70)), (1.0, (76, 175, 80))]
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            f = (t - t0) / (t1 - t0)
            return tuple(round(a + (b - a) * f) for a, b in zip(c0, c1))  # type: ignore[return-value]  # three channels in, three out
    return stops[-1][1]


def _font(size: int) -> Any:
    path = cjk_font_path()
    if path:
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            pass
    return ImageFont.load_default(size)


def render_probe_plot(plot: Mapping[str, Any], *, cell_wh: tuple[int, int] = CELL_WH) -> Image.Image:
    """An RGB picture of the heat map (row labels left, order labels on top)."""
    xs, ys = list(plot["x"]), list(plot["y"])
    agreement, counts = plot["agreement"], plot["counts"]
    if len(agreement) != len(ys) or any(len(row) != len(xs) for row in agreement):
        raise GroundingError(f"agreement must be {len(ys)} rows of {len(xs)} values")
    font = _font(12)
    probe = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    label_w = max([probe.textlength(str(y), font=font) for y in ys] + [0]) + 2 * MARGIN
    cw, ch = cell_wh
    left, top = int(label_w), ch
    picture = Image.new("RGB", (left + cw * len(xs) + MARGIN, top + ch * len(ys) + MARGIN), "white")
    draw = ImageDraw.Draw(picture)
    for k, x in enumerate(xs):
        draw.text((left + k * cw + cw / 2, top / 2), str(x), fill="black", font=font, anchor="mm")
    for i, y in enumerate(ys):
        draw.text((MARGIN, top + i * ch + ch / 2), str(y), fill="black", font=font, anchor="lm")
        for k in range(len(xs)):
            x0, y0 = left + k * cw, top + i * ch
            draw.rectangle((x0, y0, x0 + cw - 1, y0 + ch - 1), fill=agreement_colour(agreement[i][k]), outline="white")
            draw.text((x0 + cw / 2, y0 + ch / 2), str(counts[i][k]), fill="black", font=font, anchor="mm")
    if plot.get("best") in xs:
        k = xs.index(plot["best"])
        draw.rectangle((left + k * cw, top, left + (k + 1) * cw - 1, top + ch * len(ys) - 1), outline="black", width=2)
    return picture
