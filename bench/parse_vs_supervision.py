"""Per-input comparison with supervision's ``Detections.from_vlm``: how many boxes each reads.

Inputs: the style table of the tests and, when ../shared is beside the checkout, the real corpus
(Qwen2.5-VL and Qwen3-VL cases; supervision has no Qwen2-VL parser). Prints one line per input
where the counts differ; docs/parser.md explains each kind of difference.

    python bench/parse_vs_supervision.py
"""

from __future__ import annotations

import _timing

from bench._record import Goal, Row
from grounding.parse import parse_grounding
from tests.conftest import load_corpus
from tests.grounding.parse.test_corpus import case_geometry
from tests.grounding.parse_cases import STYLE_CASES, geometry
from tests.grounding.sv_compare import from_vlm, missing_from_ours


def inputs():
    for case in STYLE_CASES:
        if case.family in ("qwen2.5-vl", "qwen3-vl"):
            yield "style:" + case.id, case.text, geometry(case.family)
    for case in load_corpus():
        if case["model"].split(" ")[0] in ("qwen2.5-vl", "qwen3-vl") and case["original_wh"]:
            yield "corpus:" + case["id"], case["raw_output"], case_geometry(case)


def run() -> dict[str, object]:
    rows, same, missing_total, boxes_ours, boxes_peer = [], 0, 0, 0, 0
    for name, text, image in inputs():
        theirs = from_vlm(text, image)
        ours = parse_grounding(text, image.family, image).detections
        boxes_ours += sum(d.kind == "box" for d in ours)
        boxes_peer += len(theirs or ())
        missing_total += len(missing_from_ours(text, image))
        n_theirs = "raised" if theirs is None else len(theirs)
        if n_theirs == len(ours):
            same += 1
            continue
        kinds = sorted({d.kind for d in ours})
        rows.append({"input": name, "ours": len(ours), "supervision": n_theirs, "our_kinds": kinds})
        print(f"{name:55s} ours {len(ours):3d} {'/'.join(kinds):10s} supervision {n_theirs}")
    print(f"{same} inputs read the same, {len(rows)} differ; boxes: ours {boxes_ours}, supervision {boxes_peer}; "
          f"supervision boxes we miss: {missing_total}")
    return {"ours": boxes_ours, "peer": boxes_peer, "ratio": round(boxes_ours / max(1, boxes_peer), 2),
            "goal": "every box from_vlm returns is among ours", "pass": missing_total == 0,
            "unit": "boxes read on the style table and the corpus", "same": same, "differ": rows,
            "supervision_boxes_missing_from_ours": missing_total}


if __name__ == "__main__":
    result = run()
    rows = [
        Row("parse: boxes read, style table + corpus", ours=float(result["ours"]), peer=float(result["peer"]),
            units="boxes", notes=f"peer: supervision from_vlm; {result['same']} inputs read the same, "
                                 f"{len(result['differ'])} differ (docs/parser.md says why)"),
        Row("parse: from_vlm boxes missing from ours, style table + corpus",
            ours=float(result["supervision_boxes_missing_from_ours"]), units="boxes", goal=Goal.ours_at_most(0)),
    ]
    print("wrote", _timing.write_result("parse_vs_supervision", result, rows=rows))
