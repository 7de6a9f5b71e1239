"""Labels with control characters never break an export silently: cleaned and counted, or refused by name."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from workbench.errors import ExportError
from workbench.export import FORMAT_NAMES, ExportSettings, export_dataset, get_format
from workbench.store import AnnotationDraft, DatasetStore

BOTH = ("box", "point")

SETTINGS = ExportSettings.create("qwen2.5-vl")
TYPED = ["flower\npot", "tab\there", "nul\x00byte", "line\u2028sep"]
CLEAN = ["flower pot", "tab here", "nul byte", "line sep"]


@pytest.fixture(scope="module")
def typed_store(tmp_path_factory):
    """Boxes typed with control characters in their labels, on an accepted item."""
    root = tmp_path_factory.mktemp("typed")
    with DatasetStore(root / "db.sqlite3") as store:
        store.create_dataset("typed")
        item = store.add_item("typed", [write_image(root, 640, 480)], "")
        store.set_annotations(item.id, 1, [AnnotationDraft.box((10 + 50 * n, 10, 60 + 50 * n, 60), label)
                                           for n, label in enumerate(TYPED)])
        store.set_status(item.id, "accepted")
        yield store


def test_labels_lose_their_control_characters_on_the_way_into_the_store(typed_store):
    assert [a.label for a in typed_store.items("typed")[0].annotations] == CLEAN


@pytest.mark.parametrize("fmt", [f for f in FORMAT_NAMES if f != "workbench"])
def test_every_export_of_such_labels_is_clean(typed_store, tmp_path, fmt):
    result = export_dataset(typed_store, "typed", fmt, SETTINGS, tmp_path)
    text = "".join(p.read_text(encoding="utf-8", errors="replace") for p in result.folder.rglob("*")
                   if p.suffix in (".json", ".jsonl", ".xml", ".txt", ".yaml"))
    assert "\x00" not in text and "flower\npot" not in text and "tab\there" not in text
    assert "flower pot" in text or fmt in ("yolo", "hf_datasets")  # YOLO: in data.yaml; HF: in Arrow files
    if fmt == "yolo":
        assert "flower pot" in (next(result.folder.rglob("data.yaml"))).read_text(encoding="utf-8")


def test_a_label_read_from_an_older_store_is_cleaned_too(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        item = store.add_item(store.create_dataset("old"), [write_image(tmp_path, 64, 48)], "")
        store.set_annotations(item.id, 1, [AnnotationDraft.box((1, 1, 9, 9), "x")])
        store.db.conn.execute("UPDATE annotations SET label = 'flower\npot'")  # as version 1 stored it
        assert store.item(item.id).annotations[0].label == "flower pot"


def test_label_studio_config_and_voc_parse_with_cleaned_labels(typed_store, tmp_path):
    from label_studio_tools.core.label_config import parse_config
    from torchvision.datasets import VOCDetection

    ls = export_dataset(typed_store, "typed", "labelstudio", SETTINGS, tmp_path)
    config = parse_config((ls.folder / "label_config.xml").read_text(encoding="utf-8"))
    assert config["label"]["labels"] == CLEAN
    voc = export_dataset(typed_store, "typed", "voc", SETTINGS, tmp_path)
    _, target = VOCDetection(str(voc.folder), year="2012", image_set="train")[0]
    assert [obj["name"] for obj in target["annotation"]["object"]] == CLEAN


def test_a_box_without_a_label_is_refused_by_export_with_a_message(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        item = store.add_item(store.create_dataset("bad"), [write_image(tmp_path, 64, 48)], "")
        store.set_annotations(item.id, 1, [AnnotationDraft.box((1, 1, 9, 9), "\n\t")])  # nothing left: ''
        store.set_status(item.id, "accepted")
        with pytest.raises(ExportError, match=r"label '' is empty or has nothing but control characters"):
            export_dataset(store, "bad", "coco", SETTINGS, tmp_path / "out")
        assert export_dataset(store, "bad", "workbench", SETTINGS, tmp_path / "out").folder.is_dir()  # kept as is


@pytest.mark.parametrize(("fmt", "name", "edit"), [
    pytest.param("voc", "VOCdevkit/VOC2012/Annotations/s000001-1-img_640x480_0.xml",
                 lambda text: text.replace("<name>flower pot</name>", "<name>flower\npot</name>"), id="voc"),
    pytest.param("labelstudio", "label_config.xml",
                 lambda text: text.replace('value="tab here"', 'value="tab&#9;here"'), id="labelstudio-config"),
    pytest.param("qwen_finetune", "qwen_finetune.json",
                 lambda text: text.replace('\\"label\\": \\"flower pot\\"', '\\"label\\": \\"flower\\\\npot\\"'),
                 id="qwen-answer"),
])
def test_validators_flag_control_characters(typed_store, tmp_path, fmt, name, edit):
    result = export_dataset(typed_store, "typed", fmt, SETTINGS, tmp_path)
    path = result.folder / name
    changed = edit(path.read_text(encoding="utf-8"))
    assert changed != path.read_text(encoding="utf-8")
    path.write_text(changed, encoding="utf-8")
    problems = get_format(fmt).validate(result.folder, SETTINGS)
    assert any("control characters" in p for p in problems), problems
