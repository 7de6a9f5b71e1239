"""``--engine ray``: local Ray with Ray Data's HTTP request processor against real ``transformers serve``.

Skipped when Ray is not installed (``pip install ".[ray]"``).
"""

from __future__ import annotations

import sys

import pytest

from grounding import process_size
from tests.workbench.batch.conftest import TEST_LIMITS
from workbench.batch import JobSettings, MemorySink, ReplicaPool, run_batch
from workbench.batch.files import units_from_folder
from workbench.errors import WorkbenchError

PROMPT = "Locate every cat in the image and output the bbox coordinates in JSON format."


def test_without_ray_the_engine_says_how_to_install_it(monkeypatch, tiny_qwen25):
    from workbench.batch import ray_engine

    monkeypatch.setitem(sys.modules, "ray", None)
    pool = ReplicaPool.from_urls(["http://127.0.0.1:1/v1"], model=str(tiny_qwen25), family="qwen2.5-vl")
    with pytest.raises(WorkbenchError, match=r'pip install "grounding-workbench\[ray\]"'):
        ray_engine.run_batch_ray([], pool, MemorySink(), JobSettings.for_backend(pool))


@pytest.fixture(scope="module")
def ray_engine():
    pytest.importorskip("ray.data.llm", reason="Ray Data is not installed (pip install '.[ray]')")
    import ray

    from workbench.batch import ray_engine

    yield ray_engine
    ray.shutdown()


def pool_for(model, urls, **options) -> ReplicaPool:
    return ReplicaPool.from_urls(urls, model=str(model), family="qwen2.5-vl", limits=TEST_LIMITS,
                                 limits_style="transformers", timeout=60, **options)


@pytest.mark.slow
def test_the_same_job_through_ray_stores_what_the_built_in_engine_stores(
    ray_engine, limited_server, serve_url, tiny_qwen25, image_folder
):
    pool = pool_for(tiny_qwen25, [limited_server.url, serve_url])
    settings = JobSettings.for_backend(pool, max_new_tokens=12)
    units = list(units_from_folder(image_folder, prompt=PROMPT))
    through_ray, built_in = MemorySink(), MemorySink()
    summary = ray_engine.run_batch_ray(units, pool, through_ray, settings, concurrency=2, batch_size=2, total=30)
    assert summary.complete and (summary.written, summary.failed) == (29, 1), summary.lines()
    assert through_ray.written_twice() == []
    assert through_ray.failures["img99_broken.jpg"].stage == "input"
    run_batch(units, pool, built_in, settings, concurrency=4)
    assert set(through_ray.results) == set(built_in.results)
    for key, ours in through_ray.results.items():
        theirs = built_in.results[key]
        # the server's non-streamed answer keeps a cut-off last byte as U+FFFD; the streamed one drops it
        assert ours.text.rstrip("\ufffd") == theirs.text.rstrip("\ufffd")
        assert (ours.settings_key, ours.prompt_tokens, ours.completion_tokens, ours.finish_reason) == (
            theirs.settings_key, theirs.prompt_tokens, theirs.completion_tokens, theirs.finish_reason)
        assert [d.as_dict() for d in ours.images[0].detections] == [d.as_dict() for d in theirs.images[0].detections]
        assert ours.images[0].geometry == theirs.images[0].geometry == process_size(
            ours.images[0].geometry.original_wh, "qwen2.5-vl", TEST_LIMITS)
    again = ray_engine.run_batch_ray(units, pool, through_ray, settings)
    assert (again.written, again.skipped, again.failed) == (0, 29, 1)


@pytest.mark.slow
def test_server_refusals_are_the_units_failures(ray_engine, serve_url, image_folder, tiny_qwen25):
    pool = ReplicaPool.from_urls([serve_url], model="Qwen/Qwen2.5-VL-7B-Instruct", limits_style="none")
    units = list(units_from_folder(image_folder, prompt=PROMPT))[:3]
    sink = MemorySink()
    summary = ray_engine.run_batch_ray(units, pool, sink, JobSettings.for_backend(pool, max_new_tokens=4))
    assert summary.complete and summary.failed == 3
    assert all(e.message.startswith(f"{serve_url} answered 400: Server is pinned to") for e in sink.failures.values())


def test_the_vllm_engine_config_carries_the_job_limits(ray_engine):
    settings = JobSettings("Qwen/Qwen2.5-VL-7B-Instruct", "qwen2.5-vl", TEST_LIMITS)
    config = ray_engine.vllm_processor_config(settings, "Qwen/Qwen2.5-VL-7B-Instruct", max_images=2)
    assert config.engine_kwargs["mm_processor_kwargs"] == {"min_pixels": 3136, "max_pixels": TEST_LIMITS.max_pixels}
    assert config.engine_kwargs["limit_mm_per_prompt"] == {"image": 2}
    assert config.should_continue_on_error
