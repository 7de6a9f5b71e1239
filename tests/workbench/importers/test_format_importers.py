"""YOLO, Label Studio and Hugging Face imports: round trips through our exports, other tools' layouts, bad input."""

from __future__ import annotations

import json
import shutil

import pytest
from PIL import ExifTags, Image

from tests.factories import write_image
from tests.workbench.export.hard_data import build_hard
from tests.workbench.store_data import build_demo
from workbench.export import ExportSettings, export_dataset
from workbench.export.samples import export_samples
from workbench.importers import (
    DatasetImportError,
    import_hf,
    import_labelstudio,
    import_workbench,
    import_yolo,
)
from workbench.store import DatasetStore

SETTINGS = ExportSettings.create("qwen2.5-vl")


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    root = tmp_path_factory.mktemp("source")
    with DatasetStore(root / "data" / "workbench.sqlite3") as store:
        build_hard(store, root / "hard")
        build_demo(store, root / "demo")
        yield store


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "target" / "workbench.sqlite3") as store:
        yield store


def _exported_boxes(source, name):
    """Per sample image, the (label, coords) an export writes (clamped, rejected left out), in order."""
    return [[(o.label, o.coords) for o in image.objects]
            for sample in export_samples(source.items(name, statuses=SETTINGS.statuses)) for image in sample.images]


def _imported(store, name):
    return [(image, [(a.label, a.coords, a.kind, a.provenance, sample.status) for a in image.annotations])
            for sample in store.items(name) for image in sample.images]


def test_yolo_round_trip_keeps_boxes_within_its_decimals(source, store, tmp_path):
    result = export_dataset(source, "hard", "yolo", SETTINGS, tmp_path)
    report = import_yolo(store, "back", result.folder)
    boxes_only = ([b for b in objects if len(b[1]) == 4] for objects in _exported_boxes(source, "hard"))
    expected = [boxes for boxes in boxes_only if boxes]
    got = _imported(store, "back")
    assert len(got) == len(expected) == 4
    assert len(report.items) == 3  # the two pictures of one sample are one item again (workbench_origins.json)
    assert [[i.image_id for i in sample.images] for sample in store.items("back")] == [
        ["phone"], ["screen"], ["front", "back"]]
    for (image, stored), boxes in zip(got, expected):
        tolerance = max(image.wh) * 1e-6
        assert [a[0] for a in stored] == [label for label, _ in boxes]
        for annotation, (_, coords) in zip(stored, boxes):
            assert annotation[1] == pytest.approx(coords, abs=tolerance)
            assert annotation[3:] == ("human", "accepted")
    assert got[0][0].wh == (3024, 4032)  # the upright 12 MP photo


def test_labelstudio_round_trip_keeps_boxes_points_and_provenance(source, store, tmp_path):
    settings = ExportSettings.create("qwen2.5-vl", statuses=("accepted", "pre-annotated"))
    result = export_dataset(source, "hard", "labelstudio", settings, tmp_path)
    import_labelstudio(store, "back", result.folder / "tasks.json")
    got = _imported(store, "back")
    expected = [[(o.label, o.coords) for o in image.objects]
                for sample in export_samples(source.items("hard", statuses=settings.statuses))
                for image in sample.images if image.objects]
    assert len(got) == len(expected)
    for (_, stored), objects in zip(got, expected):
        assert sorted((a[0], a[2]) for a in stored) == sorted((label, "box" if len(c) == 4 else "point")
                                                              for label, c in objects)
        by_label = {a[0]: a for a in stored}
        for label, coords in objects:
            assert by_label[label][1] == pytest.approx(coords, abs=1e-6)
    statuses = {a[0]: a[3:] for _, stored in got for a in stored}
    assert statuses.pop("proposal") == ("model", "pre-annotated")  # a prediction comes back as the model's
    assert set(statuses.values()) == {("human", "accepted")}


