"""Issue 20, items 4 and 9: every call to a model server has a total deadline, a cancel reaches a call that is
waiting, an answer's bytes are bounded, and an answer that is not a chat completion fails its item.

The servers (``misbehaving.py``) trickle a byte at a time, stay silent, or answer JSON that is no chat
completion. Each test waits for an outcome (never for a fixed time); a server gives up by itself after a
while, so a regression fails instead of hanging.
"""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import pytest

from tests.factories import write_image
from tests.security.misbehaving import MisbehavingServer
from workbench.backends import GroundingRequest, OpenAICompatibleBackend
from workbench.backends.deadline import interruptible
from workbench.batch import run_batch
from workbench.batch.dataset import StoreSink, units_from_items
from workbench.batch.jobs import JobRequest, JobRunner
from workbench.batch.units import JobSettings
from workbench.deployment import ResourceLimits
from workbench.deployment.gate import FairGate, GatedBackend
from workbench.errors import BackendError
from workbench.store import DatasetStore

MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


@pytest.fixture
def server(request):
    made: list[MisbehavingServer] = []

    def make(mode: str, **kwargs) -> MisbehavingServer:
        made.append(MisbehavingServer(mode, **kwargs))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.fixture
def image(tmp_path):
    return write_image(tmp_path, 64, 48, name="cat.png")


def backend(url: str, **options) -> OpenAICompatibleBackend:
    options = {"timeout": 600.0, "max_retries": 2, "deadline_s": None, **options}
    return OpenAICompatibleBackend(MODEL, base_url=url, limits_style="none", **options)


def request(image) -> GroundingRequest:
    return GroundingRequest(images=(image,), prompt="Find the cat.", max_new_tokens=16)


@pytest.mark.parametrize("mode", ["trickle-head", "trickle-body"])
def test_a_trickling_server_is_stopped_at_the_deadline_not_held_by_its_bytes(server, image, mode):
    slow = server(mode)
    with pytest.raises(BackendError, match=r"was stopped: it ran past 2 s"):
        backend(slow.url, deadline_s=2).generate(request(image))
    assert slow.requests == 1, "a stopped call is not retried"


def test_the_gate_slot_is_given_back_when_the_deadline_stops_a_trickle(server, image):
    slow = server("trickle-body")
    gate = FairGate(1)
    gated = GatedBackend(backend(slow.url, deadline_s=2), gate, ResourceLimits(request_s=2))
    with pytest.raises(BackendError, match="ran past"):
        gated.generate(request(image))
    assert gate.running == 0


def test_cancel_stops_a_call_that_is_waiting_for_a_silent_server(server, image):
    silent = server("silent")
    cancel = threading.Event()
    outcome: list[BaseException | None] = []

    def call() -> None:
        with interruptible(cancel):
            try:
                backend(silent.url).generate(request(image))
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    while silent.requests == 0:
        time.sleep(0.05)
    cancel.set()
    worker.join(timeout=60)  # stopped within a poll slice; without the fix, only the server giving up ends it
    assert not silent.stopped.is_set() and outcome, "the cancel did not reach the waiting call"
    assert isinstance(outcome[0], BackendError) and "was stopped: it was cancelled" in str(outcome[0])


def test_a_batch_job_cancelled_while_its_call_waits_stops_and_leaves_the_item_undone(server, tmp_path, image):
    silent = server("silent")
    store = DatasetStore(tmp_path / "db.sqlite3")
    item = store.add_item(store.create_dataset("pets"), [image])
    runner = JobRunner(lambda: store, lambda kind, **options: backend(silent.url))
    job = runner.start(item.dataset_id, JobRequest(base_url=silent.url, model=MODEL, labels=("cat",),
                                                   geometry_check=False, concurrency=1))
    while silent.requests == 0:
        time.sleep(0.05)
    runner.cancel(job)
    deadline = time.monotonic() + 60
    while runner.running(job) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not runner.running(job) and not silent.stopped.is_set(), "Cancel did not stop the waiting call"
    assert store.job(job).state == "cancelled"
    assert store.item(item.id).status == "new" and not store.item(item.id).error  # undone, not failed


def test_cancel_reaches_the_geometry_check_a_job_starts_with(server, tmp_path, image):
    silent = server("silent")
    store = DatasetStore(tmp_path / "db.sqlite3")
    item = store.add_item(store.create_dataset("pets"), [image])
    runner = JobRunner(lambda: store, lambda kind, **options: backend(silent.url))
    job = runner.start(item.dataset_id, JobRequest(base_url=silent.url, model=MODEL, labels=("cat",)))
    while silent.requests == 0:
        time.sleep(0.05)
    runner.cancel(job)
    deadline = time.monotonic() + 60
    while runner.running(job) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not runner.running(job) and store.job(job).state == "cancelled"


def test_an_answer_past_its_byte_bound_is_stopped(server, image):
    huge = server("huge", huge_bytes=48 << 20)
    with pytest.raises(BackendError, match="its answer passed 1 MB"):
        backend(huge.url, max_answer_bytes=1 << 20).complete(request(image))
    with pytest.raises(BackendError, match="its answer passed 1 MB"):
        backend(huge.url, max_answer_bytes=1 << 20).generate(request(image))


@pytest.mark.parametrize("call", ["stream", "complete"])
def test_a_body_that_is_no_chat_completion_is_an_error_not_an_empty_answer(server, image, call):
    odd = server("json")
    engine = backend(odd.url)
    with pytest.raises(BackendError, match="answered something that is not a"):
        engine.generate(request(image)) if call == "stream" else engine.complete(request(image))


def prompted(store, dataset):
    _, units = units_from_items(store, dataset)
    return (replace(unit, prompt="Find the cat.") for unit in units)


def test_a_batch_item_answered_with_no_chat_completion_fails_and_a_rerun_tries_it_again(server, tmp_path, image):
    odd = server("json")
    store = DatasetStore(tmp_path / "db.sqlite3")
    item = store.add_item(store.create_dataset("pets"), [image])
    engine = backend(odd.url)
    settings = JobSettings.for_backend(engine, max_new_tokens=16)
    summary = run_batch(prompted(store, item.dataset_id), engine, StoreSink(store, item.dataset_id), settings)
    assert summary.failed == 1 and summary.written == 0
    stored = store.item(item.id)
    assert stored.status == "new" and "not a stream of chat completion chunks" in stored.error
    odd.mode = "chat"
    odd.answer = '[{"bbox_2d": [1, 1, 20, 20], "label": "cat"}]'
    again = run_batch(prompted(store, item.dataset_id), engine, StoreSink(store, item.dataset_id), settings)
    assert again.written == 1 and store.item(item.id).status == "pre-annotated"
