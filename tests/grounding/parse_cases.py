"""Hand-written model outputs, one per output style the parser must read (shared by several tests).

Geometry: Qwen2.5-VL cases use a 1288x952 original seen as 644x476 (factor 2 exactly with the
``RESIZED`` below); 0-1000 families use a 2000x1000 original (x*2, y*1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from grounding import ModelFamily, ProcessedImage


@dataclass(frozen=True)
class StyleCase:
    id: str
    family: str
    text: str
    expected: list[tuple[str, str, tuple[float, ...]]]  # (kind, label, model coords, corners ordered)
    warning: str | None = None  # a substring one warning must contain
    attributes: dict = field(default_factory=dict)  # attributes the first detection must carry


def geometry(family: str) -> ProcessedImage:
    fam = ModelFamily.from_name(family)
    if fam.is_relative:
        return ProcessedImage(original_wh=(2000, 1000), resized_wh=(1984, 992), family=fam)
    return ProcessedImage(original_wh=(1288, 952), resized_wh=(644, 476), family=fam)


Q25, Q3, Q2 = "qwen2.5-vl", "qwen3-vl", "qwen2-vl"
CAT = ("box", "cat", (10.0, 20.0, 110.0, 120.0))
DOG = ("box", "dog", (200.0, 210.0, 300.0, 310.0))

STYLE_CASES = [
    StyleCase("fenced-json-list", Q25,
              '```json\n[\n\t{"bbox_2d": [10, 20, 110, 120], "label": "cat"},\n\t{"bbox_2d": [200, 210, 300, 310], "label": "dog"}\n]\n```',
              [CAT, DOG]),
    StyleCase("bare-json-list", Q25, '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]', [CAT]),
    StyleCase("bare-json-line", Q25, 'json\n[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]', [CAT]),
    StyleCase("single-object-unwrapped", Q3, '{"bbox_2d": [10, 20, 110, 120], "label": "cat"}', [CAT]),
    StyleCase("objects-one-per-line", Q3,
              '{"bbox_2d": [10, 20, 110, 120], "label": "cat"}\n{"bbox_2d": [200, 210, 300, 310], "label": "dog"}',
              [CAT, DOG]),
    StyleCase("prose-around-json", Q25,
              'Here are the boxes:\n```json\n[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]\n```\nThere is 1 cat [sic].',
              [CAT]),
    StyleCase("truncated-keeps-complete-objects", Q25,
              '```json\n[\n{"bbox_2d": [10, 20, 110, 120], "label": "cat"},\n{"bbox_2d": [200, 210, 300, 310], "label": "dog"},\n{"bbox_2d": [5, 6, 7',
              [CAT, DOG], warning="stops inside a JSON value"),
    StyleCase("truncated-inside-label", Q3,
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}, {"bbox_2d": [200, 210, 300, 310], "label": "do',
              [CAT], warning="stops inside a JSON value"),
    StyleCase("truncated-after-first-box", Q25, '```json\n[\n  {"bbox_2d": [10, 20, 110, 120], "label":', [],
              warning="before its first complete object"),
    StyleCase("truncated-right-after-first-box", Q25, '```json\n[\n  {"bbox_2d": [10, 20, 110, 120]', [],
              warning="before its first complete object"),
    StyleCase("truncated-list-of-boxes", Q25, '<answer>[[10, 20, 110, 120], [200, 210, 3', [],
              warning="no boxes or points"),
    StyleCase("truncated-inside-first-box", Q25, '```json\n[{"bbox_2d": [10, 20, 1', [],
              warning="before its first complete object"),
    StyleCase("trailing-commas", Q25,
              '```json\n[\n    {\n        "bbox_2d": [10, 20, 110, 120], "text_content": "cat",\n    },\n]\n```',
              [CAT], warning="Python literal", attributes={"text_content": "cat"}),
    StyleCase("python-literals", Q25, "[{'bbox_2d': [10, 20, 110, 120], 'label': 'cat', 'occluded': True, 'note': None}]",
              [CAT], attributes={"occluded": True, "note": None}),
    StyleCase("duplicated-keys-split", Q25,
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat", "bbox_2d": [200, 210, 300, 310], "label": "dog"}]',
              [CAT, DOG], warning="repeats its keys"),
    StyleCase("stray-brace-in-list", Q3,
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"},\n{\n{"bbox_2d": [200, 210, 300, 310], "label": "dog"}]',
              [CAT, DOG], warning="repaired malformed JSON"),
    StyleCase("missing-comma-between-objects", Q25,
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"} {"bbox_2d": [200, 210, 300, 310], "label": "dog"}]',
              [CAT, DOG], warning="repaired malformed JSON"),
    StyleCase("label-under-name-en", Q3, '[{"bbox_2d": [10, 20, 110, 120], "name_zh": "猫", "name_en": "cat"}]', [CAT],
              attributes={"name_zh": "猫", "name_en": "cat"}),
    StyleCase("label-under-name", Q3, '[{"bbox_2d": [10, 20, 110, 120], "name": "cat"}]', [CAT]),
    StyleCase("label-nested-names", Q3, '[{"bbox_2d": [10, 20, 110, 120], "names": {"zh": "猫", "en": "cat"}}]', [CAT]),
    StyleCase("object-with-bboxes-list", Q2,
              '```json\n[{"object": "cat", "bboxes": [[10, 20, 110, 120], [200, 210, 300, 310]]}]\n```',
              [CAT, ("box", "cat", (200.0, 210.0, 300.0, 310.0))]),
    StyleCase("bbox-key-and-confidence", Q25, '[{"bbox": [10, 20, 110, 120], "label": "cat", "confidence": 0.9}]', [CAT],
              attributes={"confidence": 0.9}),
    StyleCase("wrapped-in-objects-key", Q3, '{"objects": [{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]}', [CAT]),
    StyleCase("coordinates-as-string", Q25, '[{"bbox_2d": "10, 20, 110, 120", "label": "cat"}]', [CAT]),
    StyleCase("point-2d", Q3, '```json\n[{"point_2d": [925, 618], "label": "point_1"}]\n```',
              [("point", "point_1", (925.0, 618.0))]),
    StyleCase("qwen2-vl-special-tokens", Q2,
              "<|object_ref_start|>cat<|object_ref_end|><|box_start|>(10,20),(110,120)<|box_end|> and "
              "<|object_ref_start|>dog<|object_ref_end|><|box_start|>(200,210),(300,310)<|box_end|><|im_end|>",
              [CAT, DOG]),
    StyleCase("qwen-vl-ref-box-two-boxes", Q2,
              "<ref>cat</ref><box>(10,20),(110,120)</box><box>(200,210),(300,310)</box>",
              [CAT, ("box", "cat", (200.0, 210.0, 300.0, 310.0))]),
    StyleCase("special-tokens-stripped", Q2, "The cat(10,20),(110,120) sits.",
              [("box", "The cat", (10.0, 20.0, 110.0, 120.0))], warning="skip_special_tokens"),
    StyleCase("xml-points", Q25, '<points x1="10" y1="20" x2="30" y2="40" alt="cups">cups</points>',
              [("point", "cups", (10.0, 20.0)), ("point", "cups", (30.0, 40.0))]),
    StyleCase("think-answer", Q3,
              '<think>Maybe {"bbox_2d": [1, 2, 3, 4], "label": "draft"}.</think>\n<answer>```json\n'
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]\n```</answer>', [CAT]),
    StyleCase("vlm-r1-answer-bare-box", Q25, "<think>The cat is left.</think><answer>[10, 20, 110, 120]</answer>",
              [("box", "", (10.0, 20.0, 110.0, 120.0))], warning="no label"),
    StyleCase("tool-call-click", Q25,
              '<tool_call>\n{"name": "mobile_use", "arguments": {"action": "click", "coordinate": [935, 406]}}\n</tool_call>',
              [("point", "click", (935.0, 406.0))]),
    StyleCase("tool-call-zoom-img-idx", Q3,
              '<tool_call>{"name": "image_zoom_in_tool", "arguments": {"label": "cat", "bbox_2d": [10, 20, 110, 120], "img_idx": 0}}</tool_call>',
              [CAT]),
    StyleCase("tool-call-arguments-as-string", Q3,
              '{"name": "image_zoom_in_tool", "arguments": "{\\"bbox_2d\\": [10, 20, 110, 120], \\"label\\": \\"cat\\"}"}',
              [CAT]),
    StyleCase("html-data-bbox", Q25,
              '```html\n<html><body>\n<h2 data-bbox="10 20 110 120">Title</h2>\n<div class="image" data-bbox="200 210 300 310"><img data-bbox="200 210 300 310"/></div>\n</body></html>\n```',
              [("box", "h2", (10.0, 20.0, 110.0, 120.0)), ("box", "div.image", (200.0, 210.0, 300.0, 310.0)),
               ("box", "img", (200.0, 210.0, 300.0, 310.0))], attributes={"text_content": "Title"}),
    StyleCase("plain-text-lines", Q25, "10,20,110,120 cat\n200,210,300,310 dog\n", [CAT, DOG]),
    StyleCase("corners-swapped", Q25, '[{"bbox_2d": [110, 120, 10, 20], "label": "cat"}]', [CAT], warning="corners reordered"),
    StyleCase("beyond-the-image", Q25, '[{"bbox_2d": [-10, 0, 700, 500], "label": "big"}]',
              [("box", "big", (-10.0, 0.0, 700.0, 500.0))], warning="reach beyond their image"),
    # GUI agents fine-tuned from Qwen2-VL / Qwen2.5-VL: a point inside box tokens, in an action call
    StyleCase("gui-click-in-box-tokens", Q2,
              "Thought: open the menu\nAction: click(start_box='<|box_start|>(235,512)<|box_end|>')",
              [("point", "click", (235.0, 512.0))], attributes={"argument": "start_box"}),
    StyleCase("gui-click-tokens-stripped", Q25, "Action: click(start_box='(235,512)')",
              [("point", "click", (235.0, 512.0))]),
    StyleCase("gui-ref-before-click", Q2,
              "<|object_ref_start|>OK button<|object_ref_end|>click(start_box='<|box_start|>(235,512)<|box_end|>')",
              [("point", "OK button", (235.0, 512.0))], attributes={"argument": "start_box", "action": "click"}),
    StyleCase("gui-ref-and-point-in-box-tokens", Q2,
              "<|object_ref_start|>the search box<|object_ref_end|><|box_start|>(235,512)<|box_end|>",
              [("point", "the search box", (235.0, 512.0))]),
    StyleCase("gui-drag-two-points", Q2,
              "drag(start_box='<|box_start|>(10,20)<|box_end|>', end_box='<|box_start|>(110,120)<|box_end|>')",
              [("point", "drag", (10.0, 20.0)), ("point", "drag", (110.0, 120.0))]),
    StyleCase("gui-click-box-as-list", Q25, "click(start_box='[10, 20, 110, 120]')", [("box", "click", (10.0, 20.0, 110.0, 120.0))]),
    StyleCase("gui-click-point-tag", Q25, "Action: click(point='<point>200 300</point>')", [("point", "click", (200.0, 300.0))]),
    # several objects in one JSON object with repeated keys, also cut off by the token limit
    StyleCase("repeated-keys-object-name", Q25,
              '{"object_name": "cat", "bbox": [10, 20, 110, 120], "object_name": "dog", "bbox": [200, 210, 300, 310]}',
              [CAT, DOG], warning="repeats its keys"),
    StyleCase("repeated-keys-cut-off", Q25,
              '```json\n{"object_name": "cat", "bbox": [10, 20, 110, 120], "object_name": "dog", "bbox": [200, 210, 300, 310], '
              '"object_name": "bird", "bbox": [5, 6',
              [CAT, DOG], warning="complete group"),
    StyleCase("repeated-keys-cut-off-in-list", Q3,
              '[{"object_name": "cat", "bbox": [10, 20, 110, 120], "object_name": "dog", "bbox": [200, 210, 300, 310], "obj',
              [CAT, DOG], warning="complete group"),
    # Qwen2-VL quads; one number grammar everywhere
    StyleCase("qwen2-vl-quad", Q2,
              "<|object_ref_start|>STOP<|object_ref_end|><|quad_start|>(10,20),(110,25),(105,120),(12,115)<|quad_end|>",
              [("box", "STOP", (10.0, 20.0, 110.0, 120.0))],
              attributes={"quad": [[10.0, 20.0], [110.0, 25.0], [105.0, 120.0], [12.0, 115.0]]}),
    StyleCase("scientific-notation-in-box-tokens", Q2, "<|box_start|>(1e2,20),(300,400)<|box_end|>",
              [("box", "", (100.0, 20.0, 300.0, 400.0))]),
    StyleCase("signs-decimals-exponents-plain-line", Q25, "+10.5,2e1,1.1e2,120 cat",
              [("box", "cat", (10.5, 20.0, 110.0, 120.0))]),
    StyleCase("scientific-notation-stripped-pairs", Q2, "the cat(1e1,2E1),(110,1.2e+2)",
              [("box", "the cat", (10.0, 20.0, 110.0, 120.0))]),
    StyleCase("scientific-notation-data-bbox", Q25, '<p data-bbox="1e1 20 1.1e2 +120">cat</p>',
              [("box", "p", (10.0, 20.0, 110.0, 120.0))]),
    StyleCase("no-coordinates", Q25, "The cat sits on the left, near the window.", [], warning="no boxes or points"),
    StyleCase("empty-text", Q25, "", [], warning="no boxes or points"),
]
