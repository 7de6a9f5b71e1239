"""draw_detections: real drawings on real images (pixels checked), CJK labels, outside marks, display copy."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from grounding import process_size
from grounding.draw import DrawStyle, draw_detections, label_color_index
from grounding.fonts import cjk_font_path
from grounding.parse import Detection, parse_grounding
from tests.factories import make_image


def _box(label: str, original, *, outside: bool = False, kind: str = "box") -> Detection:
    return Detection(kind, label, 1, tuple(float(v) for v in original), tuple(float(v) for v in original), outside)


def _changed(before: Image.Image, after: Image.Image) -> np.ndarray:
    return np.any(np.asarray(before.convert("RGB"), dtype=int) != np.asarray(after, dtype=int), axis=2)


def test_draws_on_a_copy_at_the_box():
    image = Image.new("RGB", (400, 300), "white")
    drawn = draw_detections(image, [_box("cat", (100, 100, 200, 200))], style=DrawStyle(show_labels=False))
    assert image.getpixel((100, 150)) == (255, 255, 255)  # input untouched
    changed = _changed(image, drawn)
    assert changed[150, 100] and changed[100, 150] and changed[199, 150]  # left, top and bottom edges
    assert not changed[150, 150] and not changed[20, 20]  # inside and far away stay white


def test_same_label_same_colour_on_different_images():
    style = DrawStyle(show_labels=False, thickness=4)
    a = draw_detections(Image.new("RGB", (300, 300), "white"), [_box("cat", (50, 50, 250, 250))], style=style)
    b = draw_detections(Image.new("RGB", (500, 200), "white"), [_box("cat", (10, 10, 100, 100)),
                                                                 _box("dog", (200, 10, 300, 100))], style=style)
    assert a.getpixel((51, 150)) == b.getpixel((11, 50))
    assert label_color_index("cat") == label_color_index("cat")


def test_points_are_drawn_as_dots():
    image = Image.new("RGB", (300, 300), "white")
    drawn = draw_detections(image, [_box("click", (150, 150), kind="point")], style=DrawStyle(show_labels=False))
    assert _changed(image, drawn)[150, 150] and not _changed(image, drawn)[10, 10]


def test_outside_boxes_are_clamped_and_marked():
    image = Image.new("RGB", (400, 300), "white")
    inside = draw_detections(image, [_box("cat", (-50, 20, 200, 200))], style=DrawStyle(show_labels=False))
    marked = draw_detections(image, [_box("cat", (-50, 20, 200, 200), outside=True)], style=DrawStyle(show_labels=False))
    warning = np.array([0xFF, 0x17, 0x44])  # DrawStyle().outside_color
    assert np.all(np.asarray(marked) == warning, axis=2).sum() > 100  # the warning-coloured corners
    assert np.all(np.asarray(inside) == warning, axis=2).sum() == 0
    assert _changed(image, marked)[100, 0]  # the clamped left edge is drawn on the image border


def test_very_large_images_are_drawn_on_a_display_copy_with_scaled_coordinates():
    image = make_image(4032, 3024)
    drawn = draw_detections(image, [_box("cat", (2016, 1512, 4032, 3024))], style=DrawStyle(show_labels=False))
    assert drawn.size == (2048, 1536)
    plain = image.resize(drawn.size, Image.Resampling.BILINEAR)
    changed = _changed(plain, drawn)
    assert changed[1000, 1024] and changed[768, 1500] and not changed[400, 400]


@pytest.mark.skipif(cjk_font_path() is None, reason="no CJK font installed (fonts-noto-cjk)")
def test_cjk_labels_render_as_distinct_glyphs():
    image = Image.new("RGB", (400, 300), "white")
    style = DrawStyle(font_size=32)
    first = np.asarray(draw_detections(image, [_box("击掌", (100, 100, 300, 250))], style=style))
    second = np.asarray(draw_detections(image, [_box("米饭", (100, 100, 300, 250))], style=style))
    # Without CJK glyphs both labels would be the same two "missing glyph" boxes.
    assert np.any(first[50:100] != second[50:100])


def test_missing_cjk_font_falls_back_with_a_warning(monkeypatch):
    import grounding.draw as draw

    monkeypatch.setattr(draw, "cjk_font_path", lambda: None)
    with pytest.warns(UserWarning, match="no CJK font"):
        drawn = draw.draw_detections(Image.new("RGB", (200, 200)), [_box("cat", (10, 10, 100, 100))])
    assert drawn.size == (200, 200)


def test_real_corpus_drawing(corpus, corpus_images, tmp_path):
    case = next(c for c in corpus if c["id"] == "qwen-vl-chat-ref-box-highfive")
    image = Image.open(corpus_images / "qwen-vl_demo.jpeg")
    result = parse_grounding(case["raw_output"], "qwen2-vl", process_size(image.size, "qwen2-vl"))
    drawn = draw_detections(image, result.for_image(1))
    drawn.save(tmp_path / "drawn.png")
    x1, y1, x2, y2 = (round(v) for v in result.detections[0].original)
    changed = _changed(image, drawn)
    assert changed[(y1 + y2) // 2, x1] and changed[(y1 + y2) // 2, x2 - 1]
    assert not changed[(y1 + y2) // 2, (x1 + x2) // 2]


def _edge_points(display_box):
    """Midpoints of a display-space box's four edges, as (x, y) pixels where cv2 draws the line."""
    x1, y1, x2, y2 = (int(v) for v in display_box)
    return [(x1, (y1 + y2) // 2), (x2, (y1 + y2) // 2), ((x1 + x2) // 2, y1), ((x1 + x2) // 2, y2)]


def _colour(label: str) -> tuple[int, int, int]:
    from grounding.draw import PALETTE

    return PALETTE.by_idx(label_color_index(label)).as_rgb()


def test_draw_file_decodes_a_rotated_jpeg_small_and_puts_each_box_on_its_place(tmp_path):
    from grounding.display import DisplayScale
    from grounding.draw import draw_file
    from tests.factories import write_image

    # stored 3000x2000 with orientation 6: shown 2000x3000; at max_side 1000 the JPEG decodes at 1/2 scale
    path = write_image(tmp_path, 3000, 2000, fmt="JPEG", orientation=6)
    boxes = [_box("cat", (200, 300, 1200, 900)), _box("dog", (1400, 2300, 1900, 2900))]
    assert _colour("cat") != _colour("dog")
    style = DrawStyle(max_side=1000, show_labels=False)
    drawn = draw_file(path, boxes, style=style)
    assert drawn.size == (667, 1000)  # upright, not the stored landscape
    upright = Image.open(path)
    full = draw_detections(upright, boxes, style=style)  # decoded at full size, for comparison
    scale = DisplayScale((2000, 3000), drawn.size)
    for detection in boxes:
        colour = _colour(detection.label)
        shown = scale.to_display(detection.original)
        for x, y in _edge_points(shown):
            assert drawn.getpixel((x, y)) == colour, (detection.label, x, y)
            assert full.getpixel((x, y)) == colour
        centre = (int(shown[0] + shown[2]) // 2, int(shown[1] + shown[3]) // 2)
        assert drawn.getpixel(centre) != colour
    pixels = np.asarray(drawn).astype(int)
    assert np.abs(pixels - np.asarray(full).astype(int)).mean() < 4  # same picture, decoded another way


@pytest.mark.parametrize("orientation", [pytest.param(o, id=f"orientation-{o}") for o in range(1, 9)])
def test_draw_file_turns_every_exif_orientation_as_pillow_does(tmp_path, orientation):
    from grounding.draw import draw_file
    from tests.factories import write_image

    path = write_image(tmp_path, 1200, 800, fmt="JPEG", orientation=orientation)
    style = DrawStyle(max_side=500, show_labels=False)
    drawn = draw_file(path, [], style=style)  # OpenCV decodes at 1/2 scale and turns the small copy
    full = draw_detections(Image.open(path), [], style=style)  # Pillow: full size, exif_transpose
    assert drawn.size == full.size
    assert np.abs(np.asarray(drawn).astype(int) - np.asarray(full).astype(int)).mean() < 4


def test_draw_file_from_a_display_copy_maps_original_coordinates(tmp_path):
    from grounding.decode import decode_upright
    from grounding.display import DisplayScale
    from grounding.draw import draw_file
    from tests.factories import write_image

    path = write_image(tmp_path, 2400, 1800, fmt="JPEG", orientation=8)  # shown 1800x2400
    scale = DisplayScale.fit((1800, 2400), 800)
    copy = tmp_path / "display.png"
    decode_upright(path, resize_to=scale.display_wh).save(copy)
    box = _box("cat", (300, 600, 1500, 1800))
    style = DrawStyle(max_side=800, show_labels=False)
    from_copy = draw_file(copy, [box], style=style, original_wh=(1800, 2400))
    from_file = draw_file(path, [box], style=style)
    assert from_copy.size == from_file.size == (600, 800)
    for x, y in _edge_points(scale.to_display(box.original)):
        assert from_copy.getpixel((x, y)) == from_file.getpixel((x, y)) == _colour("cat")


def test_labels_are_tags_in_the_label_colour_that_do_not_cover_each_other():
    image = Image.new("RGB", (600, 400), "white")
    same_spot = [_box("cat", (100, 200, 300, 300)), _box("dog", (105, 205, 300, 300))]
    drawn = np.asarray(draw_detections(image, same_spot, style=DrawStyle(font_size=20, thickness=2)))
    for label in ("cat", "dog"):
        assert np.all(drawn == _colour(label), axis=2).sum() > 400  # box line and tag background
    cat_tag = np.all(drawn[150:200, 100:160] == _colour("cat"), axis=2).sum()
    assert cat_tag > 300  # the cat's tag above its box, not covered by the dog's
