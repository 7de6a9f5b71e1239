"""Splits: from the images' content (the same on any machine, multi-image items whole) or by hand; the queue
filters by split."""

from __future__ import annotations

import pytest

from tests.factories import write_image
from workbench.errors import StoreError
from workbench.store import DatasetStore, ImageSource, ItemFilter
from workbench.store.splits import check_fractions, content_split, fraction_of


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "a" / "workbench.sqlite3") as store:
        yield store


def add_items(store: DatasetStore, folder, count: int, name: str = "d") -> list[int]:
    dataset = store.create_dataset(name)
    return [store.add_item(dataset, [write_image(folder, 32 + n % 7, 24 + n // 7, seed=n)]).id for n in range(count)]


def test_a_known_set_of_images_has_a_known_split():
    # the rule is a hash of the sorted SHA-256 digests joined by newlines; the same number comes out of
    # the shell:  printf '%s\n%s' 000...0 fff...f | sha256sum  -> first 16 hex digits / 2**64 = 0.968482
    digests = ["0" * 64, "f" * 64]
    assert fraction_of(digests) == fraction_of(list(reversed(digests)))  # picture order does not matter
    assert round(fraction_of(digests), 6) == 0.968482
    assert content_split(digests, {"train": 0.8, "val": 0.1, "test": 0.1}) == "test"
    assert content_split(digests, {"train": 0.8, "val": 0.17}) == "val"
    assert content_split(digests, {"train": 0.9}) == ""  # past the fractions: no split


def test_the_same_images_land_in_the_same_split_in_any_store(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    with DatasetStore(tmp_path / "b" / "workbench.sqlite3") as other, \
            DatasetStore(tmp_path / "a" / "workbench.sqlite3") as store:
        ids = add_items(store, images, 40)
        other_ids = add_items(other, images, 40)[::-1]  # other order, another store
        other.add_item("d", [write_image(images, 99, 99, seed=99)])  # and an item the first one lacks
        store.assign_splits("d")
        other.assign_splits("d")
        mine = {store.item(i).images[0].sha256: store.item(i).split for i in ids}
        theirs = {other.item(i).images[0].sha256: other.item(i).split for i in other_ids}
    assert mine == theirs


def test_fractions_shape_the_splits_and_are_kept_per_dataset(store, tmp_path):
    ids = add_items(store, tmp_path, 300)
    counts = store.assign_splits("d", {"train": 0.5, "val": 0.5, "test": 0.0})
    assert counts["test"] == 0 and counts[""] == 0 and 120 <= counts["val"] <= 180
    assert sum(counts.values()) == 300 == sum(store.split_counts("d").values())
    assert store.split_fractions("d") == {"train": 0.5, "val": 0.5, "test": 0.0}
    assert store.assign_splits("d") == {"train": 0, "val": 0, "test": 0, "": 0}  # everyone already has one
    assert {store.item(i).split for i in ids} == {"train", "val"}


def test_a_split_set_by_hand_stays_unless_asked_to_reassign(store, tmp_path):
    ids = add_items(store, tmp_path, 20)
    assert store.set_split("d", ids[:5], "test") == 5
    store.assign_splits("d", {"train": 1.0})
    assert [store.item(i).split for i in ids[:6]] == ["test"] * 5 + ["train"]
    store.assign_splits("d", overwrite=True)
    assert {store.item(i).split for i in ids} == {"train"}
    assert store.set_split("d", ids[:2], "none") == 2 and store.item(ids[0]).split == ""


def test_a_split_changes_neither_the_items_version_nor_its_history(store, tmp_path):
    (first,) = add_items(store, tmp_path, 1)
    before = store.item(first)
    store.set_split("d", [first], "val")
    after = store.item(first)
    assert (after.version, after.split, store.history(first)) == (before.version, "val", [])


def test_a_multi_image_item_moves_whole(store, tmp_path):
    dataset = store.create_dataset("d")
    a, b = write_image(tmp_path, 40, 30, seed=1), write_image(tmp_path, 50, 30, seed=2)
    item = store.add_item(dataset, [ImageSource(a, "front"), ImageSource(b, "back")])
    store.assign_splits("d", {"train": 0.5, "val": 0.5})
    expected = content_split([image.sha256 for image in item.images], {"train": 0.5, "val": 0.5})
    assert store.item(item.id).split == expected


def test_the_queue_filters_by_split(store, tmp_path):
    ids = add_items(store, tmp_path, 6)
    store.set_split("d", ids[:2], "val")
    store.set_split("d", ids[2:3], "test")
    assert store.item_ids("d", ItemFilter(split="val")) == ids[:2]
    assert store.item_ids("d", ItemFilter(split="none")) == ids[3:]
    assert store.queue("d", ItemFilter(split="test")).total == 1
    store.set_status(ids[0], "accepted")
    assert store.item_ids("d", ItemFilter(split="val", status="accepted")) == ids[:1]


@pytest.mark.parametrize(("call", "message"), [
    pytest.param(lambda s, ids: s.set_split("d", ids, "holdout"), "a split is one of", id="unknown-split"),
    pytest.param(lambda s, ids: s.set_split("d", [*ids, 999], "val"), "no item 999", id="unknown-item"),
    pytest.param(lambda s, ids: s.assign_splits("d", {"train": 0.9, "val": 0.2}), "add up to 1.1", id="sum"),
    pytest.param(lambda s, ids: s.assign_splits("d", {"train": -0.1}), "between 0 and 1", id="negative"),
    pytest.param(lambda s, ids: s.assign_splits("d", {"dev": 0.1}), "not for dev", id="unknown-fraction"),
    pytest.param(lambda s, ids: s.item_ids("d", ItemFilter(split="holdout")), "a split is one of", id="filter"),
])
def test_bad_splits_are_refused_in_words_and_nothing_changes(store, tmp_path, call, message):
    ids = add_items(store, tmp_path, 3)
    with pytest.raises(StoreError, match=message):
        call(store, ids)
    assert {store.item(i).split for i in ids} == {""}


def test_an_item_of_another_dataset_cannot_be_moved_through_this_one(store, tmp_path):
    ids = add_items(store, tmp_path, 2)
    other = store.add_item(store.create_dataset("e"), [write_image(tmp_path, 20, 20, seed=50)])
    with pytest.raises(StoreError, match=f"no item {other.id}"):
        store.set_split("d", [ids[0], other.id], "val")
    assert store.item(ids[0]).split == ""


def test_check_fractions_reads_numbers_given_as_text():
    assert check_fractions({"train": "0.6", "val": 0.2}) == {"train": 0.6, "val": 0.2, "test": 0.0}
