"""``--engine ray``: the same job as a Ray Data pipeline, with Ray Data's LLM batch API.

The driver (this process) admits units as :func:`~workbench.batch.runner.run_batch` does
(skipping those done with the same settings), checks their images, and puts the rest in a
Ray dataset, one shard per server. Ray's HTTP request processor
(``ray.data.llm.HttpRequestProcessorConfig`` + ``build_processor``) sends each shard's
chat completions; its workers build the request bodies (reading the images there: on a
cluster the image paths must be readable by the workers) with the very message builder the
OpenAI-compatible backend uses. The answers stream back to the driver, which turns each into
a :class:`~workbench.backends.RawOutput` with the geometry of the job's limits and stores it
through the same parse and sink code as the built-in engine (:func:`unit_result`,
:class:`BatchLedger`). On GPU workers, :func:`vllm_processor_config` gives the vLLM engine
processor's config for the same settings (documented in docs/batch.md).

Install: ``pip install "grounding-workbench[ray]"`` (``ray[data]`` and ``aiohttp``; not
``ray[llm]``, which pulls in vLLM). Local Ray starts by itself; ``RAY_ADDRESS`` points at a
cluster. A pipeline that fails as a whole (a server gone past Ray's retries) stops the run
with what was stored kept, as the built-in engine does when its servers go away.

Why the request bodies travel as one JSON string: Ray Data stores rows as Arrow tables, and
chat messages (text parts and image parts side by side) or error answers next to completions
do not share one Arrow schema; :class:`FlatJsonSession` (the processor's documented
``session_factory``) sends the string as the body and hands back ``{"status", "body"}``.

>>> from grounding import PixelLimits
>>> from workbench.batch.units import JobSettings
>>> answer = answer_output({"choices": [{"message": {"content": "[]"}, "finish_reason": "length"}],
...                         "usage": {"prompt_tokens": 391, "completion_tokens": 8}},
...                      ("a.png",), JobSettings("m", "qwen2.5-vl", PixelLimits(3136, 1003520)), [(640, 480)])
>>> answer.finish_reason, answer.prompt_tokens, answer.images[0].resized_wh
('length', 391, (644, 476))
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from grounding import process_size
from workbench.backends.base import ModelBackend, RawOutput
from workbench.backends.media import original_wh
from workbench.backends.openai_compat import OpenAICompatibleBackend, completion_output
from workbench.batch.ledger import BatchLedger, BatchSummary, ProgressCallback
from workbench.batch.results import Timings, UnitError, unit_result
from workbench.batch.runner import check_inputs
from workbench.batch.units import JobSettings, WorkUnit
from workbench.environment import ray_setup
from workbench.errors import WorkbenchError

__all__ = ["run_batch_ray", "FlatJsonSession", "answer_output", "vllm_processor_config", "RAY_MISSING"]

RAY_MISSING = 'the ray engine needs Ray Data: pip install "grounding-workbench[ray]" (ray[data] and aiohttp)'


def _import_ray() -> Any:
    try:
        import aiohttp  # noqa: F401 - the HTTP processor's client
        import ray
        import ray.data.llm
    except ImportError:
        raise WorkbenchError(RAY_MISSING) from None
    return ray


def _session_base() -> type:
    import aiohttp

    return aiohttp.ClientSession


class _Answer:
    """What the processor reads of a response: ``status``, ``reason``, ``json()`` (as ``{"status", "body"}``)."""

    def __init__(self, response: Any, text: str) -> None:
        self._response, self.status, self.reason, self.text = response, response.status, response.reason, text

    async def json(self) -> dict[str, Any]:
        return {"status": self.status, "body": self.text}

    async def __aenter__(self) -> _Answer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._response.release()


def FlatJsonSession() -> Any:
    """An ``aiohttp`` session that posts ``payload["body"]`` (a JSON string) as the request body."""
    base = _session_base()

    class _FlatJsonSession(base):  # type: ignore[misc, valid-type]  # Ray's session class, found at run time
        def post(self, url: str, *, data: Any = None, **kwargs: Any) -> Any:
            body = json.loads(data)["body"]
            headers = dict(kwargs.pop("headers", None) or {}) | {"Content-Type": "application/json"}

            async def send() -> _Answer:
                response = await base.post(self, url, data=body.encode("utf-8"), headers=headers, **kwargs)  # type: ignore[attr-defined]  # base: Ray's session class, found at run time
                return _Answer(response, await response.text())

            return send()

    return _FlatJsonSession()


class _Payload:
    """Ray ``preprocess``: a row (unit fields) -> ``{"payload": {"body": json}}`` or an error row."""

    def __init__(self, server: dict[str, Any], settings: JobSettings) -> None:
        self.server, self.settings = server, settings

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        try:
            backend = OpenAICompatibleBackend(**self.server)
            unit = WorkUnit(row["key"], tuple(row["images"]), tuple(row["image_ids"]), row["prompt"])
            body = json.dumps(backend.body(unit.request(self.settings)))
            return {"payload": {"body": body}, "__inference_error__": ""}
        except Exception as exc:
            return {"payload": {"body": ""}, "__inference_error__": str(exc) or type(exc).__name__}


def _answer_row(row: dict[str, Any]) -> dict[str, Any]:
    """Ray ``postprocess``: keep the key and the raw answer."""
    response = row["http_response"]
    return {"key": row["key"], "status": int(response["status"]), "body": response["body"], "__inference_error__": ""}


def answer_output(answer: dict[str, Any], images: Sequence[Any], settings: JobSettings,
                  sizes: Sequence[tuple[int, int]] | None = None) -> RawOutput:
    """A chat completion's JSON as a :class:`RawOutput` with the geometry of ``settings.limits``."""
    sizes = sizes or [original_wh(image) for image in images]
    geometry = tuple(process_size(wh, settings.family, settings.limits) for wh in sizes)
    return completion_output(answer, geometry, model=settings.model, max_new_tokens=settings.max_new_tokens,
                             limits=settings.limits, logprobs=settings.logprobs)


