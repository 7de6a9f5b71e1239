"""Jobs started from the app: a thread per job, progress and cancel through the store, interrupted on restart."""

from __future__ import annotations

import threading
import time

import pytest

from tests.factories import write_image
from workbench.backends import FakeBackend
from workbench.batch.jobs import JobRequest, JobRunner, describe
from workbench.errors import WorkbenchError
from workbench.store import DatasetStore

ANSWER = '[{"bbox_2d": [0, 0, 28, 28], "label": "cat"}]'


@pytest.fixture
def store(tmp_path):
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        dataset = store.create_dataset("d")
        for n in range(12):
            store.add_item(dataset, [write_image(tmp_path, 64, 48, seed=n, name=f"{n}.png")])
        yield store


def _wait(store, job_id, states, timeout=60.0):
    deadline = time.monotonic() + timeout
    while store.job(job_id).state not in states:
        assert time.monotonic() < deadline, store.job(job_id)
        time.sleep(0.02)
    return store.job(job_id)


def test_a_job_annotates_the_chosen_items_and_says_how_it_went(store):
    backend = FakeBackend(lambda request, geometry: ANSWER)
    runner = JobRunner(lambda: store, lambda kind, **options: backend)
    job_id = runner.start(1, JobRequest(backend="local", labels=("cat",), concurrency=2))
    job = _wait(store, job_id, {"done"})
    assert (job.done, job.failed, job.total) == (12, 0, 12)
    assert "Job 1: done · 12 of 12 item(s) done (100%)" in describe(job)
    assert {i.status for i in store.items("d")} == {"pre-annotated"}
    again = _wait(store, runner.start(1, JobRequest(backend="local", labels=("cat",), statuses=("pre-annotated",))),
                  {"done"})
    assert "0 annotated, 0 failed, 12 already done" in again.message


def test_a_job_reads_answers_under_the_coordinate_keys_the_dataset_names(store):
    store.update_dataset_settings(1, {"coordinate_keys": ["position"]})
    backend = FakeBackend(lambda request, geometry: '[{"position": [0, 0, 28, 28], "label": "cat"}]')
    runner = JobRunner(lambda: store, lambda kind, **options: backend)
    job = _wait(store, runner.start(1, JobRequest(backend="local", prompt="Find the cat; give its position.")),
                {"done"})
    assert job.done == 12
    assert all([a.label for a in item.annotations] == ["cat"] for item in store.items("d"))


def test_a_cancel_stops_the_job_between_items_and_keeps_what_is_done(store):
    gate = threading.Event()

    def slow(request, geometry):
        gate.wait(5)
        return ANSWER

    runner = JobRunner(lambda: store, lambda kind, **options: FakeBackend(slow))
    job_id = runner.start(1, JobRequest(backend="local", labels=("cat",)))
    _wait(store, job_id, {"running"})
    runner.cancel(job_id)
    gate.set()
    job = _wait(store, job_id, {"cancelled"})
    done = sum(i.status == "pre-annotated" for i in store.items("d"))
    assert job.done == done < 12 and store.job(job_id).cancel == 1
    # the page's words: a job is started again from the page, not by a command
    assert "press Start again to go on" in describe(job) and "command" not in describe(job)


def test_a_job_without_a_prompt_or_with_nothing_to_do_is_refused_in_words(store):
    runner = JobRunner(lambda: store, lambda kind, **options: FakeBackend(lambda r, g: ANSWER))
    with pytest.raises(WorkbenchError, match=r"^say what to find: give labels .* or a prompt$"):
        runner.start(1, JobRequest(backend="local"))
    with pytest.raises(WorkbenchError, match="either a prompt or labels .* not both"):
        runner.start(1, JobRequest(backend="local", prompt="Find the cat.", labels=("cat",)))
    with pytest.raises(WorkbenchError, match="no accepted items to run on"):
        runner.start(1, JobRequest(backend="local", labels=("cat",), statuses=("accepted",)))


def test_a_server_job_without_a_server_url_is_refused_before_it_is_created(store, monkeypatch):
    for name in ("WORKBENCH_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    runner = JobRunner(lambda: store, lambda kind, **options: FakeBackend(lambda r, g: ANSWER))
    with pytest.raises(WorkbenchError, match="no server URL: give one, or set WORKBENCH_BASE_URL"):
        runner.start(1, JobRequest(backend="openai", labels=("cat",)))
    assert store.jobs(1) == []


def test_jobs_left_running_by_a_stopped_app_are_marked_interrupted(store):
    job_id = store.create_job(1, "annotate", {}, 12)
    store.update_job(job_id, state="running")
    assert store.interrupt_running_jobs() == 1
    job = store.job(job_id)
    assert job.state == "interrupted" and "start it again to go on" in job.message


def test_a_job_uses_the_pixel_limits_the_dataset_names_for_its_family(store):
    store.update_dataset_settings(1, {"family": "qwen2.5-vl", "max_pixels": 200_000})
    backend = FakeBackend(lambda request, geometry: ANSWER)
    runner = JobRunner(lambda: store, lambda kind, **options: backend)
    _wait(store, runner.start(1, JobRequest(backend="local", labels=("cat",))), {"done"})
    (box,) = store.items("d")[0].annotations
    assert box.settings["max_pixels"] == 200_000
