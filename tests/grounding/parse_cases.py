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


Q25, Q3, Q2, Q35 = "qwen2.5-vl", "qwen3-vl", "qwen2-vl", "qwen3.5"
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
    # issue 22: coordinates in prose (read only when nothing structured is there)
    StyleCase("prose-bare-list-ends-a-sentence", Q25, "The cat is at [10, 20, 110, 120].", [CAT],
              warning="written in prose"),
    StyleCase("prose-point-and-box-in-one-sentence", Q35,
              "The cat is located at (60, 70), with a bounding box of (10, 20, 110, 120).", [CAT]),
    StyleCase("prose-point-alone", Q35, "The OK button is located at (235, 512).", [("point", "OK button", (235.0, 512.0))]),
    StyleCase("prose-two-corner-lines", Q35,
              "I found it.\n\n**cat**\n- Top-left corner: (10, 20)\n- Bottom-right corner: (110, 120)\n", [CAT],
              attributes={"corners": ["top-left", "bottom-right"]}),
    StyleCase("prose-named-keys-any-order", Q35, "The cat is at x_max: 110, y_min: 20, x_min: 10, y_max: 120.", [CAT]),
    StyleCase("prose-numbers-that-are-not-coordinates", Q25,
              "There are 3 cats and 2 dogs in this 1920x1080 photo from 2019.\n1. The first cat\n2. The second cat\n"
              "Image size: (640, 480). Counts: (3, 4).\n2019, 2020, 2021, 2022 were good years; sales rose 15, 20 and 25 "
              "percent [2, 3].",
              [], warning="no boxes or points"),
    # text copied from server logs or a Python repr
    StyleCase("log-escaped-quotes-in-action", Q25, r"DEBUG output: Action: click(start_box=\'(235,512)\')",
              [("point", "click", (235.0, 512.0))]),
    StyleCase("log-escaped-json", Q3, r'INFO response="{\"bbox_2d\": [10, 20, 110, 120], \"label\": \"cat\"}"', [CAT],
              warning="escapes undone"),
    StyleCase("python-repr-of-the-answer", Q25,
              r"""'```json\n[{\'bbox_2d\': [10, 20, 110, 120], \'label\': \'cat\'}]\n```'""", [CAT]),
    # named keys in any order, 0-1 fractions under named keys, named corners
    StyleCase("named-keys-any-order", Q25, '[{"x_max": 110, "y_min": 20, "label": "cat", "x_min": 10, "y_max": 120}]',
              [CAT]),
    StyleCase("named-keys-left-top-right-bottom", Q3, '{"label": "cat", "right": 110, "bottom": 120, "left": 10, "top": 20}',
              [CAT]),
    StyleCase("named-keys-fractions", Q35, '[{"label": "cat", "x_max": 0.5, "x_min": 0.125, "y_min": 0.25, "y_max": 0.375}]',
              [("box", "cat", (125.0, 250.0, 500.0, 375.0))], attributes={"fractions": True}),
    StyleCase("named-keys-fractions-absolute-family", Q25, '{"label": "cat", "xmin": 0.25, "ymin": 0.5, "xmax": 0.5, "ymax": 1.0}',
              [("box", "cat", (161.0, 238.0, 322.0, 476.0))]),
    StyleCase("named-corner-points", Q3, '[{"label": "cat", "bottom_right": [110, 120], "top_left": [10, 20]}]', [CAT]),
    # two-point actions
    StyleCase("gui-drag-unquoted", Q25, "drag(start=(10, 20), end=(110, 120))",
              [("point", "drag", (10.0, 20.0)), ("point", "drag", (110.0, 120.0))], attributes={"argument": "start"}),
    StyleCase("gui-swipe-json-start-end", Q3, '{"action": "swipe", "start_coordinate": [10, 20], "end_coordinate": [110, 120]}',
              [("point", "swipe", (10.0, 20.0)), ("point", "swipe", (110.0, 120.0))]),
    StyleCase("gui-scroll-start-end-points", Q25, "scroll(start_point='(10,20)', end_point='(110,120)', direction='up')",
              [("point", "scroll", (10.0, 20.0)), ("point", "scroll", (110.0, 120.0))]),
    # labels that copy the question or a placeholder
    StyleCase("label-copies-a-placeholder", Q25, '[{"bbox_2d": [10, 20, 110, 120], "label": "object name/description"}]',
              [("box", "", CAT[2])], warning="copied the question or a template placeholder",
              attributes={"copied_label": "object name/description"}),
    StyleCase("label-copies-the-question", Q3,
              '[{"bbox_2d": [10, 20, 110, 120], "label": "Locate every instance that belongs to the following '
              'categories: \\"cat\\". Report bbox coordinates in JSON format."}]',
              [("box", "", CAT[2])], warning="copied the question"),
    StyleCase("label-angle-placeholder", Q25, '[{"bbox_2d": [10, 20, 110, 120], "label": "<label>"}]', [("box", "", CAT[2])]),
    # thinking: the reasoning mentions coordinates; the final answer's win
    StyleCase("think-closing-tag-only", Q35,
              "The cat seems to span [1, 2, 3, 4]... no, lower.\n</think>\n\n```json\n"
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]\n```', [CAT]),
    StyleCase("reasoning-prose-before-a-structured-answer", Q35,
              "The cat spans roughly (5, 5, 50, 50) by my first estimate; the ears reach higher.\n"
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]', [CAT]),
    StyleCase("reasoning-draft-json-then-final-answer", Q35,
              'Draft: [{"bbox_2d": [1, 2, 3, 4], "label": "cat"}]\nToo small.\nFinal answer: '
              '[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]', [CAT], warning="read the final answer only"),
    StyleCase("answer-tags-after-prose-reasoning", Q35,
              'I look left: maybe (1, 2, 3, 4).<answer>[{"bbox_2d": [10, 20, 110, 120], "label": "cat"}]</answer>', [CAT]),
    StyleCase("no-coordinates", Q25, "The cat sits on the left, near the window.", [], warning="no boxes or points"),
    StyleCase("empty-text", Q25, "", [], warning="no boxes or points"),
]