def _outcome(unit: WorkUnit, row: dict[str, Any], settings: JobSettings, url: str) -> Any:
    key = settings.key(unit.prompt)
    if row.get("__inference_error__"):
        return UnitError(key, str(row["__inference_error__"]), "input")
    status, body = row["status"], row["body"]
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    if status != 200 or not isinstance(answer, dict) or "choices" not in answer:
        detail = answer.get("detail") or answer.get("error") or answer.get("message") if isinstance(answer, dict) else body
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        return UnitError(key, f"{url} answered {status}: {str(detail)[:500]}", "backend")
    try:
        return unit_result(unit, settings, answer_output(answer, unit.images, settings), Timings())
    except (WorkbenchError, ValueError) as exc:
        return UnitError(key, str(exc), "input")


def _servers(backend: ModelBackend) -> list[OpenAICompatibleBackend]:
    servers = [r.backend for r in backend.replicas] if hasattr(backend, "replicas") else [backend]
    if not all(isinstance(s, OpenAICompatibleBackend) for s in servers):
        raise WorkbenchError("the ray engine sends requests to OpenAI-compatible servers: use --backend openai")
    return servers  # type: ignore[return-value]  # each checked to be one above


def _server_options(server: OpenAICompatibleBackend) -> dict[str, Any]:
    return {"model": server.model, "base_url": server.base_url, "family": server.family().name,
            "limits": server.limits, "limits_style": server.limits_style}


def _local_runtime_env() -> dict[str, Any]:
    """Local Ray workers import this package from where the driver does."""
    _, variables = ray_setup(str(Path(__file__).resolve().parents[2]))
    return {"env_vars": variables}


def _start_ray(ray: Any, runtime_env: dict[str, Any] | None) -> None:
    if ray.is_initialized():
        return
    address, _ = ray_setup(str(Path(__file__).resolve().parents[2]))
    ray.init(address=address, include_dashboard=False, logging_level="warning", log_to_driver=False,
             runtime_env=runtime_env if runtime_env is not None else (None if address else _local_runtime_env()))
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False


