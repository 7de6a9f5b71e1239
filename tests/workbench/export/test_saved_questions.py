"""A dataset keeps the training question a person worded, per family and task, and nothing unusable."""

from __future__ import annotations

import pytest

from workbench.errors import ExportError
from workbench.export.questions import default_templates
from workbench.export.saved import save_template, saved_templates, template_for
from workbench.store import DatasetStore


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as opened:
        yield opened


def test_a_worded_question_is_kept_for_its_family_and_task_only(store):
    ds = store.create_dataset("pets")
    save_template(store, ds.id, "qwen3-vl", "objects", "Find {labels}; answer in JSON.")
    assert saved_templates(store, ds.id, "qwen3-vl") == {"objects": "Find {labels}; answer in JSON."}
    assert template_for(store, ds.id, "qwen3-vl", "referring") == default_templates("qwen3-vl")["referring"]
    assert template_for(store, ds.id, "qwen2.5-vl", "objects") == default_templates("qwen2.5-vl")["objects"]


def test_the_familys_own_phrasing_or_an_empty_one_forgets_the_worded_question(store):
    ds = store.create_dataset("pets")
    save_template(store, ds.id, "qwen2.5-vl", "referring", "Where is {label}?")
    save_template(store, ds.id, "qwen2.5-vl", "objects", "Boxes of {labels}.")
    save_template(store, ds.id, "qwen2.5-vl", "referring", default_templates("qwen2.5-vl")["referring"])
    assert saved_templates(store, ds.id, "qwen2.5-vl") == {"objects": "Boxes of {labels}."}
    save_template(store, ds.id, "qwen2.5-vl", "objects", "  ")
    assert "question_templates" not in store.dataset_settings(ds.id)


@pytest.mark.parametrize(("family", "task", "text", "message"), [
    ("qwen2.5-vl", "objects", "Find {animals}.", "uses {animals}"),
    ("qwen2-vl", "points", "Point at {labels}.", "no official point format"),
    ("qwen3-vl", "captions", "Describe it.", "unknown question task"),
])
def test_a_question_the_export_would_refuse_is_refused_and_the_kept_one_stays(store, family, task, text, message):
    ds = store.create_dataset("pets")
    save_template(store, ds.id, family, "referring", "Where is {label}?")
    with pytest.raises(ExportError, match=message):
        save_template(store, ds.id, family, task, text)
    assert saved_templates(store, ds.id, family) == {"referring": "Where is {label}?"}


def test_settings_written_by_hand_that_make_no_sense_read_as_none(store):
    ds = store.create_dataset("pets")
    store.update_dataset_settings(ds.id, {"question_templates": {"qwen2.5-vl": {"objects": 3, "nonsense": "x"}}})
    assert saved_templates(store, ds.id, "qwen2.5-vl") == {}
    store.update_dataset_settings(ds.id, {"question_templates": ["not", "a", "mapping"]})
    assert saved_templates(store, ds.id, "qwen2.5-vl") == {}
    save_template(store, ds.id, "qwen2.5-vl", "objects", "Boxes of {labels}.")
    assert saved_templates(store, ds.id, "qwen2.5-vl") == {"objects": "Boxes of {labels}."}
