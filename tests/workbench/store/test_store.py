"""DatasetStore: datasets, samples with content-hashed images, annotations, history and undo."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import write_image
from workbench.errors import StoreError
from workbench.store import DATA_DIR_ENV, AnnotationDraft, DatasetStore, ImageSource

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "data" / "workbench.sqlite3") as store:
        yield store


@pytest.fixture
def image(tmp_path):
    return write_image(tmp_path, 640, 480, fmt="JPEG", name="cat.jpg")


def test_connection_is_wal_with_busy_timeout(store):
    assert store._conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert store._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_datasets_create_list_rename_delete(store, image):
    store.create_dataset("b-set")
    a = store.create_dataset("a-set")
    store.add_sample(a, [image])
    assert [(d.name, d.samples) for d in store.list_datasets()] == [("a-set", 1), ("b-set", 0)]
    assert store.rename_dataset("a-set", "cats").name == "cats"
    with pytest.raises(StoreError, match="already exists"):
        store.rename_dataset("cats", "b-set")
    with pytest.raises(StoreError, match="already exists"):
        store.create_dataset("b-set")
    store.delete_dataset("cats")
    assert [d.name for d in store.list_datasets()] == ["b-set"]
    assert store._conn.execute("SELECT COUNT(*) FROM samples").fetchone()[0] == 0
    with pytest.raises(StoreError, match="no dataset 'cats'"):
        store.dataset("cats")


@pytest.mark.parametrize("name", [pytest.param("", id="empty"), pytest.param("  ", id="blank"),
                                  pytest.param("a/b", id="slash"), pytest.param("..", id="dotdot")])
def test_bad_dataset_names_are_refused(store, name):
    with pytest.raises(StoreError):
        store.create_dataset(name)
    assert store.list_datasets() == []


def test_images_are_content_hashed_copies_with_displayed_size(store, tmp_path, image):
    rotated = write_image(tmp_path, 640, 480, fmt="JPEG", orientation=6, name="rotated.jpg")
    twin = tmp_path / "same-bytes.jpg"
    twin.write_bytes(image.read_bytes())
    dataset = store.create_dataset("d")
    sample = store.add_sample(dataset, [image, ImageSource(twin, "cat"), rotated], "prompt")
    first, second, third = sample.images
    assert first.file == second.file and first.file.is_file() and first.file.parent.parent == store.blobs.root
    assert first.file.read_bytes() == image.read_bytes()
    assert [i.image_id for i in sample.images] == ["cat", "cat-2", "rotated"]
    assert third.wh == (480, 640)  # EXIF orientation 6 swaps width and height
    image.unlink()  # the store keeps its own copy
    assert store.sample(sample.id).images[0].file.is_file()


def test_unreadable_image_adds_nothing(store, tmp_path, image):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    dataset = store.create_dataset("d")
    with pytest.raises(StoreError, match="broken.jpg"):
        store.add_sample(dataset, [image, broken])
    assert store.samples(dataset) == []


def test_annotations_round_trip_in_original_pixels(store, image):
    sample = store.add_sample(store.create_dataset("d"), [image])
    draft = AnnotationDraft.box((300, 40, 100, 20), "cat", provenance="model", model="qwen",
                                settings={"temperature": 0.0}, attributes={"color": "red"})
    box = store.add_annotation(sample.images[0].id, draft)
    assert box.coords == (100.0, 20.0, 300.0, 40.0)  # corners ordered
    loaded = store.sample(sample.id).images[0].annotations[0]
    assert loaded == box
    assert (loaded.settings, loaded.attributes, loaded.status) == ({"temperature": 0.0}, {"color": "red"}, "pending")


def test_moving_a_model_box_makes_it_human_but_reviewing_does_not(store, image):
    sample = store.add_sample(store.create_dataset("d"), [image])
    box = store.add_annotation(sample.images[0].id, AnnotationDraft.box((1, 2, 3, 4), "cat", provenance="model"))
    assert store.update_annotation(box.id, status="accepted").provenance == "model"
    moved = store.update_annotation(box.id, coords=(5, 6, 7, 8))
    assert (moved.provenance, moved.status, moved.coords) == ("human", "accepted", (5.0, 6.0, 7.0, 8.0))


@pytest.mark.parametrize(("change", "message"), [
    pytest.param({"status": "maybe"}, "review status", id="bad-status"),
    pytest.param({"coords": (1, 2, 3)}, "needs 4 coordinates", id="three-values"),
    pytest.param({"coords": (1, 2, float("nan"), 4)}, "finite", id="nan"),
])
def test_bad_edits_are_refused_and_change_nothing(store, image, change, message):
    sample = store.add_sample(store.create_dataset("d"), [image])
    box = store.add_annotation(sample.images[0].id, AnnotationDraft.box((1, 2, 3, 4), "cat"))
    with pytest.raises(StoreError, match=message):
        store.update_annotation(box.id, **change)
    assert store.annotation(box.id) == box
    assert [e.action for e in store.history(sample.id)] == ["add_annotation"]


def test_undo_walks_back_every_kind_of_edit(store, image):
    sample = store.add_sample(store.create_dataset("d"), [image], "first prompt")
    image_id = sample.images[0].id
    a = store.add_annotation(image_id, AnnotationDraft.box((1, 2, 3, 4), "cat"))
    b = store.add_annotation(image_id, AnnotationDraft.point((5, 6), "eye"))
    store.update_annotation(a.id, label="dog", coords=(10, 20, 30, 40))
    store.delete_annotation(b.id)
    store.set_prompt(sample.id, "second prompt")

    def state():
        current = store.sample(sample.id)
        return current.prompt, [(x.id, x.label, x.coords) for x in current.images[0].annotations]

    assert state() == ("second prompt", [(a.id, "dog", (10.0, 20.0, 30.0, 40.0))])
    store.undo(sample.id)
    assert state() == ("first prompt", [(a.id, "dog", (10.0, 20.0, 30.0, 40.0))])
    store.undo(sample.id)  # the deleted point comes back with its id
    assert state() == ("first prompt", [(a.id, "dog", (10.0, 20.0, 30.0, 40.0)), (b.id, "eye", (5.0, 6.0))])
    store.undo(sample.id)
    assert state() == ("first prompt", [(a.id, "cat", (1.0, 2.0, 3.0, 4.0)), (b.id, "eye", (5.0, 6.0))])
    store.undo(sample.id)
    store.undo(sample.id)
    assert state() == ("first prompt", [])
    assert store.undo(sample.id) is None
    history = store.history(sample.id)
    assert [e.action for e in history] == ["add_annotation"] * 2 + ["update_annotation", "delete_annotation",
                                                                    "set_prompt"] + ["undo"] * 5
    assert [e.undoes for e in history[5:]] == [h.id for h in reversed(history[:5])]


def test_undo_works_in_a_new_process(tmp_path, image):
    db = tmp_path / "data" / "workbench.sqlite3"
    with DatasetStore(db) as store:
        sample = store.add_sample(store.create_dataset("d"), [image])
        box = store.add_annotation(sample.images[0].id, AnnotationDraft.box((1, 2, 3, 4), "cat"))
        store.update_annotation(box.id, label="lion")
    code = ("import sys; from workbench.store import DatasetStore; "
            f"s = DatasetStore(sys.argv[1]); e = s.undo({sample.id}); print(e.action, e.undoes); s.close()")
    done = subprocess.run([sys.executable, "-c", code, str(db)], cwd=REPO, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    with DatasetStore(db) as store:
        assert store.annotation(box.id).label == "cat"
        assert done.stdout.split() == ["undo", str(store.history(sample.id)[1].id)]


def test_open_uses_the_data_dir_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    with DatasetStore.open() as store:
        store.create_dataset("x")
    assert (tmp_path / "from-env" / "workbench.sqlite3").is_file()
    with DatasetStore.open(tmp_path / "explicit") as store:
        assert store.list_datasets() == []
    assert (tmp_path / "explicit" / "workbench.sqlite3").is_file()


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open"):
        DatasetStore(bad)
    assert bad.read_bytes() == b"this is not sqlite" * 100


def test_two_connections_see_each_others_commits(tmp_path, image):
    db = tmp_path / "workbench.sqlite3"
    with DatasetStore(db) as writer, DatasetStore(db) as reader:
        sample = writer.add_sample(writer.create_dataset("d"), [image])
        writer.add_annotation(sample.images[0].id, AnnotationDraft.box((1, 2, 3, 4), "cat"))
        assert [a.label for a in reader.sample(sample.id).images[0].annotations] == ["cat"]
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_prune_images_removes_only_unused_copies(store, tmp_path, image):
    other = write_image(tmp_path, 32, 32, seed=3, name="other.png")
    keep = store.add_sample(store.create_dataset("keep"), [image])
    gone = store.add_sample(store.create_dataset("gone"), [other])
    store.delete_dataset("gone")
    assert store.prune_images() == 1
    assert keep.images[0].file.is_file() and not gone.images[0].file.exists()


def test_threads_sharing_one_store_lose_no_edit(store, image):
    from concurrent.futures import ThreadPoolExecutor

    sample = store.add_sample(store.create_dataset("d"), [image])
    image_id = sample.images[0].id

    def burst(worker: int) -> list[int]:
        return [store.add_annotation(image_id, AnnotationDraft.box((n, n, n + 5, n + 5), f"w{worker}")).id
                for n in range(40)]

    with ThreadPoolExecutor(4) as pool:
        ids = [i for chunk in pool.map(burst, range(4)) for i in chunk]
    stored = store.sample(sample.id).images[0].annotations
    assert sorted(a.id for a in stored) == sorted(ids) and len(ids) == 160
    assert len(store.history(sample.id)) == 160


def test_two_processes_writing_at_once_both_succeed(tmp_path, image):
    db = tmp_path / "data" / "workbench.sqlite3"
    with DatasetStore(db) as store:
        sample = store.add_sample(store.create_dataset("d"), [image])
    code = ("import sys; from workbench.store import DatasetStore, AnnotationDraft; s = DatasetStore(sys.argv[1]); "
            "[s.add_annotation(int(sys.argv[2]), AnnotationDraft.box((n, n, n + 1, n + 1), sys.argv[3])) "
            "for n in range(100)]; s.close()")
    writers = [subprocess.Popen([sys.executable, "-c", code, str(db), str(sample.images[0].id), name], cwd=REPO,
                                stderr=subprocess.PIPE, text=True) for name in ("a", "b")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    with DatasetStore(db) as store:
        labels = [a.label for a in store.sample(sample.id).images[0].annotations]
    assert (labels.count("a"), labels.count("b")) == (100, 100)