def test_hf_round_trip_regroups_multi_image_samples(source, store, tmp_path):
    result = export_dataset(source, "demo", "hf_datasets", SETTINGS, tmp_path)
    import_hf(store, "back", result.folder / "hf_dataset")
    samples = store.items("back")
    assert [[image.image_id for image in s.images] for s in samples] == [["bowl"], ["kitchen", "street"], ["room"]]
    assert samples[1].prompt == "Find bowls and cars."
    expected = _exported_boxes(source, "demo")
    got = [[(a.label, a.coords) for a in image.annotations] for s in samples for image in s.images]
    assert got == expected
    kitchen = samples[1].images[0].annotations[0]
    assert (kitchen.provenance, samples[1].status) == ("model", "accepted")  # a model box a person accepted


def test_hf_coco_style_objects_with_class_labels(store, tmp_path):
    from datasets import ClassLabel, Dataset, Features, List, Value
    from datasets import Image as ImageFeature

    photo = write_image(tmp_path, 640, 480, fmt="JPEG", name="cat.jpg")
    features = Features({"image": ImageFeature(), "image_id": Value("int64"),
                         "objects": List({"bbox": List(Value("float32"), length=4),
                                          "category": ClassLabel(names=["cat", "dog"])})})
    Dataset.from_dict({"image": [str(photo)], "image_id": [7],
                       "objects": [[{"bbox": [10, 20, 100, 50], "category": 1}, {"bbox": [0, 0, 5, 5], "category": 0}]]},
                      features=features).save_to_disk(str(tmp_path / "hub"))
    shutil.move(str(photo), str(tmp_path / "moved.jpg"))  # the bytes are inside the dataset
    report = import_hf(store, "hub", tmp_path / "hub")
    [sample] = store.items("hub")
    assert report.annotations == 2 and sample.images[0].image_id == "7"
    assert [(a.label, a.coords) for a in sample.images[0].annotations] == [("dog", (10.0, 20.0, 110.0, 70.0)),
                                                                            ("cat", (0.0, 0.0, 5.0, 5.0))]


