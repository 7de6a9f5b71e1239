"""DatasetStore: datasets of items, content-hashed images, one history entry per action, versions, the queue."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.factories import write_image
from workbench.errors import StoreError
from workbench.store import (
    DATA_DIR_ENV,
    AnnotationDraft,
    DatasetStore,
    ImageSource,
    ItemFilter,
    StaleItemError,
)
from workbench.store.schema import SCHEMA_VERSION

REPO = Path(__file__).resolve().parents[3]
CAT = AnnotationDraft.box((10, 20, 110, 220), "cat")
DOG = AnnotationDraft.box((300, 100, 400, 200), "dog")


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "data" / "workbench.sqlite3") as store:
        yield store


@pytest.fixture
def image(tmp_path):
    return write_image(tmp_path, 640, 480, fmt="JPEG", name="cat.jpg")


@pytest.fixture
def item(store, image):
    return store.add_item(store.create_dataset("d"), [image])


def test_connection_is_wal_with_busy_timeout(store):
    assert store.db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert store.db.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert store.db.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_datasets_create_list_rename_delete_with_counts_per_status(store, image, tmp_path):
    store.create_dataset("b-set")
    a = store.create_dataset("a-set")
    first = store.add_item(a, [image])
    store.add_item(a, [write_image(tmp_path, 64, 48, seed=4)])
    store.set_status(first.id, "accepted")
    assert [(d.name, d.items) for d in store.list_datasets()] == [("a-set", 2), ("b-set", 0)]
    assert store.dataset("a-set").counts == {"new": 1, "pre-annotated": 0, "accepted": 1, "rejected": 0}
    assert store.rename_dataset("a-set", "cats").name == "cats"
    with pytest.raises(StoreError, match="already exists"):
        store.rename_dataset("cats", "b-set")
    with pytest.raises(StoreError, match="already exists"):
        store.create_dataset("b-set")
    store.delete_dataset("cats")
    assert [d.name for d in store.list_datasets()] == ["b-set"]
    assert store.db.conn.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 0
    with pytest.raises(StoreError, match="no dataset 'cats'"):
        store.dataset("cats")


@pytest.mark.parametrize("name", [pytest.param("", id="empty"), pytest.param("  ", id="blank"),
                                  pytest.param("a/b", id="slash"), pytest.param("..", id="dotdot"),
                                  pytest.param("x" * 101, id="too-long")])
def test_bad_dataset_names_are_refused(store, name):
    with pytest.raises(StoreError):
        store.create_dataset(name)
    assert store.list_datasets() == []


def test_owners_see_and_change_only_their_own_datasets(store, image):
    mine = store.create_dataset("pets", owner="hf:alice")
    store.create_dataset("pets", owner="anon:bob")  # the same name under another owner is another dataset
    store.add_item(mine, [image])
    assert [(d.name, d.items) for d in store.list_datasets(owner="hf:alice")] == [("pets", 1)]
    assert [(d.name, d.items) for d in store.list_datasets(owner="anon:bob")] == [("pets", 0)]
    assert store.list_datasets() == []  # the local user ('') owns neither
    with pytest.raises(StoreError, match="no dataset"):
        store.dataset(mine.id, owner="anon:bob")
    with pytest.raises(StoreError, match="no dataset"):
        store.delete_dataset(mine.id, owner="anon:bob")
    with pytest.raises(StoreError, match="no dataset"):
        store.rename_dataset("pets", "mine now", owner="anon:eve")
    assert store.dataset("pets", owner="hf:alice").items == 1


def test_images_are_content_hashed_copies_with_displayed_size(store, tmp_path, image):
    rotated = write_image(tmp_path, 640, 480, fmt="JPEG", orientation=6, name="rotated.jpg")
    twin = tmp_path / "same-bytes.jpg"
    twin.write_bytes(image.read_bytes())
    item = store.add_item(store.create_dataset("d"), [image, ImageSource(twin, "cat"), rotated], "prompt")
    first, second, third = item.images
    assert first.file == second.file and first.file.is_file() and first.file.parent.parent == store.blobs.root
    assert [i.image_id for i in item.images] == ["cat", "cat-2", "rotated"]
    assert third.wh == (480, 640)  # EXIF orientation 6 swaps width and height
    assert store.find_image("d", first.sha256) == item.id
    image.unlink()  # the store keeps its own copy
    assert store.item(item.id).images[0].file.is_file()


def test_unreadable_image_adds_nothing(store, tmp_path, image):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    dataset = store.create_dataset("d")
    with pytest.raises(StoreError, match="broken.jpg"):
        store.add_item(dataset, [image, broken])
    assert store.dataset("d").items == 0


def test_an_edit_keeps_untouched_model_boxes_and_is_one_history_entry(store, image):
    dataset = store.create_dataset("d")
    item = store.add_item_blobs(dataset, [(ImageSource(image), store.blobs.put_file(image))], "find pets",
                                [[AnnotationDraft.box(CAT.coords, "cat", provenance="model", model="m")]])
    assert item.status == "pre-annotated" and item.version == 1
    moved_dog = AnnotationDraft.box((301, 100, 400, 200), "dog")
    item = store.set_annotations(item.id, 1, [CAT, DOG, moved_dog], expected_version=1)
    assert item.version == 2
    assert [(a.label, a.provenance, a.model) for a in item.annotations] == [
        ("cat", "model", "m"), ("dog", "human", None), ("dog", "human", None)]
    assert [a.action for a in store.history(item.id)] == ["edit"]
    assert store.history(item.id)[0].summary == "picture 1: 3 annotation(s), 2 new or changed, 0 removed"


def test_echoing_the_same_boxes_back_is_not_an_action(store, item):
    item = store.set_annotations(item.id, 1, [CAT])
    again = store.set_annotations(item.id, 1, [AnnotationDraft.box(CAT.coords, "cat")])
    assert again.version == item.version and len(store.history(item.id)) == 1


def test_undo_lands_on_states_the_item_really_had_and_redo_comes_back(store, item):
    a = store.set_annotations(item.id, 1, [CAT])
    b = store.set_annotations(item.id, 1, [CAT, DOG])
    c = store.set_status(item.id, "accepted")
    states = []
    for _ in range(3):
        undone = store.undo(item.id)
        states.append((undone.status, [x.label for x in undone.annotations]))
    assert states == [("new", ["cat", "dog"]), ("new", ["cat"]), ("new", [])]
    with pytest.raises(StoreError, match="nothing to undo"):
        store.undo(item.id)
    redone = store.redo(store.redo(item.id).id)
    assert [x.label for x in redone.annotations] == ["cat", "dog"]
    assert [x.id for x in redone.annotations] == [x.id for x in b.annotations]  # annotations come back under their ids
    assert store.redo(item.id).status == c.status == "accepted"
    assert a.version < b.version < c.version


def test_a_new_action_after_undo_drops_the_redo_tail(store, item):
    store.set_annotations(item.id, 1, [CAT])
    store.undo(item.id)
    store.set_annotations(item.id, 1, [DOG])
    assert not store.can_redo(item.id)
    with pytest.raises(StoreError, match="nothing to redo"):
        store.redo(item.id)
    assert [a.state for a in store.history(item.id)] == ["dropped", "done"]


def test_undo_works_in_a_new_process_after_a_restart(tmp_path, image):
    db = tmp_path / "data" / "workbench.sqlite3"
    with DatasetStore(db) as store:
        item = store.add_item(store.create_dataset("d"), [image])
        store.set_annotations(item.id, 1, [CAT, DOG])
    code = ("import sys; from workbench.store import DatasetStore; s = DatasetStore(sys.argv[1]); "
            "print(len(s.undo(int(sys.argv[2])).annotations)); s.close()")
    result = subprocess.run([sys.executable, "-c", code, str(db), str(item.id)], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"


def test_a_stale_write_is_refused_with_the_fresh_item(tmp_path, image):
    db = tmp_path / "workbench.sqlite3"
    with DatasetStore(db) as window_a, DatasetStore(db) as window_b:
        item = window_a.add_item(window_a.create_dataset("d"), [image])
        shown_in_b = window_b.item(item.id)
        window_a.set_annotations(item.id, 1, [CAT], expected_version=item.version)
        with pytest.raises(StaleItemError, match="changed elsewhere") as stale:
            window_b.set_annotations(item.id, 1, [DOG], expected_version=shown_in_b.version)
        assert [a.label for a in stale.value.item.annotations] == ["cat"]  # the fresh state, to show instead
        with pytest.raises(StaleItemError):
            window_b.set_status(item.id, "accepted", expected_version=shown_in_b.version)
        assert window_a.item(item.id).status == "new"


def test_undo_is_refused_when_another_window_changed_the_item_since(tmp_path, image):
    db = tmp_path / "workbench.sqlite3"
    with DatasetStore(db) as a, DatasetStore(db) as b:
        item = a.add_item(a.create_dataset("d"), [image])
        a.set_annotations(item.id, 1, [CAT])
        b.set_annotations(item.id, 1, [DOG])
        b.undo(item.id)  # b takes back its own change
        assert [x.label for x in a.item(item.id).annotations] == ["cat"]
        b.redo(item.id)
        with pytest.raises(StaleItemError, match="cannot undo"):
            a.undo(item.id, expected_version=2)  # a still shows version 2


@pytest.mark.parametrize(("new_id", "message"), [
    pytest.param("", "must be", id="empty"),
    pytest.param("has space", "must be", id="space"),
    pytest.param("-dash", "must be", id="leading-dash"),
    pytest.param("b", "already called 'b'", id="taken"),
])
def test_bad_image_renames_are_refused_and_change_nothing(store, tmp_path, image, new_id, message):
    item = store.add_item(store.create_dataset("d"), [ImageSource(image, "a"), ImageSource(
        write_image(tmp_path, 32, 32, seed=1), "b")])
    with pytest.raises(StoreError, match=message):
        store.rename_image(item.id, 1, new_id)
    assert store.item(item.id) == item and store.history(item.id) == []


def test_rename_and_reorder_are_undoable_actions(store, tmp_path, image):
    item = store.add_item(store.create_dataset("d"), [ImageSource(image, "a"), ImageSource(
        write_image(tmp_path, 32, 32, seed=1), "b")])
    item = store.rename_image(item.id, 1, "front")
    item = store.reorder_images(item.id, [2, 1])
    assert [i.image_id for i in item.images] == ["b", "front"]
    item = store.undo(store.undo(item.id).id)
    assert [i.image_id for i in item.images] == ["a", "b"]
    with pytest.raises(StoreError, match="once each"):
        store.reorder_images(item.id, [1, 1])


def test_labels_are_added_with_colours_renamed_and_merged_everywhere(store, tmp_path, image):
    dataset = store.create_dataset("d")
    one = store.add_item(dataset, [image])
    two = store.add_item(dataset, [write_image(tmp_path, 64, 48, seed=2)])
    store.set_annotations(one.id, 1, [CAT, DOG])
    store.set_annotations(two.id, 1, [AnnotationDraft.box((1, 1, 9, 9), "kitty")])
    labels = store.labels(dataset)
    assert [(label.name, label.count) for label in labels] == [("cat", 1), ("dog", 1), ("kitty", 1)]
    assert len({label.color for label in labels}) == 3
    assert store.rename_label(dataset, "kitty", "cat") == 1  # a merge
    assert [(label.name, label.count) for label in store.labels(dataset)] == [("cat", 2), ("dog", 1)]
    assert store.item(two.id).annotations[0].label == "cat" and store.item(two.id).version == 3
    assert store.set_label_color(dataset, "dog", "#00FF00").color == "#00ff00"
    with pytest.raises(StoreError, match="#rrggbb"):
        store.set_label_color(dataset, "dog", "green")


def test_labels_lose_control_characters():
    assert AnnotationDraft.box((0, 0, 1, 1), "red\ncar\x00\t ").label == "red car"


def test_queue_pages_and_filters_by_status_label_provenance_and_name(store, tmp_path):
    dataset = store.create_dataset("d")
    ids = []
    for n in range(7):
        path = write_image(tmp_path, 40, 30, seed=n, name=f"{'dog' if n % 2 else 'cat'}_{n}.png")
        ids.append(store.add_item(dataset, [path]).id)
    store.set_annotations(ids[1], 1, [DOG])
    store.set_status(ids[1], "accepted")
    run = store.run(dataset, model="m", family="qwen2.5-vl", settings={})
    store.record_proposals(run.id, ids[2], [[CAT]])
    page = store.queue(dataset, page=2, page_size=3)
    assert (page.total, page.pages, [r.id for r in page.rows]) == (7, 3, ids[3:6])
    assert store.queue(dataset, page=99, page_size=3).page == 3  # a page past the end shows the last
    first = store.queue(dataset, page_size=3).rows
    assert (first[1].status, first[1].boxes, first[1].labels, first[1].files) == ("accepted", 1, ("dog",), ("dog_1.png",))
    assert [r.id for r in store.queue(dataset, ItemFilter(status="accepted")).rows] == [ids[1]]
    assert [r.id for r in store.queue(dataset, ItemFilter(label="cat")).rows] == [ids[2]]
    assert [r.id for r in store.queue(dataset, ItemFilter(provenance="model")).rows] == [ids[2]]
    assert [r.id for r in store.queue(dataset, ItemFilter(provenance="human")).rows] == [ids[1]]
    assert [r.id for r in store.queue(dataset, ItemFilter(name="DOG_")).rows] == [ids[1], ids[3], ids[5]]
    assert store.queue(dataset, ItemFilter(name="%")).total == 0  # LIKE wildcards are plain text
    with pytest.raises(StoreError, match="item status"):
        store.queue(dataset, ItemFilter(status="done"))


def test_next_previous_and_next_unreviewed(store, tmp_path):
    dataset = store.create_dataset("d")
    ids = [store.add_item(dataset, [write_image(tmp_path, 20, 20, seed=n)]).id for n in range(4)]
    assert store.neighbour(dataset, ids[1]) == ids[2]
    assert store.neighbour(dataset, ids[1], step=-1) == ids[0]
    assert store.neighbour(dataset, ids[3]) is None
    store.set_status(ids[2], "accepted")
    assert store.neighbour(dataset, ids[1], unreviewed=True) == ids[3]
    assert store.neighbour(dataset, ids[3], unreviewed=True) == ids[0]  # wraps to earlier work
    assert store.neighbour(dataset, None) == ids[0]
    assert store.index_of(dataset, ids[3], ItemFilter(status="new")) == 3
    assert store.index_of(dataset, ids[2], ItemFilter(status="new")) is None


def test_a_model_run_pre_annotates_untouched_items_and_never_overwrites_human_work(store, tmp_path, image):
    dataset = store.create_dataset("d")
    fresh = store.add_item(dataset, [image])
    edited = store.add_item(dataset, [write_image(tmp_path, 640, 480, seed=9)])
    edited = store.set_annotations(edited.id, 1, [DOG])
    run = store.run(dataset, model="Qwen/Qwen2.5-VL-3B-Instruct", family="qwen2.5-vl",
                    settings={"min_pixels": 3136, "max_pixels": 1003520, "prompt": "find cats"})
    assert store.run(dataset, model="Qwen/Qwen2.5-VL-3B-Instruct", family="qwen2.5-vl",
                     settings={"max_pixels": 1003520, "min_pixels": 3136, "prompt": "find cats"}).id == run.id
    item, applied = store.record_proposals(run.id, fresh.id, [[CAT]], text='[{"bbox_2d": []}]')
    assert applied and item.status == "pre-annotated"
    (box,) = item.annotations
    assert (box.provenance, box.model, box.settings["max_pixels"], box.settings["run"]) == (
        "model", "Qwen/Qwen2.5-VL-3B-Instruct", 1003520, run.id)
    assert [a.action for a in store.history(fresh.id)] == ["model run"]
    item, applied = store.record_proposals(run.id, edited.id, [[CAT]])
    assert not applied and [a.label for a in item.annotations] == ["dog"] and item.version == edited.version + 1
    shown_run, proposals = store.proposals(edited.id)
    assert shown_run.id == run.id and [p.label for p in proposals[0]] == ["cat"]
    assert store.run_done(run.id, edited.id) and store.run_text(run.id, fresh.id)[0] == '[{"bbox_2d": []}]'
    with pytest.raises(StoreError, match="answered for 2"):
        store.record_proposals(run.id, fresh.id, [[], []])


def test_proposals_kept_beside_human_work_can_be_added_or_taken_instead(store, item):
    store.set_annotations(item.id, 1, [DOG])
    run = store.run(item.dataset_id, model="m", family="qwen2.5-vl", settings={})
    item, applied = store.record_proposals(run.id, item.id, [[CAT, DOG]])
    assert not applied
    added = store.apply_proposals(item.id, run.id, mode="add", expected_version=item.version)
    assert sorted((a.label, a.provenance) for a in added.annotations) == [("cat", "model"), ("dog", "human")]
    replaced = store.apply_proposals(item.id, run.id, mode="replace")
    assert sorted((a.label, a.provenance) for a in replaced.annotations) == [("cat", "model"), ("dog", "model")]
    assert [x.label for x in store.undo(item.id).annotations] == ["dog", "cat"]


def test_a_failed_item_says_why_and_is_not_done(store, item):
    run = store.run(item.dataset_id, model="m", family="qwen2.5-vl", settings={})
    store.record_failure(run.id, item.id, "server answered 500")
    assert store.item(item.id).error == "server answered 500" and not store.run_done(run.id, item.id)
    assert store.queue(item.dataset_id).rows[0].error == "server answered 500"
    store.record_proposals(run.id, item.id, [[CAT]])
    assert store.item(item.id).error == "" and store.run_done(run.id, item.id)


def test_group_and_split_items(store, tmp_path, image):
    dataset = store.create_dataset("d")
    a = store.set_annotations(store.add_item(dataset, [image]).id, 1, [CAT])
    b = store.add_item(dataset, [ImageSource(write_image(tmp_path, 30, 30, seed=1), "cat")])
    grouped = store.group_items([a.id, b.id])
    assert [i.image_id for i in grouped.images] == ["cat", "cat-2"] and grouped.annotations[0].label == "cat"
    assert store.dataset(dataset).items == 1 and not store.can_undo(grouped.id)
    parts = store.split_item(grouped.id)
    assert [len(p.images) for p in parts] == [1, 1] and store.dataset(dataset).items == 2
    assert [a.label for a in parts[0].annotations] == ["cat"] and parts[1].annotations == ()


def test_open_uses_the_data_dir_argument_then_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(DATA_DIR_ENV, str(tmp_path / "from-env"))
    with DatasetStore.open() as store:
        assert store.db_path == tmp_path / "from-env" / "workbench.sqlite3"
    with DatasetStore.open(tmp_path / "explicit") as store:
        assert store.blobs.root == tmp_path / "explicit" / "images"


def test_a_file_that_is_not_a_database_gives_a_store_error(tmp_path):
    bad = tmp_path / "workbench.sqlite3"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the dataset store"):
        DatasetStore(bad)


def test_prune_images_removes_only_unused_copies(store, tmp_path, image):
    other = write_image(tmp_path, 32, 32, seed=3, name="other.png")
    keep = store.add_item(store.create_dataset("keep"), [image])
    gone = store.add_item(store.create_dataset("gone"), [other])
    store.delete_dataset("gone")
    assert store.prune_images() == 1
    assert keep.images[0].file.is_file() and not gone.images[0].file.exists()


def test_threads_sharing_one_store_lose_no_action(store, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    dataset = store.create_dataset("d")
    items = [store.add_item(dataset, [write_image(tmp_path, 20, 20, seed=n)]) for n in range(4)]

    def burst(item_id: int) -> int:
        for n in range(20):
            store.set_annotations(item_id, 1, [AnnotationDraft.box((n, n, n + 5, n + 5), "x")])
        return item_id

    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(burst, [i.id for i in items]))
    assert all(len(store.history(i)) == 20 and store.item(i).version == 21 for i in done)


def test_two_processes_writing_at_once_both_succeed(tmp_path, image):
    db = tmp_path / "data" / "workbench.sqlite3"
    with DatasetStore(db) as store:
        dataset = store.create_dataset("d")
        items = [store.add_item(dataset, [image]).id for _ in range(2)]
    code = ("import sys; from workbench.store import DatasetStore, AnnotationDraft; s = DatasetStore(sys.argv[1]); "
            "[s.set_annotations(int(sys.argv[2]), 1, [AnnotationDraft.box((n, n, n + 1, n + 1), 'x')]) "
            "for n in range(50)]; s.close()")
    writers = [subprocess.Popen([sys.executable, "-c", code, str(db), str(i)], cwd=REPO, stderr=subprocess.PIPE,
                                text=True) for i in items]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    with DatasetStore(db) as store:
        assert [len(store.history(i)) for i in items] == [50, 50]
        assert sqlite3.connect(db).execute("PRAGMA integrity_check").fetchone()[0] == "ok"
