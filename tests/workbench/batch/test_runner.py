"""The built-in engine with in-process backends: concurrency, failures, resume, cancel, progress."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from grounding import PixelLimits, process_size
from tests.factories import write_image
from workbench.backends import FakeBackend, GroundingRequest, RawOutput
from workbench.batch import (
    JobSettings,
    MemorySink,
    ServersUnavailable,
    WorkUnit,
    run_batch,
)
from workbench.errors import BackendError, WorkbenchError

LIMITS = PixelLimits(3136, 1003520)
ANSWER = '[{"bbox_2d": [0, 0, 322, 238], "label": "cat", "image": 1}, {"bbox_2d": [10, 10, 20, 20], "label": "cup", "image": 2}]'


@pytest.fixture(scope="module")
def pictures(tmp_path_factory) -> tuple[Path, Path, Path]:
    folder = tmp_path_factory.mktemp("runner-images")
    broken = folder / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n but nothing else")
    return write_image(folder, 640, 480, seed=1), write_image(folder, 300, 500, seed=2), broken


def fake(handler=lambda request, geometry: ANSWER, **kwargs) -> FakeBackend:
    return FakeBackend(handler, limits=LIMITS, **kwargs)


def units(pictures, count: int, *, images: int = 1) -> list[WorkUnit]:
    return [WorkUnit(f"u{n}", pictures[:images], prompt="Find cats and cups.") for n in range(count)]


def settings_for(backend, **options) -> JobSettings:
    return JobSettings.for_backend(backend, **options)


def test_results_are_parsed_per_image_in_original_pixels(pictures):
    backend, sink = fake(), MemorySink()
    summary = run_batch(units(pictures, 3, images=2), backend, sink, settings_for(backend), concurrency=2)
    assert (summary.written, summary.failed, summary.complete) == (3, 0, True)
    result = sink.results["u1"]
    first, second = result.images
    assert (first.image_id, second.image_id) == ("img1", "img2")
    assert first.geometry == process_size((640, 480), "qwen2.5-vl", LIMITS)
    assert [d.label for d in first.detections] == ["cat"] and [d.label for d in second.detections] == ["cup"]
    scale = 640 / first.geometry.resized_wh[0], 480 / first.geometry.resized_wh[1]
    assert first.detections[0].original == pytest.approx((0, 0, 322 * scale[0], 238 * scale[1]))
    assert (result.model, result.family, result.limits, result.prompt) == ("fake", "qwen2.5-vl", LIMITS, "Find cats and cups.")
    assert result.timings.request_s > 0 and sink.written_twice() == []


class GateBackend(FakeBackend):
    """Every call waits at a barrier of ``parties`` calls: the run only gets through if that many run at once."""

    def __init__(self, parties: int) -> None:
        super().__init__(lambda request, geometry: ANSWER, limits=LIMITS)
        self.barrier = threading.Barrier(parties, timeout=60)
        self.lock = threading.Lock()
        self.running = self.most = 0

    def generate(self, request: GroundingRequest, on_text=None) -> RawOutput:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            self.barrier.wait()
            return super().generate(request, on_text)
        finally:
            with self.lock:
                self.running -= 1


def test_concurrency_is_reached_and_never_exceeded(pictures):
    backend, sink = GateBackend(3), MemorySink()
    summary = run_batch(units(pictures, 9), backend, sink, settings_for(backend), concurrency=3)
    assert (summary.written, summary.failed) == (9, 0)
    assert backend.most == 3


def test_units_are_read_lazily(pictures):
    pulled: list[str] = []
    at_first_result: list[int] = []

    def source() -> Iterator[WorkUnit]:
        for unit in units(pictures, 8):
            pulled.append(unit.key)
            yield unit

    backend = fake()
    run_batch(source(), backend, MemorySink(), settings_for(backend), concurrency=2,
              on_progress=lambda p: at_first_result.append(len(pulled)) if not at_first_result else None)
    assert at_first_result == [4] and len(pulled) == 8  # two in flight, two queued behind them


def test_failures_are_recorded_and_the_run_goes_on(pictures):
    def handler(request, geometry):
        if "refuse" in request.prompt:
            raise BackendError("http://server/v1 answered 400: bad request")
        if "crash" in request.prompt:
            raise RuntimeError("unexpected")
        return ANSWER

    work = [
        WorkUnit("good", pictures[:1], prompt="Find cats."),
        WorkUnit("corrupt", (pictures[2],), prompt="Find cats."),
        WorkUnit("missing", (pictures[0].parent / "gone.png",), prompt="Find cats."),
        WorkUnit("refused", pictures[:1], prompt="refuse this"),
        WorkUnit("crashed", pictures[:1], prompt="crash this"),
        WorkUnit("ids", pictures[:2], ("one",), prompt="Find cats."),
        WorkUnit("also-good", pictures[:1], prompt="Find cups."),
    ]
    backend, sink = fake(handler), MemorySink()
    summary = run_batch(work, backend, sink, settings_for(backend), concurrency=3)
    assert sorted(sink.results) == ["also-good", "good"]
    stages = {key: (error.stage, error.message) for key, error in sink.failures.items()}
    assert stages["corrupt"][0] == "input" and "broken.png" in stages["corrupt"][1]
    assert stages["missing"] == ("input", f"{pictures[0].parent / 'gone.png'}: no such file")
    assert stages["refused"] == ("backend", "http://server/v1 answered 400: bad request")
    assert stages["crashed"] == ("internal", "RuntimeError: unexpected")
    assert stages["ids"] == ("input", "2 images but 1 image IDs")
    assert (summary.written, summary.failed, summary.complete) == (2, 5, True)
    assert dict(summary.failures)["refused"] == "http://server/v1 answered 400: bad request"


def test_a_rerun_skips_what_is_done_with_the_same_settings_and_retries_failures(pictures):
    flaky = {"fail": True}

    def handler(request, geometry):
        if flaky["fail"] and request.images[0] == pictures[1]:
            raise BackendError("busy")
        return ANSWER

    work = units(pictures, 4) + [WorkUnit("other", pictures[1:2], prompt="Find cats.")]
    backend, sink = fake(handler), MemorySink()
    first = run_batch(work, backend, sink, settings_for(backend), concurrency=2)
    assert (first.written, first.failed, first.skipped) == (4, 1, 0)
    flaky["fail"] = False
    second = run_batch(work, backend, sink, settings_for(backend), concurrency=2)
    assert (second.written, second.failed, second.skipped) == (1, 0, 4)
    third = run_batch(work, backend, sink, settings_for(backend, max_new_tokens=99), concurrency=2)
    assert (third.written, third.skipped) == (5, 0)
    assert sorted(sink.writes) == sorted(["u0", "u1", "u2", "u3", "other"] * 2)


def test_repeated_keys_run_once(pictures):
    backend, sink = fake(), MemorySink()
    summary = run_batch(units(pictures, 3) + units(pictures, 2), backend, sink, settings_for(backend))
    assert (summary.written, summary.duplicates) == (3, 2) and sink.written_twice() == []


def test_cancel_stops_new_units_and_keeps_what_is_done(pictures):
    cancel = threading.Event()
    backend, sink = fake(), MemorySink()

    def on_progress(progress):
        if progress.written == 2:
            cancel.set()

    summary = run_batch(units(pictures, 20), backend, sink, settings_for(backend), concurrency=2,
                        on_progress=on_progress, cancel=cancel)
    assert summary.stopped == "cancelled" and not summary.complete
    # after the cancel only the units already handed to workers finish (at most 2 per worker: one running, one done)
    assert 2 <= summary.written <= 2 + 2 * 2 and len(sink.results) == summary.written
    rest = run_batch(units(pictures, 20), backend, sink, settings_for(backend), concurrency=2)
    assert (rest.written, rest.skipped) == (20 - summary.written, summary.written)


def test_servers_going_away_stop_the_run_without_failing_units(pictures):
    state = {"calls": 0}

    def handler(request, geometry):
        state["calls"] += 1
        if state["calls"] > 3:
            raise ServersUnavailable("no server answered for 1 s: http://a/v1: refused")
        return ANSWER

    backend, sink = fake(handler), MemorySink()
    summary = run_batch(units(pictures, 10), backend, sink, settings_for(backend), concurrency=1)
    assert summary.written == 3 and summary.failed == 0 and sink.failures == {}
    assert summary.stopped.startswith("no server answered (no server answered for 1 s")
    assert summary.lines()[-1].endswith("run the same command again to go on")


def test_ctrl_c_leaves_only_whole_results(pictures):
    backend, sink = fake(), MemorySink()

    def source() -> Iterator[WorkUnit]:
        yield from units(pictures, 3)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_batch(source(), backend, sink, settings_for(backend), concurrency=1)
    assert set(sink.results) <= {"u0", "u1", "u2"}
    assert all(r.images[0].geometry.original_wh == (640, 480) for r in sink.results.values())


def test_progress_counts_rate_and_eta(pictures):
    backend, sink = fake(), MemorySink()
    run_batch(units(pictures, 2), backend, sink, settings_for(backend))
    seen = []
    run_batch(units(pictures, 5), backend, sink, settings_for(backend), total=5, on_progress=seen.append)
    assert [(p.skipped, p.processed) for p in seen] == [(1, 0), (2, 0), (2, 1), (2, 2), (2, 3)]
    last = seen[-1]
    assert (last.remaining, last.eta_s) == (0, 0.0) and last.rate > 0
    assert seen[2].eta_s == pytest.approx(2 / seen[2].rate)


class BatchingBackend(FakeBackend):
    """Answers groups of requests in one call, like a local model batching a forward pass."""

    def __init__(self) -> None:
        super().__init__(lambda request, geometry: ANSWER, limits=LIMITS)
        self.groups: list[int] = []

    def generate_batch(self, requests):
        self.groups.append(len(requests))
        return [self.generate(r) if "fail" not in r.prompt else BackendError("no memory") for r in requests]


def test_batch_size_hands_groups_to_a_backend_that_batches(pictures):
    backend, sink = BatchingBackend(), MemorySink()
    work = units(pictures, 6)
    work.insert(1, WorkUnit("bad", pictures[:1], prompt="fail here"))
    summary = run_batch(work, backend, sink, settings_for(backend), batch_size=3)
    assert backend.groups == [3, 3]  # the seventh unit, alone, goes through plain generate
    assert (summary.written, summary.failed) == (6, 1) and sink.failures["bad"].message == "no memory"


def test_bad_concurrency_is_refused(pictures):
    backend = fake()
    with pytest.raises(WorkbenchError, match="at least 1"):
        run_batch([], backend, MemorySink(), settings_for(backend), concurrency=0)


class PreparingBackend(FakeBackend):
    """Splits calls like ReplicaPool: ``prepare`` reads the images (here: their bytes), ``send`` answers."""

    def __init__(self) -> None:
        super().__init__(lambda request, geometry: ANSWER, limits=LIMITS)
        self.prepared_in: set[str] = set()
        self.sent_in: set[str] = set()

    def prepare(self, request):
        self.prepared_in.add(threading.current_thread().name)
        return request, [Path(image).read_bytes() for image in request.images]

    def send(self, call):
        self.sent_in.add(threading.current_thread().name)
        return self.generate(call[0])


def test_bodies_are_prepared_by_the_caller_and_sent_by_the_workers(pictures):
    backend, sink = PreparingBackend(), MemorySink()
    work = units(pictures, 5) + [WorkUnit("corrupt", (pictures[2],), prompt="Find cats.")]
    summary = run_batch(work, backend, sink, settings_for(backend), concurrency=2)
    assert (summary.written, summary.failed) == (5, 1) and sink.failures["corrupt"].stage == "input"
    assert backend.prepared_in == {threading.current_thread().name}
    assert backend.sent_in and all(name.startswith("batch-worker-") for name in backend.sent_in)
    assert sink.results["u0"].images[0].detections[0].label == "cat"
