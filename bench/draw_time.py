"""Draw time from the file: a 12 MP JPEG with 50 labelled boxes to a drawn 1600-pixel display copy.

Ours, two rows (goal for each: at most 30 ms):
- ``draw_file`` on the 12 MP file: header, JPEG decoded at reduced size (libjpeg-turbo's scaled
  decoding through OpenCV, straight to the BGR array: 1/2 scale here), EXIF orientation applied to
  the small copy, resized to 1600, boxes and cached label tags drawn on that one array;
- the app's path (``workbench.tryit.results.render_results``): ``draw_file`` on the upload's 1600-pixel
  display copy (made once at upload, itself decoded in draft mode), with the original's size.

Also timed (a floor, not a peer): decoding the file at 1/2 scale and nothing else, with OpenCV
and with Pillow's ``draft``; the notes give it, since no drawing can take less.

And on a photo-like 12 MP JPEG (smooth regions, edges, texture and sensor noise, 3+ MB at quality 90, where
entropy decoding, which no reduced decode skips, dominates): ``draw_file`` against Pillow's plain full
decode of the same file (``Image.open`` + ``load``), goal: no slower. Every function is timed in
interleaved rounds (one call of each per round, best of the rounds), so a busy machine slows all alike.

Peers, in the same run on the same file:
- ``decode_full_supervision``: decode at full size (``Image.open`` + ``exif_transpose``) and
  draw with supervision's Box + RichLabel annotators at full size (what one writes without a
  display copy);
- ``decode_full_pillow``: the same decode, plain Pillow ``ImageDraw`` rectangles and text;
- ``decode_full_then_draw``: the earlier app path (decode at full size, then ``draw_detections``
  shrinks it).

    python bench/draw_time.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import supervision as sv
from PIL import Image, ImageDraw, ImageFont, ImageOps

from bench._record import Goal, Row
from grounding.draw import DrawStyle, draw_detections, draw_file
from grounding.fonts import cjk_font_path
from grounding.parse import Detection
from tests.factories import make_image
from workbench.tryit.uploads import load_upload

LABELS = ["cat", "dog", "small cake", "米饭", "击掌", "wine bottle", "plate/dish"]
DISPLAY = DrawStyle(max_side=1600)
GOAL_MS = 30.0


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


def photo(folder: Path) -> Path:
    """A 4032x3024 gradient-and-noise picture saved as a quality-90 JPEG (as phones write them)."""
    path = folder / "photo.jpg"
    make_image(4032, 3024).save(path, "JPEG", quality=90)
    return path


def photo_like(width: int, height: int, seed: int = 0) -> Image.Image:
    """A picture with what makes a photo's JPEG expensive to decode: smooth colour fields, objects with edges,
    fine texture and sensor noise (a 12 MP one is about 3 MB at quality 90, as phone photos are)."""
    rng = np.random.default_rng(seed)
    low = cv2.resize(rng.uniform(30, 220, (12, 16, 3)).astype(np.float32), (width, height),
                     interpolation=cv2.INTER_CUBIC)
    scene = low + cv2.resize(rng.normal(0, 25, (height // 16, width // 16, 3)).astype(np.float32), (width, height),
                             interpolation=cv2.INTER_CUBIC)
    for _ in range(60):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        color = tuple(float(c) for c in rng.uniform(0, 255, 3))
        if rng.random() < 0.5:
            cv2.rectangle(scene, (x, y), (x + int(rng.integers(50, 900)), y + int(rng.integers(50, 700))), color, -1)
        else:
            cv2.circle(scene, (x, y), int(rng.integers(20, 400)), color, -1)
    scene += cv2.resize(rng.normal(0, 12, (height // 2, width // 2, 3)).astype(np.float32), (width, height),
                        interpolation=cv2.INTER_LINEAR)
    scene += rng.normal(0, 4, (height, width, 3)).astype(np.float32)
    return Image.fromarray(np.clip(scene, 0, 255).astype(np.uint8), "RGB")


def interleaved(rounds: int, runs: dict) -> dict[str, float]:
    """Best time in seconds of each function over ``rounds`` rounds that call every function once, in turn."""
    best = dict.fromkeys(runs, float("inf"))
    for n in range(rounds):
        names = list(runs) if n % 2 == 0 else list(reversed(runs))
        for name in names:
            start = time.perf_counter()
            runs[name]()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def decode_full(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return ImageOps.exif_transpose(image).convert("RGB")


def run(repeats: int) -> tuple[dict[str, object], list[Row]]:
    path = photo(Path(tempfile.mkdtemp(prefix="bench-draw-")))
    size = Image.open(path).size
    detections = boxes(50, size)
    font = cjk_font_path()

    def ours() -> None:
        draw_file(path, detections, style=DISPLAY)

    entry = load_upload(path, path.parent / "display", max_side=DISPLAY.max_side)

    def app_display_copy() -> None:
        draw_file(entry.display_path, detections, style=DISPLAY, original_wh=entry.original_wh)

    xyxy = np.clip(np.array([d.original for d in detections]), 0, [size[0] - 1, size[1] - 1] * 2)
    sv_detections = sv.Detections(xyxy=xyxy, class_id=np.array([LABELS.index(d.label) for d in detections]))
    box_annotator = sv.BoxAnnotator(thickness=8)
    label_annotator = sv.RichLabelAnnotator(font_path=font, font_size=64)

    def decode_full_supervision() -> None:
        scene = box_annotator.annotate(decode_full(path), sv_detections)
        label_annotator.annotate(scene, sv_detections, labels=[d.label for d in detections])

    pil_font = ImageFont.truetype(font, 64) if font else ImageFont.load_default()

    def decode_full_pillow() -> None:
        scene = decode_full(path)
        pen = ImageDraw.Draw(scene)
        for d, box in zip(detections, xyxy):
            pen.rectangle(tuple(box), outline=(255, 0, 0), width=8)
            pen.text((box[0], max(0, box[1] - 70)), d.label, font=pil_font, fill=(255, 255, 255))

    def decode_full_then_draw() -> None:
        draw_detections(decode_full(path), detections, style=DISPLAY)

    data = np.frombuffer(path.read_bytes(), np.uint8)

    def decode_half_opencv() -> None:
        cv2.imdecode(data, cv2.IMREAD_REDUCED_COLOR_2)

    def decode_half_pillow() -> None:
        with Image.open(path) as image:
            image.draft("RGB", (size[0] // 2, size[1] // 2))
            image.load()

    runs = (("ours", ours), ("app_display_copy", app_display_copy), ("decode_full_supervision", decode_full_supervision),
            ("decode_full_pillow", decode_full_pillow), ("decode_full_then_draw", decode_full_then_draw),
            ("decode_half_opencv", decode_half_opencv), ("decode_half_pillow", decode_half_pillow))
    for _, fn in runs:  # warm the font, annotator and tag caches
        fn()
    times = interleaved(repeats, dict(runs))
    for name, seconds in times.items():
        print(f"{name:24s} {seconds * 1000:8.1f} ms   ratio to ours {seconds / times['ours']:.2f}")
    picture = photo_like(*size)
    photo_path, progressive_path = path.parent / "photo-like.jpg", path.parent / "photo-like-progressive.jpg"
    picture.save(photo_path, "JPEG", quality=90)
    picture.save(progressive_path, "JPEG", quality=90, progressive=True)  # as many web pictures are

    def drawing(source: Path):
        return lambda: draw_file(source, detections, style=DISPLAY)

    def pillow_full(source: Path):
        def decode() -> None:
            with Image.open(source) as image:
                image.load()
        return decode

    photo_runs = {"ours": drawing(photo_path), "pillow_full_decode": pillow_full(photo_path),
                  "ours_progressive": drawing(progressive_path),
                  "pillow_full_decode_progressive": pillow_full(progressive_path)}
    for fn in photo_runs.values():
        fn()
    photo_times = interleaved(max(repeats, 7) * 2, photo_runs)
    for name, seconds in photo_times.items():
        print(f"photo-like {name:32s} {seconds * 1000:8.1f} ms")
    drawn = draw_file(path, detections, style=DISPLAY)
    details = {"image_wh": list(size), "jpeg_bytes": path.stat().st_size, "boxes": len(detections),
               "repeats": repeats, "ms": {k: round(v * 1000, 1) for k, v in times.items()},
               "ratio_to_ours": {k: round(v / times["ours"], 2) for k, v in times.items()},
               "drawn_wh": list(drawn.size), "font": bool(font),
               "photo_like": {"jpeg_bytes": photo_path.stat().st_size,
                              "progressive_jpeg_bytes": progressive_path.stat().st_size,
                              "ms": {k: round(v * 1000, 1) for k, v in photo_times.items()}}}
    ms = {k: v * 1000 for k, v in times.items()}
    rows = [
        Row("draw: 12 MP JPEG file + 50 boxes -> 1600 px drawn copy", ours=ms["ours"], units="ms",
            peer=ms["decode_full_supervision"], goal=Goal.ours_at_most(GOAL_MS),
            notes=f"peer: full-size decode + supervision annotators; decoding alone at 1/2 scale (the floor): "
                  f"{ms['decode_half_opencv']:.1f} ms OpenCV, {ms['decode_half_pillow']:.1f} ms Pillow draft; "
                  f"earlier app path {ms['decode_full_then_draw']:.0f} ms; "
                  f"best of {repeats}; JPEG {path.stat().st_size / 1e6:.1f} MB"),
        Row("draw: app path, upload's 1600 px display copy + 50 boxes", ours=ms["app_display_copy"], units="ms",
            peer=ms["decode_full_supervision"], goal=Goal.ours_at_most(GOAL_MS),
            notes="workbench.tryit.results draws on the display copy made at upload; same peer"),
        Row("draw: photo-like 12 MP JPEG file + 50 boxes vs Pillow's plain full decode", units="ms",
            ours=photo_times["ours"] * 1000, peer=photo_times["pillow_full_decode"] * 1000,
            goal=Goal.ratio_at_most(1.0),
            notes=f"peer: Image.open + load of the same file ({photo_path.stat().st_size / 1e6:.1f} MB, smooth fields, "
                  f"edges, texture, noise); interleaved rounds, best of {max(repeats, 7) * 2}"),
        Row("draw: the same photo as a progressive JPEG vs Pillow's plain full decode", units="ms",
            ours=photo_times["ours_progressive"] * 1000, peer=photo_times["pillow_full_decode_progressive"] * 1000,
            goal=Goal.ratio_at_most(1.0),
            notes="a progressive file's reduced decode still reads every scan, so it saves little: the hard case"),
    ]
    return details, rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    details, rows = run(args.repeats)
    from bench._record import write_record

    print("wrote", write_record("draw_time", details, ("supervision", "pillow", "numpy", "opencv-python-headless"),
                                rows=rows))
