"""The gate in front of every backend: limits checked before any work, fair turns, a time bound."""

from __future__ import annotations

import threading

import pytest

from grounding import PixelLimits
from tests.factories import write_black_png, write_image
from workbench.backends import FakeBackend, GroundingRequest, TextDelta
from workbench.deployment import ResourceLimits
from workbench.deployment.gate import FairGate, GatedBackend, check_request, visitor
from workbench.errors import BackendError


def request(images, **kwargs) -> GroundingRequest:
    return GroundingRequest(images=tuple(images), prompt=kwargs.pop("prompt", "Find the cat."), **kwargs)


@pytest.mark.parametrize("kwargs, message", [
    pytest.param({"max_new_tokens": 10**12}, "max new tokens is at most 8192", id="tokens"),
    pytest.param({"limits": PixelLimits(50_000_000, 60_000_000)}, "min_pixels is at most 16777216", id="min-pixels"),
    pytest.param({"prompt": "x" * 20_001}, "prompt is at most 20000 characters", id="prompt"),
])
def test_requests_beyond_the_limits_are_refused_in_words(tmp_path, kwargs, message):
    image = write_image(tmp_path, 32, 32)
    with pytest.raises(BackendError, match=message):
        check_request(request([image], **kwargs), ResourceLimits())


def test_too_many_images_and_a_pixel_bomb_are_refused_from_headers(tmp_path):
    image = write_image(tmp_path, 32, 32)
    with pytest.raises(BackendError, match="at most 16 images"):
        check_request(request([image] * 17), ResourceLimits())
    bomb = write_black_png(tmp_path / "black.png", 13000, 13000)
    with pytest.raises(BackendError, match=r"black.png: 13000 x 13000 = 169.0 MP decoded; one image may have at most"):
        check_request(request([bomb]), ResourceLimits())


def test_special_files_are_refused_unopened(tmp_path):
    with pytest.raises(BackendError, match="zero: not a regular file"):
        check_request(request(["/dev/zero"]), ResourceLimits())


def test_a_gated_backend_refuses_before_the_backend_runs(tmp_path):
    calls = []
    gated = GatedBackend(FakeBackend(lambda r, g: calls.append(r) or "[]"), FairGate(1), ResourceLimits())
    with pytest.raises(BackendError):
        gated.generate(request([write_image(tmp_path, 32, 32)], max_new_tokens=9000))
    assert calls == []
    assert gated.generate(request([write_image(tmp_path, 32, 32)])).text == "[]"


def test_a_request_past_its_time_is_stopped(tmp_path):
    now = [0.0]

    def slow(request, geometry):
        return "word " * 50

    gated = GatedBackend(FakeBackend(slow), FairGate(1), ResourceLimits(request_s=5), clock=lambda: now[0])
    events = gated.stream(request([write_image(tmp_path, 32, 32)]))
    assert isinstance(next(events), TextDelta)
    now[0] = 6.0
    with pytest.raises(BackendError, match="ran past 5 s and was stopped"):
        list(events)
    assert gated.gate.running == 0  # the turn is given back


def test_one_visitor_holds_one_turn_and_others_are_served_in_order():
    gate = FairGate(1)
    order: list[str] = []
    started = threading.Event()
    release = threading.Event()

    def first():
        with gate.turn("a", wait_s=30):
            started.set()
            release.wait(30)
            order.append("a")

    holder = threading.Thread(target=first)
    holder.start()
    assert started.wait(30)
    with pytest.raises(BackendError, match="already have a model request"), gate.turn("a", wait_s=30):
        pass
    waiters = []
    queued = []
    for name in ("b", "c"):
        ready = threading.Event()

        def wait_turn(name=name, ready=ready):
            ready.set()
            with gate.turn(name, wait_s=30):
                order.append(name)

        thread = threading.Thread(target=wait_turn)
        thread.start()
        assert ready.wait(30)
        _wait_until(lambda n=len(queued) + 1: len(gate._queue) == n)
        queued.append(name)
        waiters.append(thread)
    release.set()
    for thread in [holder, *waiters]:
        thread.join(30)
    assert order == ["a", "b", "c"] and gate.running == 0


def test_waiting_has_a_bound():
    gate = FairGate(1)
    with gate.turn("a", wait_s=1), pytest.raises(BackendError, match="busy with other requests"), \
            gate.turn("b", wait_s=0.05):
        pass
    assert len(gate._queue) == 0 and gate._visitors == set()


def test_the_visitor_comes_from_the_web_layer(tmp_path):
    seen = []
    gated = GatedBackend(FakeBackend(lambda r, g: "[]"), FairGate(1), ResourceLimits())
    original = gated.gate.turn

    def spy(who, wait_s):
        seen.append(who)
        return original(who, wait_s)

    gated.gate.turn = spy
    token = visitor.set("session-1")
    try:
        gated.generate(request([write_image(tmp_path, 32, 32)]))
    finally:
        visitor.reset(token)
    assert seen == ["session-1"]


def _wait_until(condition, timeout: float = 30.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.005)
