"""Seeded synthetic Qwen-VL JSON outputs, cookbook-style (used by the tests and bench/parse_throughput.py)."""

from __future__ import annotations

import json
import random

LABELS = ["cat", "dog", "small cake", "person holding a dog", "wine bottle", "plate/dish", "击掌", "米饭"]


def clean_output(rng: random.Random, wh: tuple[int, int]) -> str:
    w, h = wh
    items = []
    for _ in range(rng.randint(1, 30)):
        x1, y1 = rng.randint(0, w - 2), rng.randint(0, h - 2)
        x2, y2 = rng.randint(x1 + 1, w), rng.randint(y1 + 1, h)
        items.append({"bbox_2d": [x1, y1, x2, y2], "label": rng.choice(LABELS)})
    indent = rng.choice(["\t", "    ", "  "])
    body = ",\n".join(indent + json.dumps(item, ensure_ascii=False) for item in items)
    return f"```json\n[\n{body}\n]\n```"


def messy_output(rng: random.Random, wh: tuple[int, int]) -> str:
    text = clean_output(rng, wh)
    kind = rng.randrange(4)
    if kind == 0:  # cut off by max_tokens
        return text[: rng.randint(len(text) // 2, len(text) - 1)]
    if kind == 1:  # Python literal
        return text.replace('"', "'")
    if kind == 2:  # trailing commas
        return text.replace("}\n]", "},\n]")
    return "Here is what I found.\n" + text + "\nThere are several objects."
