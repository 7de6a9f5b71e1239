"""The geometry check against real ``transformers serve`` processes started with known limits."""

from __future__ import annotations

import pytest

from grounding import PixelLimits, process_size
from tests.workbench.batch.conftest import TEST_LIMITS
from workbench.backends import OpenAICompatibleBackend
from workbench.batch import ReplicaPool
from workbench.batch.geometry_check import (
    GeometryMismatch,
    check_server_geometry,
    probe_sizes,
    read_server_geometry,
)

pytestmark = pytest.mark.slow

LARGER = PixelLimits(3136, 512 * 28 * 28)


def backend(url: str, model, limits: PixelLimits, style: str = "none") -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(str(model), base_url=url, family="qwen2.5-vl", limits=limits, limits_style=style,
                                   max_retries=0, timeout=120)


def test_passes_against_a_server_started_with_the_same_limits(limited_server, tiny_qwen25):
    [report] = check_server_geometry(backend(limited_server.url, tiny_qwen25, TEST_LIMITS))
    assert report.agrees and len(report.readings) == 3
    assert [r.size_wh for r in report.readings] == list(probe_sizes("qwen2.5-vl", TEST_LIMITS))
    assert report.measured_visual() == tuple(r.expected_visual for r in report.readings)
    assert report.text_tokens > 0


def test_refuses_a_server_that_does_not_scale_down_as_expected(serve_url, tiny_qwen25):
    """The default server keeps the checkpoint's max_pixels (12845056): the big probe is not shrunk."""
    with pytest.raises(GeometryMismatch) as caught:
        check_server_geometry(backend(serve_url, tiny_qwen25, TEST_LIMITS))
    message = str(caught.value)
    big = probe_sizes("qwen2.5-vl", TEST_LIMITS)[2]
    assert message.startswith(f"{serve_url} resizes images with other limits than the workbench (qwen2.5-vl, min_pixels=3136, max_pixels=200704)")
    assert f"max_pixels above {big[0] * big[1]} (the {big[0]}x{big[1]} probe was not scaled down)" in message
    assert "min_pixels as the workbench's" in message
    assert "checkpoint default (16384·28²) (min_pixels=3136, max_pixels=12845056)" in message


def test_refuses_a_server_that_scales_down_more_and_measures_its_max(limited_server, tiny_qwen25):
    with pytest.raises(GeometryMismatch) as caught:
        check_server_geometry(backend(limited_server.url, tiny_qwen25, LARGER))
    big = probe_sizes("qwen2.5-vl", LARGER)[2]
    server_tokens = process_size(big, "qwen2.5-vl", TEST_LIMITS).tokens
    expected = process_size(big, "qwen2.5-vl", LARGER).tokens
    assert (f"max_pixels about {server_tokens * 28 * 28} ({big[0]}x{big[1]} probe: {server_tokens} visual tokens, "
            f"the workbench expects {expected})") in str(caught.value)


def test_limits_sent_with_each_request_are_checked_too(limited_server, tiny_qwen25):
    """``transformers serve`` honours per-request limits over its own: the check sees them applied."""
    report = read_server_geometry(backend(limited_server.url, tiny_qwen25, LARGER, style="transformers"))
    assert report.agrees, report.message()


def test_every_replica_is_checked_and_only_the_wrong_one_named(limited_server, serve_url, tiny_qwen25):
    pool = ReplicaPool([backend(limited_server.url, tiny_qwen25, TEST_LIMITS), backend(serve_url, tiny_qwen25, TEST_LIMITS)])
    with pytest.raises(GeometryMismatch) as caught:
        check_server_geometry(pool)
    assert serve_url in str(caught.value) and limited_server.url not in str(caught.value)
