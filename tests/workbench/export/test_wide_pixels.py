"""A 16-bit picture is shown, sent to the model and exported as the same 8-bit pixels (issue 25, item 3).

Pillow's plain ``convert("RGB")`` clips 16-bit grey at 255 (a white picture), and that is what a trainer does with
an exported file; so the display copies, the image sent to a model and the exported file all hold
:func:`grounding.decode.rgb8`'s pixels.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from grounding.decode import rgb8
from workbench.backends.media import data_url, upright_rgb
from workbench.export import ExportSettings, export_dataset
from workbench.served import ServedFiles
from workbench.store import AnnotationDraft, DatasetStore, ImageSource


@pytest.fixture
def deep_png(tmp_path):
    values = ((np.add.outer(np.arange(48), np.arange(64)) + 1) * 500).astype(np.uint16)  # 500 .. 55,500: above 255
    path = tmp_path / "deep.png"
    Image.fromarray(values, "I;16").save(path)
    with Image.open(path) as opened:
        assert opened.mode == "I;16" and np.array(opened.convert("RGB")).min() == 255  # what a plain convert does
        expected = np.array(rgb8(opened))
    assert 0 < expected.mean() < 255
    return path, expected


def test_display_copies_show_the_scaled_pixels(deep_png, tmp_path):
    path, expected = deep_png
    served = ServedFiles(tmp_path / "served")
    for copy in (served.display(path, "ab12", (64, 48)), served.thumbnail(path, "ab12", (64, 48))):
        with Image.open(copy.path) as shown:  # a JPEG copy: within its loss
            assert np.abs(np.array(shown.convert("RGB")).astype(int) - expected).mean() < 3


def test_the_model_gets_the_scaled_pixels(deep_png):
    path, expected = deep_png
    assert np.array_equal(np.array(upright_rgb(path)), expected)
    url = data_url(path)
    assert url.startswith("data:image/png;base64,")
    with Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))) as sent:
        assert np.array_equal(np.array(sent.convert("RGB")), expected)


@pytest.mark.parametrize("fmt", ["qwen_finetune", "coco", "hf_datasets"])
def test_the_export_writes_the_pixels_the_reviewer_saw(deep_png, tmp_path, fmt):
    path, expected = deep_png
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        store.create_dataset("deep")
        item = store.add_item("deep", [ImageSource(path, "deep")], "")
        store.set_annotations(item.id, 1, [AnnotationDraft.box((1, 1, 30, 20), "cell")])
        store.set_status(item.id, "accepted")
        result = export_dataset(store, "deep", fmt, ExportSettings.create("qwen2.5-vl"), tmp_path / "out")
    if fmt == "hf_datasets":
        from datasets import load_from_disk

        written = load_from_disk(str(result.folder / "hf_dataset"))[0]["image"]
    else:
        [file] = list(result.folder.rglob("*.png"))
        written = Image.open(file)
    assert np.array_equal(np.array(written.convert("RGB")), expected)  # a trainer's plain convert("RGB")
