"""Header-only geometry vs running the Hugging Face image processor, on 100 large JPEGs.

    python -m bench.geometry_header_vs_processor [--count 100] [--size 4032 3024]

Peer: what a user does without the workbench: decode the file, EXIF-transpose it and run the
Qwen2.5-VL image processor to read ``image_grid_thw``. Both must give identical grids.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import ExifTags, Image, ImageOps

from bench._record import Row, write_record
from grounding import PixelLimits, probe_image


def make_jpegs(folder: Path, count: int, size: tuple[int, int]) -> list[Path]:
    rng = np.random.default_rng(0)
    w, h = size
    base = (np.add.outer(np.arange(h) % 256, np.arange(w) % 256) // 2).astype(np.uint8)
    paths = []
    for index in range(count):
        pixels = np.stack([base, np.roll(base, index * 7, axis=1), np.full_like(base, index % 256)], axis=2)
        pixels[:: 97 + index % 5] = rng.integers(0, 255, size=(1, w, 3), dtype=np.uint8)
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6 if index % 4 == 0 else 1  # a quarter are rotated phone photos
        path = folder / f"photo_{index:03d}.jpg"
        Image.fromarray(pixels).save(path, "JPEG", quality=90, exif=exif.tobytes())
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--size", type=int, nargs=2, default=(4032, 3024))
    args = parser.parse_args()

    from transformers import Qwen2VLImageProcessor

    limits = PixelLimits.default_for("qwen2.5-vl")
    processor = Qwen2VLImageProcessor(size=limits.as_processor_size())
    with tempfile.TemporaryDirectory() as tmp:
        print(f"writing {args.count} JPEGs of {args.size[0]}x{args.size[1]} ...", flush=True)
        paths = make_jpegs(Path(tmp), args.count, tuple(args.size))

        start = time.perf_counter()
        ours = [probe_image(path, "qwen2.5-vl", limits).grid_thw for path in paths]
        header_s = time.perf_counter() - start

        peer, decode_s, process_s = [], 0.0, 0.0
        for path in paths:
            t0 = time.perf_counter()
            with Image.open(path) as image:
                pixels = ImageOps.exif_transpose(image).convert("RGB")
            t1 = time.perf_counter()
            grid = processor(images=[pixels], return_tensors="pt")["image_grid_thw"].tolist()[0]
            t2 = time.perf_counter()
            peer.append(tuple(grid))
            decode_s += t1 - t0
            process_s += t2 - t1

    identical = ours == peer
    ratio = (decode_s + process_s) / header_s
    print(f"header-only geometry : {header_s * 1000 / args.count:8.3f} ms/image")
    print(f"decode + processor   : {(decode_s + process_s) * 1000 / args.count:8.1f} ms/image "
          f"(decode {decode_s * 1000 / args.count:.1f}, processor {process_s * 1000 / args.count:.1f})")
    print(f"ratio                : {ratio:8.0f}x  (processor alone: {process_s / header_s:.0f}x)")
    print(f"identical grids      : {identical}  e.g. {ours[0]} / {ours[1]}")
    path = write_record("geometry_header_vs_processor", {
        "count": args.count, "size": list(args.size), "header_s": header_s, "decode_s": decode_s,
        "processor_s": process_s, "ratio": ratio, "ratio_processor_only": process_s / header_s,
        "identical_grids": identical, "distinct_grids": sorted({str(g) for g in ours}),
    }, ("transformers", "torch", "torchvision", "pillow"), rows=[
        Row(f"geometry of a {args.size[0]}x{args.size[1]} JPEG from its header", ours=header_s * 1000 / args.count,
            peer=(decode_s + process_s) * 1000 / args.count, units="ms/image",
            notes=f"peer: decode + Qwen2.5-VL image processor; identical grids: {identical}; {args.count} images"),
    ])
    print(f"record: {path}")
    if not identical:
        raise SystemExit("grids differ")


if __name__ == "__main__":
    main()
