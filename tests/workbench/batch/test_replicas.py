"""ReplicaPool against real ``transformers serve`` processes on 127.0.0.1 and loopback sockets."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from grounding import process_size
from tests.workbench.batch.conftest import TEST_LIMITS
from tests.workbench.batch.serve import TransformersServe
from workbench.backends import GroundingRequest, OpenAICompatibleBackend
from workbench.batch import (
    JobSettings,
    MemorySink,
    ReplicaPool,
    ServersUnavailable,
    WorkUnit,
    run_batch,
)
from workbench.batch.files import units_from_folder
from workbench.batch.replicas import failure_kind
from workbench.errors import BackendError

PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}/v1"


def pool_for(model: Path, urls: list[str], **pool_options) -> ReplicaPool:
    return ReplicaPool.from_urls(
        urls, model=str(model), family="qwen2.5-vl", limits=TEST_LIMITS, limits_style="transformers", timeout=60,
        pool_options={"cooldown_s": 0.2, "max_cooldown_s": 1.0, "wait_s": 60.0} | pool_options,
    )


class _Busy(http.server.BaseHTTPRequestHandler):
    """Answers every POST with 503, as an overloaded server."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        payload = b'{"error": {"message": "overloaded"}}'
        self.send_response(503)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def busy_url() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Busy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_unreachable_is_told_apart_from_a_refusal(two_images):
    backend = OpenAICompatibleBackend("qwen2.5-vl-3b", base_url=closed_port_url(), max_retries=0)
    with pytest.raises(BackendError) as caught:
        backend.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT))
    assert failure_kind(caught.value) == "unreachable"
    assert failure_kind(BackendError("image.png: not an image")) == "refused"


def test_when_every_replica_is_down_the_pool_waits_then_gives_up(two_images, tiny_qwen25):
    urls = [closed_port_url(), closed_port_url()]
    # cool-downs shorter than the wait: the replicas keep "coming back" and failing again, and the
    # request still gives up once nothing has answered for wait_s
    pool = pool_for(tiny_qwen25, urls, wait_s=0.5, cooldown_s=0.05, max_cooldown_s=0.1)
    with pytest.raises(ServersUnavailable, match="no server answered for 0.5 s") as caught:
        pool.generate(GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=2))
    assert all(url in str(caught.value) for url in urls)
    assert [s["failures"] >= 1 for s in pool.status()] == [True, True]


def test_pool_members_must_agree():
    one = OpenAICompatibleBackend("qwen2.5-vl-3b", base_url="http://127.0.0.1:1/v1")
    other = OpenAICompatibleBackend("qwen2.5-vl-7b", base_url="http://127.0.0.1:2/v1")
    with pytest.raises(BackendError, match="set up differently"):
        ReplicaPool([one, other])


@pytest.mark.slow
def test_a_dead_replica_is_avoided_and_its_requests_go_elsewhere(serve_url, tiny_qwen25, two_images):
    dead = closed_port_url()
    pool = pool_for(tiny_qwen25, [dead, serve_url])
    request = GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=2, limits=TEST_LIMITS)
    outputs = [pool.generate(request) for _ in range(4)]
    assert all(o.images[0] == process_size((640, 480), "qwen2.5-vl", TEST_LIMITS) for o in outputs)
    dead_state, live_state = pool.status()
    assert (live_state["served"], dead_state["served"]) == (4, 0)
    assert dead_state["failures"] >= 1 and "cannot reach" in dead_state["last_error"]


@pytest.mark.slow
def test_a_busy_answer_is_tried_on_another_replica_and_a_refusal_is_not(serve_url, tiny_qwen25, two_images, busy_url):
    pool = pool_for(tiny_qwen25, [busy_url, serve_url])
    request = GroundingRequest(images=two_images[:1], prompt=PROMPT, max_new_tokens=2, limits=TEST_LIMITS)
    for _ in range(3):
        pool.generate(request)
    busy, live = pool.status()
    assert live["served"] == 3 and busy["served"] == 0
    assert busy["available"], "a busy server is not set aside like a dead one"
    with pytest.raises(BackendError, match="answered 503: overloaded"):
        pool_for(tiny_qwen25, [busy_url]).generate(request)
    wrong_model = ReplicaPool.from_urls([serve_url, serve_url], model="Qwen/Qwen2.5-VL-7B-Instruct", limits_style="none")
    with pytest.raises(BackendError, match="answered 400"):
        wrong_model.generate(request)
    assert sum(s["failures"] for s in wrong_model.status()) == 1


@pytest.mark.slow
def test_load_goes_to_the_least_busy_replica(serve_url, limited_server, tiny_qwen25, image_folder):
    pool = pool_for(tiny_qwen25, [serve_url, limited_server.url])
    units = [u for u in units_from_folder(image_folder, prompt=PROMPT) if "broken" not in u.key][:12]
    summary = run_batch(units, pool, MemorySink(), JobSettings.for_backend(pool, max_new_tokens=4), concurrency=4)
    assert summary.written == 12
    assert all(s["served"] >= 3 for s in pool.status()), pool.status()


def _wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


@pytest.mark.slow
def test_thirty_items_with_a_replica_killed_and_restarted_mid_run(limited_server, tiny_qwen25, image_folder, tmp_path):
    replica = TransformersServe(tiny_qwen25, tmp_path, limits=TEST_LIMITS).start().wait_healthy()
    pool = pool_for(tiny_qwen25, [limited_server.url, replica.url])
    units = list(units_from_folder(image_folder, prompt=PROMPT))
    assert len(units) == 30
    marks: dict[str, int] = {}

    def source() -> Iterator[WorkUnit]:
        for number, unit in enumerate(units):
            if number == 8:
                replica.kill()
            if number == 16:
                marks["failures_while_down"] = pool.status()[1]["failures"]
                replica.start().wait_healthy()
                _wait_until(lambda: pool.status()[1]["available"])
                marks["served_before_restart"] = pool.status()[1]["served"]
            yield unit

    sink = MemorySink()
    try:
        summary = run_batch(source(), pool, sink, JobSettings.for_backend(pool, max_new_tokens=8), concurrency=4, total=30)
    finally:
        replica.stop()
    assert summary.complete and (summary.written, summary.failed) == (29, 1)
    assert sink.written_twice() == [] and len(sink.writes) == 29
    assert set(sink.results) == {u.key for u in units} - {"img99_broken.jpg"}
    assert sink.failures["img99_broken.jpg"].stage == "input"
    assert marks["failures_while_down"] >= 1, "the killed replica was asked while down and set aside"
    assert pool.status()[1]["served"] > marks["served_before_restart"], "the restarted replica came back"
    for result in sink.results.values():
        image = result.images[0]
        assert image.geometry == process_size(image.geometry.original_wh, "qwen2.5-vl", TEST_LIMITS)
        assert result.limits == TEST_LIMITS
