"""A dataset's remembered choices: kept in its settings, read back the same, secrets never kept."""

from __future__ import annotations

import pytest

from workbench.remembered import KEY, Remembered, remember, remembered
from workbench.store import DatasetStore, ItemFilter


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        store.create_dataset("a")
        store.create_dataset("b")
        yield store


def test_each_dataset_keeps_its_own_choices_across_a_reopen(store, tmp_path):
    remember(store, 1, backend="openai", model="m1", base_url="http://127.0.0.1:8000/v1", find="cat, dog",
             prompt="Find them.", flt=ItemFilter(status="new", name="IMG_"))
    remember(store, 2, model="m2")
    store.update_dataset_settings(1, {"family": "qwen3-vl", "max_pixels": 1_000_000})
    store.close()
    with DatasetStore(tmp_path / "db.sqlite3") as again:
        one, two = remembered(again, 1), remembered(again, 2)
    assert (one.backend, one.model, one.base_url, one.labels, one.prompt) == (
        "openai", "m1", "http://127.0.0.1:8000/v1", ("cat", "dog"), "Find them.")
    assert one.filter == ItemFilter(status="new", name="IMG_")
    assert (one.family, one.geometry.max_pixels) == ("qwen3-vl", 1_000_000)
    assert (two.model, two.backend, two.filter, two.family) == ("m2", "", ItemFilter(), "qwen2.5-vl")


def test_one_field_changes_alone_and_an_empty_filter_field_clears_it(store):
    remember(store, 1, model="m", status="accepted", name="x")
    remember(store, 1, status="")
    got = remembered(store, 1)
    assert (got.model, got.filter) == ("m", ItemFilter(name="x"))


@pytest.mark.parametrize("url", ["http://user:secret@10.0.0.5:8000/v1", "https://api.example/v1?key=abc"])
def test_a_server_url_that_carries_a_secret_is_not_kept(store, url):
    remember(store, 1, base_url="http://127.0.0.1:8000/v1")
    assert remember(store, 1, base_url=url).base_url == "http://127.0.0.1:8000/v1"
    assert "secret" not in str(store.dataset_settings(1)) and "abc" not in str(store.dataset_settings(1))


def test_settings_written_by_hand_that_make_no_sense_read_as_nothing_chosen(store):
    store.update_dataset_settings(1, {KEY: {"model": 3, "filter": "new", "prompt": ["x"]}})
    assert remembered(store, 1) == Remembered()
    store.update_dataset_settings(1, {KEY: "garbage"})
    assert remembered(store, 1).model == ""


def test_an_unknown_field_is_a_programming_error(store):
    with pytest.raises(TypeError, match="api_key"):
        remember(store, 1, api_key="sk-123")
