"""Run the same prompt over several orders of the same images and report how each image's boxes vary.

Each order is a real request: the images (and their IDs) permuted, the prompt written for that
order (the multi-image instruction names the pictures in the order shown), parsed with that
call's own geometry. Answers are mapped back to their source images and compared with
:func:`grounding.order_probe.probe_report`.

>>> import io
>>> from PIL import Image
>>> from workbench.backends import FakeBackend
>>> pictures = []
>>> for size in [(640, 480), (300, 500)]:
...     buffer = io.BytesIO(); Image.new("RGB", size).save(buffer, "PNG"); pictures.append(buffer.getvalue())
>>> backend = FakeBackend(lambda request, geometry: '[{"bbox_2d": [0, 0, 50, 50], "label": "cat", "image": 1}]')
>>> report = probe_order(backend, pictures, target="cat")
>>> report["orders"], [image["counts"] for image in report["images"]]
([[1, 2], [2, 1]], [[1, 0], [0, 1]])
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from grounding import PixelLimits
from grounding.order_probe import OrderAnswer, probe_orders, probe_report, to_sources
from grounding.prompts import GroundingTask, ImageNaming
from workbench.backends.base import ImageInput, ModelBackend
from workbench.errors import WorkbenchError
from workbench.multi.common import (
    ProgressCallback,
    detections_json,
    ids_for,
    make_request,
    report_progress,
)
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS
from workbench.runs.pipeline import image_table, parse_output

__all__ = ["probe_order"]


def probe_order(
    backend: ModelBackend,
    images: Sequence[ImageInput],
    *,
    target: str | None = None,
    prompt: str | None = None,
    task: GroundingTask | str = GroundingTask.BOXES,
    image_ids: Sequence[str] = (),
    naming: ImageNaming | str | None = None,
    orders: Sequence[Sequence[int]] | None = None,
    max_orders: int = 12,
    seed: int = 0,
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
    limits: PixelLimits | None = None,
    min_iou: float = 0.0,
    on_progress: ProgressCallback | None = None,
    plot_file: str | os.PathLike | None = None,
) -> dict[str, Any]:
    """JSON-ready report: per image, boxes per order, agreement across orders, count spread; the
    most consistent order; each order's raw answer; and ``plot`` (a heat map the UI draws).

    ``orders`` are 1-based source positions (``[2, 1]`` shows image 2 first); by default every
    order up to 4 images, else ``max_orders`` of them drawn with ``seed``. With ``plot_file`` the heat
    map is also written there as a PNG (``plot_file`` in the result).
    """
    if len(images) < 2:
        raise WorkbenchError("the order probe needs at least two images")
    ids = ids_for(len(images), image_ids)
    try:
        chosen = [tuple(int(v) for v in order) for order in orders] if orders else probe_orders(
            len(images), max_orders=max_orders, seed=seed)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from None
    family = backend.family()
    answers: list[OrderAnswer] = []
    runs: list[dict[str, Any]] = []
    for done, order in enumerate(chosen, start=1):
        if sorted(order) != list(range(1, len(images) + 1)):
            raise WorkbenchError(f"order {list(order)} must list each of the images 1..{len(images)} once")
        order_ids = [ids[source - 1] for source in order]
        request = make_request(family, [images[source - 1] for source in order], order_ids, target=target,
                               prompt=prompt, task=task, naming=naming, max_new_tokens=max_new_tokens, limits=limits)
        run = parse_output(request, backend.generate(request))
        answers.append(OrderAnswer(order, run.detections))
        runs.append({
            "order": list(order),
            "image_ids": order_ids,
            "images": image_table(run.output, order_ids, request.image_names()),
            "prompt": request.prompt,
            "text": run.output.text,
            "finish_reason": run.output.finish_reason,
            "detections": detections_json(to_sources(run.detections, order), ids),
            "warnings": list(run.warnings),
        })
        report_progress(on_progress, done, len(chosen))
    try:
        report = probe_report(answers, ids, min_iou=min_iou)
    except ValueError as exc:
        raise WorkbenchError(str(exc)) from None
    result = {
        "model": backend.model,
        "family": family.name,
        "image_ids": list(ids),
        **report.as_dict(),
        "answers": runs,
    }
    if plot_file is not None:
        from grounding.probe_plot import render_probe_plot

        try:
            render_probe_plot(result["plot"]).save(plot_file, "PNG")
        except OSError as exc:
            raise WorkbenchError(f"cannot write the plot to {os.fspath(plot_file)}: {exc.strerror or exc}") from None
        result["plot_file"] = os.fspath(plot_file)
    return result
