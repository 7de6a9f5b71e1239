"""Draw time: 50 labelled boxes on a 4032x3024 image, ``draw_detections`` vs two peers in the same run.

Peers: supervision's Box + RichLabel annotators straight on the full-size image (what one would
write without a display copy), and plain Pillow ``ImageDraw`` rectangles and text at full size.

    python bench/draw_time.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import random

import _timing  # noqa: F401  (puts the repository root on sys.path)
import numpy as np
import supervision as sv
from PIL import ImageDraw, ImageFont

from grounding.draw import draw_detections
from grounding.fonts import cjk_font_path
from grounding.parse import Detection
from tests.factories import make_image

LABELS = ["cat", "dog", "small cake", "米饭", "击掌", "wine bottle", "plate/dish"]


def boxes(count: int, size: tuple[int, int], seed: int = 3) -> list[Detection]:
    rng = random.Random(seed)
    w, h = size
    found = []
    for _ in range(count):
        x1, y1 = rng.uniform(-100, w - 50), rng.uniform(-100, h - 50)
        x2, y2 = x1 + rng.uniform(40, 900), y1 + rng.uniform(40, 700)
        box = (x1, y1, x2, y2)
        outside = x1 < 0 or y1 < 0 or x2 > w or y2 > h
        found.append(Detection("box", rng.choice(LABELS), 1, box, box, outside))
    return found


def run(repeats: int) -> dict[str, object]:
    image = make_image(4032, 3024)
    detections = boxes(50, image.size)
    font = cjk_font_path()
    draw_detections(image, detections)  # warm the annotator and font caches

    def ours() -> None:
        draw_detections(image, detections)

    xyxy = np.clip(np.array([d.original for d in detections]), 0, [4031, 3023, 4031, 3023])
    sv_detections = sv.Detections(xyxy=xyxy, class_id=np.array([LABELS.index(d.label) for d in detections]))
    box_annotator = sv.BoxAnnotator(thickness=8)
    label_annotator = sv.RichLabelAnnotator(font_path=font, font_size=64)

    def supervision_full_size() -> None:
        scene = box_annotator.annotate(image.copy(), sv_detections)
        label_annotator.annotate(scene, sv_detections, labels=[d.label for d in detections])

    pil_font = ImageFont.truetype(font, 64) if font else ImageFont.load_default()

    def pillow_full_size() -> None:
        scene = image.copy()
        pen = ImageDraw.Draw(scene)
        for d, box in zip(detections, xyxy):
            pen.rectangle(tuple(box), outline=(255, 0, 0), width=8)
            pen.text((box[0], max(0, box[1] - 70)), d.label, font=pil_font, fill=(255, 255, 255))

    times = {name: _timing.best_of(repeats, fn) for name, fn in
             (("ours", ours), ("supervision_full_size", supervision_full_size), ("pillow_full_size", pillow_full_size))}
    for name, seconds in times.items():
        print(f"{name:22s} {seconds * 1000:8.1f} ms   ratio to ours {seconds / times['ours']:.2f}")
    return {"image_wh": list(image.size), "boxes": len(detections), "repeats": repeats,
            "ms": {k: round(v * 1000, 1) for k, v in times.items()},
            "ratio_to_ours": {k: round(v / times["ours"], 2) for k, v in times.items()},
            "drawn_wh": list(draw_detections(image, detections).size), "font": bool(font)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("wrote", _timing.write_result("draw_time", run(args.repeats)))
