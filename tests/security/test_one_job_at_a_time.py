"""Issue 20, item 10: two batch jobs on one dataset with the same settings no longer both run (12 calls for 6
items); the second is refused in words, also from a second process's connection, and a job with other
settings, or the same one once the first has ended, still starts.
"""

from __future__ import annotations

import threading
import time

import pytest

from tests.factories import write_image
from tests.security.misbehaving import MisbehavingServer
from workbench.backends import OpenAICompatibleBackend
from workbench.batch.jobs import JobRequest, JobRunner
from workbench.errors import StoreError
from workbench.store import DatasetStore

MODEL = "Qwen/Qwen2.5-VL-3B-Instruct"


@pytest.fixture
def server():
    made = MisbehavingServer("silent")
    yield made
    made.close()


@pytest.fixture
def dataset(tmp_path):
    store = DatasetStore(tmp_path / "db.sqlite3")
    record = store.create_dataset("pets")
    for n in range(6):
        store.add_item(record, [write_image(tmp_path, 64 + n, 48, name=f"p{n}.png")])
    return store, record.id


def runner_for(store: DatasetStore, url: str) -> JobRunner:
    return JobRunner(lambda: store, lambda kind, **options: OpenAICompatibleBackend(
        MODEL, base_url=url, limits_style="none", timeout=600, max_retries=0, deadline_s=None))


def job_request(url: str, **changes) -> JobRequest:
    return JobRequest(**{"base_url": url, "model": MODEL, "labels": ("cat",), "geometry_check": False,
                         "concurrency": 2, **changes})


def wait_until_ended(runner: JobRunner, job: int) -> None:
    deadline = time.monotonic() + 120
    while runner.running(job) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not runner.running(job)


def test_the_same_job_twice_is_refused_and_each_item_is_asked_once(server, dataset):
    store, dataset_id = dataset
    runner = runner_for(store, server.url)  # the server is silent: the first job surely still runs at the second
    first = runner.start(dataset_id, job_request(server.url))
    with pytest.raises(StoreError, match=f"job {first} is already running on this dataset with the same settings"):
        runner.start(dataset_id, job_request(server.url, concurrency=4, statuses=("new", "pre-annotated")))
    server.mode = "chat"
    server.release()
    wait_until_ended(runner, first)
    assert server.requests == 6, "each item is asked once"
    assert store.job(first).state == "done"
    again = runner.start(dataset_id, job_request(server.url, statuses=("pre-annotated",)))  # ended: may run again
    wait_until_ended(runner, again)


def test_other_settings_on_the_same_dataset_may_run_beside(server, dataset):
    store, dataset_id = dataset
    runner = runner_for(store, server.url)
    first = runner.start(dataset_id, job_request(server.url))
    other = runner.start(dataset_id, job_request(server.url, labels=("dog",)))
    assert other != first
    for job in (first, other):
        runner.cancel(job)
        wait_until_ended(runner, job)


def test_two_processes_claiming_at_once_get_one_job(tmp_path, dataset):
    store, dataset_id = dataset
    stores = [DatasetStore(store.db_path) for _ in range(4)]
    results: list[object] = []
    barrier = threading.Barrier(len(stores))

    def claim(other: DatasetStore) -> None:
        barrier.wait()
        try:
            results.append(other.claim_job(dataset_id, "annotate", {"model": MODEL}, 6, claim="same"))
        except StoreError as exc:
            results.append(exc)

    threads = [threading.Thread(target=claim, args=(other,)) for other in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(r, int) for r in results) == 1, results
    assert all("already running" in str(r) for r in results if not isinstance(r, int))
