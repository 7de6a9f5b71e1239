"""render_results: drawn copies at the editor's size, from the upload's display copy, boxes where they belong."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from grounding.display import DisplayScale
from grounding.draw import PALETTE, label_color_index
from tests.factories import write_image
from workbench.tryit.results import _draw_source, render_results
from workbench.tryit.uploads import DISPLAY_MAX_SIDE, load_upload
from workbench.tryit.workspace import Workspace


def _workspace_with_rotated_photo(tmp_path):
    photo = write_image(tmp_path, 2400, 1800, fmt="JPEG", orientation=6)  # a phone photo, shown 1800x2400
    entry = load_upload(photo, tmp_path / "display")
    ws = Workspace()
    ws = ws.with_images(ws.images.add([entry]))
    # the model saw the processor's resize of 1800x2400; this box is the upper-left quarter of the shown photo
    (geometry,) = ws.geometries()
    rw, rh = geometry.resized_wh
    text = f'[{{"bbox_2d": [{rw * 0.1:.0f}, {rh * 0.1:.0f}, {rw * 0.5:.0f}, {rh * 0.5:.0f}], "label": "cat"}}]'
    return ws.with_output(text), entry


def test_drawn_results_come_from_the_display_copy_with_boxes_in_place(tmp_path):
    ws, entry = _workspace_with_rotated_photo(tmp_path)
    assert entry.original_wh == (1800, 2400)
    assert _draw_source(entry) == (entry.display_path, (1800, 2400))
    ((path, caption),) = render_results(ws, tmp_path / "drawn")
    assert caption == "img1 · 1 detection(s)"
    drawn = np.asarray(Image.open(path).convert("RGB"), dtype=int)
    assert drawn.shape[:2][::-1] == entry.display_wh == DisplayScale.fit((1800, 2400), DISPLAY_MAX_SIDE).display_wh
    (detection,) = ws.run.result.detections
    x1, y1, x2, y2 = (round(v) for v in DisplayScale(entry.original_wh, entry.display_wh).to_display(detection.original))
    colour = np.array(PALETTE.by_idx(label_color_index("cat")).as_rgb())

    def near(x: int, y: int) -> bool:  # JPEG blurs a 3-pixel line a little
        return bool(np.abs(drawn[y - 1:y + 2, x - 1:x + 2] - colour).sum(axis=2).min() < 60)

    assert near(x1, (y1 + y2) // 2) and near(x2, (y1 + y2) // 2) and near((x1 + x2) // 2, y2)
    assert not near((x1 + x2) // 2, (y1 + y2) // 2) and not near(x2 + 40, y2 + 40)


def test_without_a_display_copy_the_original_is_drawn(tmp_path):
    ws, entry = _workspace_with_rotated_photo(tmp_path)
    Path(entry.display_path).unlink()  # e.g. a cleaned-up session folder
    assert _draw_source(entry) == (entry.path, None)
    ((path, _),) = render_results(ws, tmp_path / "drawn")
    assert Image.open(path).size == entry.display_wh
