"""Run supervision's ``Detections.from_vlm`` and our parser on the same text and compare (test helper)."""

from __future__ import annotations

import numpy as np
import supervision as sv

from grounding import ProcessedImage
from grounding.parse import parse_grounding
from grounding.parse.objects import clean_label


def from_vlm(text: str, image: ProcessedImage) -> list[tuple[str, tuple[float, ...]]] | None:
    """supervision's reading, corners ordered; ``None`` when it raises or has no parser for the family."""
    try:
        if image.family.name == "qwen2.5-vl":
            found = sv.Detections.from_vlm(sv.VLM.QWEN_2_5_VL, text, input_wh=image.resized_wh,
                                           resolution_wh=image.original_wh)
        elif image.family.name == "qwen3-vl":
            found = sv.Detections.from_vlm(sv.VLM.QWEN_3_VL, text, resolution_wh=image.original_wh)
        else:
            return None
    except Exception:
        return None
    names = found.data.get("class_name", np.array([], dtype=str))
    boxes = np.concatenate([np.minimum(found.xyxy[:, :2], found.xyxy[:, 2:]),
                            np.maximum(found.xyxy[:, :2], found.xyxy[:, 2:])], axis=1) if len(found) else found.xyxy
    return [(str(name), tuple(float(v) for v in box)) for name, box in zip(names, boxes)]


def missing_from_ours(text: str, image: ProcessedImage) -> list[tuple[str, tuple[float, ...]]]:
    """supervision's detections that our parser does not also return (same label, same box)."""
    theirs = from_vlm(text, image) or []
    # a label we set aside as a copied placeholder (docs/parser.md) still counts as the one supervision kept
    ours = [(d.attributes.get("copied_label", d.label), d.original)
            for d in parse_grounding(text, image.family, image).detections if d.kind == "box"]
    missing = []
    for name, box in theirs:
        match = next((i for i, (label, original) in enumerate(ours)
                      if label == clean_label(name) and np.allclose(original, box, rtol=1e-9, atol=1e-6)), None)
        if match is None:
            missing.append((name, box))
        else:
            ours.pop(match)
    return missing