def test_the_same_picture_twice_is_stored_once(store, tmp_path):
    folder = tmp_path / "yolo"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    first = write_image(folder / "images", 64, 48, name="a.png")
    shutil.copyfile(first, folder / "images" / "b.png")
    (folder / "classes.txt").write_text("cat\n")
    (folder / "labels" / "a.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    import_yolo(store, "twice", folder)
    images = [s.images[0] for s in store.items("twice")]
    assert [i.image_id for i in images] == ["a", "b"] and images[0].sha256 == images[1].sha256
    assert images[0].file == images[1].file
    assert len([p for p in store.blobs.root.rglob("*") if p.is_file()]) == 1
    assert images[1].annotations == ()  # no label file: imported without boxes


def test_yolo_labels_of_a_rotated_photo_land_in_upright_pixels(store, tmp_path):
    folder = tmp_path / "yolo"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    Image.new("RGB", (400, 300), (9, 9, 9)).save(folder / "images" / "p.jpg", exif=exif.tobytes())  # shown 300x400
    (folder / "data.yaml").write_text("names: {0: cup}\ntrain: images\nval: images\n")
    (folder / "labels" / "p.txt").write_text("0 0.5 0.25 1.0 0.5\n")
    import_yolo(store, "rotated", folder)
    [sample] = store.items("rotated")
    assert sample.images[0].wh == (300, 400)
    assert sample.images[0].annotations[0].coords == (0.0, 0.0, 300.0, 200.0)


@pytest.mark.parametrize(("layout", "message"), [
    pytest.param({"classes.txt": "cat\n", "labels/a.txt": "3 0.5 0.5 0.1 0.1\n"}, "a.txt line 1: class 3 has no name",
                 id="class-out-of-range"),
    pytest.param({"classes.txt": "cat\n", "labels/a.txt": "0 0.5 half 0.1 0.1\n"}, "is not 'class cx cy w h'",
                 id="not-numbers"),
    pytest.param({"labels/a.txt": ""}, "no data.yaml or classes.txt", id="no-classes"),
])
def test_bad_yolo_folders_write_nothing(store, tmp_path, layout, message):
    folder = tmp_path / "yolo"
    (folder / "images").mkdir(parents=True)
    write_image(folder / "images", 64, 48, name="a.png")
    for name, text in layout.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    with pytest.raises(DatasetImportError, match=message):
        import_yolo(store, "bad", folder)
    assert store.list_datasets() == []


def test_labelstudio_local_files_uploads_and_web_addresses(store, tmp_path):
    images = tmp_path / "media"
    images.mkdir()
    write_image(images, 200, 100, name="one.png")
    write_image(images, 200, 100, seed=3, name="two.png")
    box = {"type": "rectanglelabels", "value": {"x": 10, "y": 20, "width": 50, "height": 50,
                                                "rectanglelabels": ["cat"]}}
    tasks = [{"id": 1, "data": {"image": "/data/local-files/?d=one.png"}, "annotations": [{"result": [box]}]},
             {"id": 2, "data": {"image": "/data/upload/3/8f2a1b3c-two.png"},
              "annotations": [{"result": [box], "was_cancelled": True}], "predictions": [
                 {"model_version": "yolo-v8", "result": [box | {"type": "polygonlabels"}]}]}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    report = import_labelstudio(store, "ls", tmp_path / "export.json", images_dir=images)
    one, two = store.items("ls")
    assert one.images[0].annotations[0].coords == (20.0, 20.0, 120.0, 70.0)
    assert two.images[0].annotations == ()  # cancelled annotation, polygon prediction
    assert "1 polygonlabels results left out (only rectangles and keypoints are imported)" in report.warnings
    (tmp_path / "web.json").write_text(json.dumps([{"data": {"image": "https://example.org/a.jpg"}}]))
    with pytest.raises(DatasetImportError, match="is a web address"):
        import_labelstudio(store, "web", tmp_path / "web.json")


@pytest.mark.parametrize("file", ["../outside.png", "/etc/hostname", "images/../../outside.png", "C:\\\\x.png"])
def test_workbench_import_refuses_paths_outside_its_folder(store, tmp_path, file):
    folder = tmp_path / "export"
    folder.mkdir()
    write_image(tmp_path, 8, 8, name="outside.png")
    doc = {"format": "grounding-workbench", "version": 1, "dataset": "x",
           "samples": [{"prompt": "", "images": [{"file": file, "annotations": []}]}]}
    (folder / "dataset.json").write_text(json.dumps(doc))
    with pytest.raises(DatasetImportError, match="outside the export folder"):
        import_workbench(store, folder)
    assert store.list_datasets() == []


def test_cli_imports_yolo_labelstudio_and_hf(source, tmp_path):
    from typer.testing import CliRunner

    from workbench.cli import app

    target = tmp_path / "data"
    for fmt, command in (("yolo", ["yolo", "y"]), ("labelstudio", ["labelstudio", "l"]), ("hf_datasets", ["hf", "h"])):
        result = export_dataset(source, "demo", fmt, SETTINGS, tmp_path / "out")
        where = {"yolo": result.folder, "labelstudio": result.folder / "tasks.json",
                 "hf_datasets": result.folder / "hf_dataset"}[fmt]
        run = CliRunner().invoke(app, ["import", *command, str(where), "--data-dir", str(target)])
        assert run.exit_code == 0, run.output
        assert json.loads(run.stdout)["dataset"] == command[1]
    bad = CliRunner().invoke(app, ["import", "yolo", "z", str(tmp_path), "--data-dir", str(target)])
    assert bad.exit_code == 1 and "no data.yaml or classes.txt" in bad.output


def test_hf_folder_of_parquet_files(store, tmp_path):
    from datasets import ClassLabel, Dataset, Features, List, Value
    from datasets import Image as ImageFeature

    photo = write_image(tmp_path, 64, 48, fmt="JPEG", name="a.jpg")
    features = Features({"image": ImageFeature(), "objects": List({"bbox": List(Value("float32"), length=4),
                                                                   "category": ClassLabel(names=["cat", "dog"])})})
    dataset = Dataset.from_dict({"image": [str(photo)], "objects": [[{"bbox": [1, 2, 10, 20], "category": 1}]]},
                                features=features)
    (tmp_path / "hub" / "data").mkdir(parents=True)
    dataset.to_parquet(str(tmp_path / "hub" / "data" / "train-00000-of-00001.parquet"))
    import_hf(store, "parquet", tmp_path / "hub", split="train")
    [sample] = store.items("parquet")
    assert [(a.label, a.coords) for a in sample.images[0].annotations] == [("dog", (1.0, 2.0, 11.0, 22.0))]
    with pytest.raises(DatasetImportError, match="no split 'test'"):
        import_hf(store, "parquet", tmp_path / "hub", split="test")


def test_yolo_empty_label_file_is_a_reviewed_negative(store, tmp_path):
    folder = tmp_path / "yolo"
    (folder / "images").mkdir(parents=True)
    (folder / "labels").mkdir()
    for n, name in enumerate(("boxed", "negative", "unlabelled")):
        write_image(folder / "images", 64, 48, seed=n, name=f"{name}.png")
    (folder / "classes.txt").write_text("cat\n")
    (folder / "labels" / "boxed.txt").write_text("0 0.5 0.5 0.5 0.5\n")
    (folder / "labels" / "negative.txt").write_text("")
    import_yolo(store, "negatives", folder)
    got = {s.images[0].image_id: (s.status, len(s.images[0].annotations)) for s in store.items("negatives")}
    assert got == {"boxed": ("accepted", 1), "negative": ("accepted", 0), "unlabelled": ("new", 0)}


def test_coco_import_keeps_double_precision(store, tmp_path):
    from workbench.importers import import_coco

    write_image(tmp_path, 1200, 900, fmt="JPEG", name="a.jpg")
    doc = {"images": [{"id": 1, "file_name": "a.jpg", "width": 1200, "height": 900}],
           "categories": [{"id": 3, "name": "cat"}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [600.7, 10.25, 0.2, 5.5]}]}
    (tmp_path / "coco.json").write_text(json.dumps(doc))
    import_coco(store, "precise", tmp_path / "coco.json", tmp_path)
    [sample] = store.items("precise")
    assert sample.images[0].annotations[0].coords == (600.7, 10.25, 600.7 + 0.2, 15.75)  # float64, not float32


def test_coco_round_trip_is_bit_exact(store, tmp_path):
    from workbench.importers import import_coco
    from workbench.store import AnnotationDraft, ImageSource

    photo = write_image(tmp_path, 1200, 900, fmt="JPEG", name="a.jpg")
    boxes = [(600.7, 3.3, 1000.123, 800.7), (0.1, 0.2, 0.30000000000000004, 899.9999), (17.77, 1.0 / 3, 1199.99, 900)]
    with DatasetStore(tmp_path / "src" / "db.sqlite3") as src:
        src.create_dataset("src")
        item = src.add_item("src", [ImageSource(photo, "a")], "")
        src.set_annotations(item.id, 1, [AnnotationDraft.box(box, "cat") for box in boxes])
        src.set_status(item.id, "accepted")
        result = export_dataset(src, "src", "coco", SETTINGS, tmp_path / "out")
    import_coco(store, "back", result.folder / "annotations.json", result.folder / "images")
    [sample] = store.items("back")
    assert [a.coords for a in sample.images[0].annotations] == boxes


def test_hf_keeps_an_empty_middle_picture_in_its_place(store, tmp_path):
    from workbench.store import AnnotationDraft, ImageSource

    photos = [write_image(tmp_path, 64, 48, seed=n, name=f"p{n}.png") for n in range(3)]
    with DatasetStore(tmp_path / "src" / "db.sqlite3") as src:
        src.create_dataset("src")
        item = src.add_item("src", [ImageSource(p, f"pic{n + 1}") for n, p in enumerate(photos)], "")
        src.set_annotations(item.id, 1, [AnnotationDraft.box((1, 1, 10, 10), "cat")])
        src.set_annotations(item.id, 3, [AnnotationDraft.box((2, 2, 20, 20), "dog")])
        src.set_status(item.id, "accepted")
        result = export_dataset(src, "src", "hf_datasets", SETTINGS, tmp_path / "out")
    import_hf(store, "back", result.folder / "hf_dataset")
    [sample] = store.items("back")
    assert [(i.position, i.image_id, [a.label for a in i.annotations]) for i in sample.images] == [
        (1, "pic1", ["cat"]), (2, "pic2", []), (3, "pic3", ["dog"])]
