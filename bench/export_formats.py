"""Export time per format for a synthetic dataset (default 10,000 samples), against a plain json.dump peer.

The peer, measured in the same run, writes the same annotations with ``json.dump`` (no
coordinate conversion, no images, no validation, no zip): the ratio says what each format's
conversion, checks, image copies and zip cost on top of merely writing the data. Goal: JSON
formats (qwen_finetune, llamafactory, swift, vlmr1, xcomposer2, labelstudio) <= 5 s.

    python -m bench.export_formats [--samples 10000] [--formats coco,yolo] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # also runnable as a plain script

from bench._common import environment, save, synthetic_dataset, write_images  # noqa: E402
from workbench.export import FORMAT_NAMES, ExportSettings, export_dataset  # noqa: E402
from workbench.store import DatasetStore  # noqa: E402

JSON_FORMATS = {"qwen_finetune", "llamafactory", "swift", "vlmr1", "xcomposer2", "labelstudio"}
GOAL_S = 5.0


def peer_json_dump(store: DatasetStore, name: str, out: Path) -> float:
    start = time.perf_counter()
    rows = [{"prompt": s.prompt, "images": [str(i.file) for i in s.images],
             "boxes": [[list(a.coords) for a in i.annotations] for i in s.images]} for s in store.samples(name)]
    with open(out / "peer.json", "w", encoding="utf-8") as f:
        json.dump(rows, f)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--images", type=int, default=24, help="distinct images the samples draw from")
    parser.add_argument("--formats", default=",".join(FORMAT_NAMES))
    parser.add_argument("--family", default="qwen2.5-vl")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-export-"))
    try:
        with DatasetStore(root / "data" / "workbench.sqlite3", durable=False) as store:
            start = time.perf_counter()
            synthetic_dataset(store, "bench", args.samples, write_images(root / "src", args.images, seed=1), seed=2)
            build_s = time.perf_counter() - start
            peer_s = peer_json_dump(store, "bench", root)
            settings = ExportSettings.create(args.family, created_at="2026-01-01T00:00:00+00:00")
            results = {}
            for fmt in args.formats.split(","):
                start = time.perf_counter()
                result = export_dataset(store, "bench", fmt, settings, root / "out")
                seconds = time.perf_counter() - start
                results[fmt] = {"seconds": round(seconds, 3), "ratio_to_json_dump": round(seconds / peer_s, 1),
                                "entries": result.manifest["counts"]["entries"],
                                "zip_mb": round(result.zip_path.stat().st_size / 1e6, 2),
                                "goal_5s": (seconds <= GOAL_S) if fmt in JSON_FORMATS else None}
                print(f"{fmt:14s} {seconds:7.2f} s  x{seconds / peer_s:6.1f} json.dump", file=sys.stderr)
                shutil.rmtree(result.folder)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    save(args.json, {"bench": "export_formats", "samples": args.samples, "family": args.family,
                     "build_store_s": round(build_s, 2), "peer_json_dump_s": round(peer_s, 3),
                     "formats": results, "environment": environment()})


if __name__ == "__main__":
    main()