def run_batch_ray(
    units: Iterable[WorkUnit],
    backend: ModelBackend,
    sink: Any,
    settings: JobSettings,
    *,
    concurrency: int = 4,
    batch_size: int = 4,
    total: int | None = None,
    on_progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    max_retries: int = 3,
    runtime_env: dict[str, Any] | None = None,
) -> BatchSummary:
    """Like :func:`~workbench.batch.runner.run_batch`, through Ray Data's HTTP request processor.

    ``concurrency`` is the number of request actors per server, ``batch_size`` the rows each
    handles per task; ``max_retries`` the processor's retries of a request (429/5xx/connection).
    """
    ray = _import_ray()
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    servers = _servers(backend)
    ledger = BatchLedger(sink, settings, total=total, on_progress=on_progress)
    ready: dict[str, WorkUnit] = {}
    for unit in units:
        if not ledger.admit(unit):
            continue
        problem = check_inputs(unit, settings)
        if problem is not None:
            ledger.record(unit, problem)
        else:
            ready[unit.key] = unit
    if not ready:
        return ledger.summary()
    _start_ray(ray, runtime_env)
    rows = [{"key": u.key, "images": [os.fspath(i) for i in u.images],  # type: ignore[arg-type]  # check_inputs: files
             "image_ids": list(u.image_ids), "prompt": u.prompt}
            for u in ready.values()]
    shards = []
    for number, server in enumerate(servers):
        part = rows[number :: len(servers)]
        if not part:
            continue
        headers = {"Authorization": f"Bearer {server._client.api_key}"}  # the key the backend was given
        config = HttpRequestProcessorConfig(
            url=server.base_url.rstrip("/") + "/chat/completions", headers=headers, concurrency=concurrency,
            batch_size=batch_size, max_retries=max_retries, session_factory=FlatJsonSession,
            http_request_stage={"num_cpus": 0.1},
        )
        processor = build_processor(config, preprocess=_Payload(_server_options(server), settings), postprocess=_answer_row)
        shards.append((server.base_url, processor(ray.data.from_items(part))))
    url_of = {row["key"]: servers[n % len(servers)].base_url for n, row in enumerate(rows)}
    dataset = shards[0][1] if len(shards) == 1 else shards[0][1].union(*(d for _, d in shards[1:]))
    stopped = None
    try:
        for row in dataset.iter_rows():
            unit = ready[row["key"]]
            ledger.record(unit, _outcome(unit, row, settings, url_of[unit.key]))
            if cancel is not None and cancel.is_set():
                stopped = "cancelled"
                break
    except KeyboardInterrupt:
        raise
    except Exception as exc:
        cause = str(exc).strip().splitlines()
        stopped = f"the Ray pipeline failed: {cause[-1] if cause else type(exc).__name__}"
    return ledger.summary(stopped)


def vllm_processor_config(
    settings: JobSettings,
    model_source: str,
    *,
    concurrency: int = 1,
    batch_size: int = 16,
    max_images: int = 4,
    engine_kwargs: dict[str, Any] | None = None,
) -> Any:
    """Ray Data's vLLM engine processor config for GPU workers, with the job's pixel limits.

    vLLM then resizes with exactly ``settings.limits`` (``mm_processor_kwargs``), so the
    geometry the driver converts with is the one the model saw. Needs ``ray[llm]`` (vLLM) on
    the GPU workers; not run by the tests here (no GPU).
    """
    _import_ray()
    from ray.data.llm import vLLMEngineProcessorConfig

    kwargs = {
        "mm_processor_kwargs": {"min_pixels": settings.limits.min_pixels, "max_pixels": settings.limits.max_pixels},
        "limit_mm_per_prompt": {"image": max_images},
        "max_model_len": 32768,
        "enable_prefix_caching": True,
    } | (engine_kwargs or {})
    return vLLMEngineProcessorConfig(
        model_source=model_source, engine_kwargs=kwargs, concurrency=concurrency, batch_size=batch_size,
        prepare_multimodal_stage={"enabled": True}, should_continue_on_error=True,
    )

