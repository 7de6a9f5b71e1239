"""Backend plumbing: request checks, output warnings, stream collection, factory, settings."""

from __future__ import annotations

from contextlib import nullcontext as does_not_raise

import pytest

from grounding import PixelLimits, process_size
from tests.factories import write_image
from workbench.backends import (
    FakeBackend,
    GroundingRequest,
    ModelBackend,
    RawOutput,
    TextDelta,
    collect,
    create_backend,
    guess_family,
)
from workbench.config import default_api_key, default_base_url
from workbench.errors import BackendError


def test_finished_output_has_no_warnings():
    output = RawOutput(text="[]", images=(process_size((64, 64), "qwen3-vl"),), model="m", finish_reason="stop")
    assert (output.truncated, output.warnings, output.family.name) == (False, (), "qwen3-vl")


def test_collect_needs_a_final_output():
    with pytest.raises(BackendError, match="ended without an answer"):
        collect(iter([TextDelta("a")]))


def test_fake_backend_streams_pieces_that_add_up(tmp_path):
    text = 'Here:\n```json\n[{"bbox_2d": [1, 2, 3, 4], "label": "a b"}]\n```'
    backend = FakeBackend(lambda request, images: text, family="qwen3-vl")
    assert isinstance(backend, ModelBackend)
    request = GroundingRequest(images=(write_image(tmp_path, 100, 50),), prompt="Find.")
    *pieces, output = list(backend.stream(request))
    assert len(pieces) > 3 and "".join(p.text for p in pieces) == text
    assert output.images == (process_size((100, 50), "qwen3-vl"),)


def test_fake_backend_uses_the_request_limits(tmp_path):
    per_call = PixelLimits(3136, 64 * 28 * 28)
    backend = FakeBackend(lambda request, images: "[]")
    request = GroundingRequest(images=(write_image(tmp_path, 1920, 1080),), prompt="Find.", limits=per_call)
    output = backend.generate(request)
    assert output.images == (process_size((1920, 1080), "qwen2.5-vl", per_call),)
    assert output.limits == per_call


@pytest.mark.parametrize(
    ("kind", "options", "context"),
    [
        pytest.param("local", {"model": "some/model"}, does_not_raise(), id="local"),
        pytest.param("vllm", {}, pytest.raises(BackendError, match="unknown backend"), id="unknown-kind"),
        pytest.param("local", {"base_url": "http://x"}, pytest.raises(BackendError, match="unexpected keyword"), id="bad-option"),
    ],
)
def test_create_backend(kind, options, context):
    with context:
        assert create_backend(kind, **options).model == "some/model"


@pytest.mark.parametrize(
    ("name", "family"),
    [
        pytest.param("Qwen/Qwen2.5-VL-3B-Instruct", "qwen2.5-vl", id="hub-2.5"),
        pytest.param("qwen2_5_vl", "qwen2.5-vl", id="underscores"),
        pytest.param("qwen-vl-max-latest", "qwen2.5-vl", id="dashscope-max"),
        pytest.param("Qwen/Qwen3-VL-30B-A3B-Instruct", "qwen3-vl-moe", id="hub-3-moe"),
        pytest.param("Qwen/Qwen3-VL-8B-Instruct", "qwen3-vl", id="hub-3"),
        pytest.param("qwen3-vl-plus", "qwen3-vl", id="dashscope-3"),
        pytest.param("Qwen/Qwen3.5-9B", "qwen3.5", id="qwen3.5"),
        pytest.param("Qwen/Qwen3.5-397B-A17B-FP8", "qwen3.5-moe", id="qwen3.5-moe"),
        pytest.param("Qwen/Qwen3.8-27B", "qwen3.5", id="qwen3.8-dense"),
        pytest.param("Qwen/Qwen2.5-Omni-7B", "qwen2.5-omni", id="omni-2.5"),
        pytest.param("Qwen/Qwen3-Omni-30B-A3B-Instruct", "qwen3-omni", id="omni-3"),
        pytest.param("Qwen/Qwen2-VL-7B-Instruct", "qwen2-vl", id="hub-2"),
        pytest.param("/models/tiny-qwen2.5-vl", "qwen2.5-vl", id="folder"),
    ],
)
def test_guess_family(name, family):
    assert guess_family(name).name == family


def test_unknown_family_name_raises():
    with pytest.raises(ValueError, match="give the family explicitly"):
        guess_family("llava-1.5")


def test_environment_fallbacks():
    assert default_base_url({"OPENAI_BASE_URL": "http://a/v1"}) == "http://a/v1"
    assert default_base_url({"WORKBENCH_BASE_URL": "http://b/v1", "OPENAI_BASE_URL": "http://a/v1"}) == "http://b/v1"
    assert default_api_key({}) == "EMPTY"
