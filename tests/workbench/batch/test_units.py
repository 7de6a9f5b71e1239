"""Work units, job settings and their key, and the prompt per unit."""

from __future__ import annotations

import dataclasses

import pytest

from grounding import PixelLimits
from workbench.backends import FakeBackend
from workbench.batch import JobSettings, WorkUnit, unit_prompt
from workbench.errors import BackendError, WorkbenchError

BASE = JobSettings("qwen2.5-vl-7b", "qwen2.5-vl", PixelLimits(3136, 1003520), max_new_tokens=512)


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"model": "qwen2.5-vl-3b"}, id="model"),
        pytest.param({"family": "qwen3-vl"}, id="family"),
        pytest.param({"limits": PixelLimits(3136, 200704)}, id="max-pixels"),
        pytest.param({"limits": PixelLimits(784, 1003520)}, id="min-pixels"),
        pytest.param({"max_new_tokens": 1024}, id="max-new-tokens"),
        pytest.param({"temperature": 0.7}, id="temperature"),
        pytest.param({"add_vision_id": False}, id="vision-id"),
        pytest.param({"coordinate_keys": ("position",)}, id="coordinate-keys"),
    ],
)
def test_every_setting_that_changes_the_answer_changes_the_key(change):
    assert dataclasses.replace(BASE, **change).key("Find cats.") != BASE.key("Find cats.")


def test_the_key_is_stable_and_depends_on_the_prompt():
    again = JobSettings("qwen2.5-vl-7b", "qwen2.5-vl", PixelLimits(3136, 1003520), max_new_tokens=512)
    assert again.key("Find cats.") == BASE.key("Find cats.")
    assert BASE.key("Find cats.") != BASE.key("Find dogs.")


def test_jobs_without_extra_coordinate_keys_keep_the_keys_of_earlier_runs():
    assert "coordinate_keys" not in BASE.as_dict()  # a re-run of an older job still skips what it did


def test_a_unit_asks_for_the_jobs_extra_coordinate_keys():
    settings = dataclasses.replace(BASE, coordinate_keys=("position",))
    assert WorkUnit("item-1", ("a.png",), prompt="Where? Use position.").request(settings).coordinate_keys == (
        "position",)


def test_settings_follow_the_backend():
    backend = FakeBackend(lambda r, g: "", family="qwen3-vl", limits=PixelLimits(65536, 1310720), model="served")
    settings = JobSettings.for_backend(backend, max_new_tokens=64)
    assert (settings.model, settings.family.name, settings.limits, settings.max_new_tokens) == (
        "served", "qwen3-vl", PixelLimits(65536, 1310720), 64)
    assert JobSettings.for_backend(backend, PixelLimits(1024, 4096)).limits == PixelLimits(1024, 4096)


def test_a_unit_makes_the_request_with_the_job_settings():
    unit = WorkUnit("item-1", ("a.png", "b.png"), ("front", "back"), prompt="Find cats.")
    request = unit.request(BASE)
    assert (request.image_ids, request.limits, request.max_new_tokens, request.vision_ids) == (
        ("front", "back"), BASE.limits, 512, True)


@pytest.mark.parametrize(
    ("unit", "error"),
    [
        pytest.param(lambda: WorkUnit("", ("a.png",)), "needs a key", id="no-key"),
        pytest.param(lambda: WorkUnit("k", ()), "no images", id="no-images"),
    ],
)
def test_bad_units_are_refused(unit, error):
    with pytest.raises(WorkbenchError, match=error):
        unit()


def test_a_unit_with_mismatched_ids_fails_when_its_request_is_built():
    with pytest.raises(BackendError, match="2 images but 1 image IDs"):
        WorkUnit("k", ("a.png", "b.png"), ("only",), prompt="p").request(BASE)


@pytest.mark.parametrize(
    ("family", "ids", "kwargs", "expected"),
    [
        pytest.param("qwen2.5-vl", ["img1"], {"labels": ["cat", " dog "]},
                     "Locate every cat, dog in the image and output the bbox coordinates in JSON format.", id="labels-25"),
        pytest.param("qwen3-vl", ["img1"], {"labels": ["cat", "dog"]},
                     'Locate every instance that belongs to the following categories: "cat, dog". '
                     "Report bbox coordinates in JSON format.", id="labels-3"),
        pytest.param("qwen2.5-vl", ["img1"], {"prompt": "Find the logos."}, "Find the logos.", id="prompt-one-image"),
        pytest.param("qwen2.5-vl", ["a", "b"], {"labels": ["cup"], "task": "points"},
                     "Locate every cup in the images and output the point coordinates in JSON format.\n"
                     'There are 2 images: Picture 1 is a, Picture 2 is b. Add an "image" key to every object '
                     "with the number of the picture it is in (1 to 2).", id="points-two-images"),
    ],
)
def test_unit_prompt(family, ids, kwargs, expected):
    assert unit_prompt(family, ids, **kwargs) == expected


@pytest.mark.parametrize(
    "kwargs",
    [pytest.param({}, id="neither"), pytest.param({"prompt": "x", "labels": ["a"]}, id="both"),
     pytest.param({"prompt": "  "}, id="blank-prompt"), pytest.param({"labels": [" ", ""]}, id="blank-labels")],
)
def test_unit_prompt_needs_exactly_one_of_prompt_and_labels(kwargs):
    with pytest.raises(WorkbenchError, match="either a prompt or labels"):
        unit_prompt("qwen2.5-vl", ["img1"], **kwargs)


def test_qwen2_vl_has_no_points_request():
    with pytest.raises(WorkbenchError, match="no official points format"):
        unit_prompt("qwen2-vl", ["img1"], labels=["cat"], task="points")
