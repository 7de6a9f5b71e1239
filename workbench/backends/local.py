"""Run a Qwen-VL checkpoint in this process with transformers.

- Loaded once, on first use, with ``AutoProcessor`` and ``AutoModelForImageTextToText``; the
  family comes from the checkpoint's config. On CUDA: bf16, ``device_map="auto"`` and
  ``flash_attention_2`` when flash-attn imports, ``sdpa`` otherwise; on CPU: float32 and sdpa.
- Pixel limits go to the processor call as ``size={"shortest_edge", "longest_edge"}`` (the
  transformers 5 way; ``min_pixels``/``max_pixels`` kwargs are deprecated and limits given at
  load time have been ignored before, transformers #41955). Images go to the processor at
  their original size: it is the only resize (no qwen-vl-utils pre-resize).
- The geometry used to read coordinates is the ``image_grid_thw`` the processor returned
  (:func:`grounding.from_grid_thw`), not a recomputation.
- ``stream`` runs ``generate`` in a worker thread feeding a ``TextIteratorStreamer``;
  ``generate`` without a text callback runs in the caller's thread with no streamer. The GPU
  part is wrapped in ``@spaces.GPU`` (a no-op outside Hugging Face ZeroGPU Spaces). Closing
  the stream early (a Stop button) stops generation at the next token.
- Missing weights, no network, out of memory: :class:`~workbench.errors.BackendError` with a
  message that says what to do; nothing else in the app depends on a loaded model.

Special tokens are kept in the decoded text (Qwen2-VL answers with ``<|box_start|>``...);
only end-of-turn and padding tokens are removed.

>>> backend = LocalTransformersBackend("no/such-model", local_files_only=True)
>>> backend.model
'no/such-model'
"""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import spaces

from grounding import ModelFamily, PixelLimits, ProcessedImage, UnknownFamilyError, from_grid_thw
from workbench.backends.base import GroundingRequest, RawOutput, StreamEvent, StreamingBackend, TextDelta
from workbench.backends.media import upright_rgb
from workbench.backends.settings import default_model
from workbench.errors import BackendError

__all__ = ["LocalTransformersBackend", "LoadedModel", "pick_runtime"]


@dataclass(frozen=True)
class Runtime:
    """Where and how the model runs."""

    device: str
    dtype: str
    attn_implementation: str


def pick_runtime(cuda: bool, flash_attn: bool) -> Runtime:
    """bf16 + flash-attention 2 on CUDA when available; float32 + sdpa on CPU.

    >>> pick_runtime(cuda=True, flash_attn=True)
    Runtime(device='cuda', dtype='bfloat16', attn_implementation='flash_attention_2')
    >>> pick_runtime(cuda=False, flash_attn=True)
    Runtime(device='cpu', dtype='float32', attn_implementation='sdpa')
    """
    if cuda:
        return Runtime("cuda", "bfloat16", "flash_attention_2" if flash_attn else "sdpa")
    return Runtime("cpu", "float32", "sdpa")


@dataclass
class LoadedModel:
    processor: Any
    model: Any
    family: ModelFamily
    runtime: Runtime
    stop_texts: tuple[str, ...]
    """Decoded end-of-turn / padding tokens, cut from the streamed text."""
    eos_ids: frozenset[int]


def on_zero_gpu() -> bool:
    """True on a Hugging Face ZeroGPU Space (the platform sets ``SPACES_ZERO_GPU``)."""
    return bool(os.environ.get("SPACES_ZERO_GPU"))


@spaces.GPU
def _generate_on_gpu(model: Any, inputs: Any, generation: dict, streamer: Any) -> Any:
    """The only code that needs the GPU (ZeroGPU attaches one for its duration)."""
    import torch

    with torch.inference_mode():
        if streamer is None:
            return model.generate(**inputs, **generation)
        return model.generate(**inputs, **generation, streamer=streamer)


def _cancel_criteria(cancelled: threading.Event) -> Any:
    """Stopping criteria that end ``generate`` at the next token once ``cancelled`` is set."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class Cancelled(StoppingCriteria):
        def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
            return torch.full((input_ids.shape[0],), cancelled.is_set(), dtype=torch.bool, device=input_ids.device)

    return StoppingCriteriaList([Cancelled()])


def _load_error(model_id: str, exc: BaseException) -> BackendError:
    reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return BackendError(
        f"cannot load model {model_id!r}: {reason}. Check the name or folder, the network (or HF_HUB_OFFLINE "
        f"with weights in the cache), and free memory; you can still paste model output and parse it."
    )


class LocalTransformersBackend(StreamingBackend):
    """A Qwen-VL checkpoint (Hub name or folder) run with transformers in this process."""

    def __init__(
        self,
        model: str | None = None,
        *,
        limits: PixelLimits | None = None,
        device: str | None = None,
        attn_implementation: str | None = None,
        local_files_only: bool | None = None,
        max_time_s: float | None = None,
    ) -> None:
        self._model_id = model or default_model()
        self.max_time_s = max_time_s
        """Generation stops after this many seconds (transformers' ``max_time``); None: no limit."""
        self.limits = limits
        self._device = device
        self._attn = attn_implementation
        self._local_files_only = local_files_only
        self._loaded: LoadedModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> str:
        return self._model_id

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    def family(self) -> ModelFamily:
        return self.load().family

    def load(self) -> LoadedModel:
        """Load processor and model once; later calls return the same objects."""
        with self._lock:
            if self._loaded is None:
                self._loaded = self._load()
            return self._loaded

    def _load(self) -> LoadedModel:
        import torch
        from transformers import AutoConfig, AutoModelForImageTextToText, AutoProcessor

        cuda = torch.cuda.is_available() if self._device is None else self._device.startswith("cuda")
        runtime = pick_runtime(cuda, importlib.util.find_spec("flash_attn") is not None)
        if self._attn:
            runtime = Runtime(runtime.device, runtime.dtype, self._attn)
        hub = {} if self._local_files_only is None else {"local_files_only": self._local_files_only}
        try:
            config = AutoConfig.from_pretrained(self._model_id, **hub)
            family = ModelFamily.from_config({"model_type": config.model_type})
            processor = AutoProcessor.from_pretrained(self._model_id, **hub)
            placement = {}
            if runtime.device == "cuda" and not on_zero_gpu():
                placement = {"device_map": self._device if self._device and ":" in self._device else "auto"}
            model = AutoModelForImageTextToText.from_pretrained(
                self._model_id,
                dtype=getattr(torch, runtime.dtype),
                attn_implementation=runtime.attn_implementation,
                **placement,
                **hub,
            ).eval()
            if runtime.device == "cuda" and on_zero_gpu():
                # ZeroGPU: no device_map (accelerate would probe a GPU that is attached only inside
                # @spaces.GPU); a plain .to("cuda") is what ZeroGPU intercepts and replays.
                model = model.to("cuda")
        except UnknownFamilyError as exc:
            raise BackendError(f"{self._model_id!r} is not a Qwen-VL model: {exc}") from None
        except torch.cuda.OutOfMemoryError as exc:
            raise _load_error(self._model_id, exc) from None
        except (OSError, ValueError, ImportError, RuntimeError) as exc:
            raise _load_error(self._model_id, exc) from None
        if not hasattr(processor, "image_processor"):
            raise BackendError(
                f"{self._model_id!r}: AutoProcessor gave only a tokenizer (is torchvision installed and matched to torch?)"
            )
        tokenizer = processor.tokenizer
        eos = model.generation_config.eos_token_id
        eos_ids = frozenset([eos] if isinstance(eos, int) else (eos or []))
        stop_ids = eos_ids | ({tokenizer.pad_token_id} if tokenizer.pad_token_id is not None else set())
        stop_texts = tuple(t for t in tokenizer.convert_ids_to_tokens(sorted(stop_ids)) if t)
        return LoadedModel(processor, model, family, runtime, stop_texts, eos_ids)

    def effective_limits(self, loaded: LoadedModel, request: GroundingRequest | None = None) -> PixelLimits:
        """The limits in force: the request's, the backend's, or the checkpoint's processor ``size``."""
        if request is not None and request.limits is not None:
            return request.limits
        if self.limits is not None:
            return self.limits
        size = loaded.processor.image_processor.size
        return PixelLimits(int(size["shortest_edge"]), int(size["longest_edge"]))

    def prepare(self, request: GroundingRequest) -> tuple[LoadedModel, Any, tuple[ProcessedImage, ...], PixelLimits]:
        """Chat template + processor: model inputs, and each image's geometry from ``image_grid_thw``."""
        loaded = self.load()
        images = [upright_rgb(image) for image in request.images]
        messages = [{"role": "user", "content": [{"type": "image"} for _ in images] + [{"type": "text", "text": request.prompt}]}]
        text = loaded.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, add_vision_id=request.vision_ids
        )
        limits = self.effective_limits(loaded, request)
        try:
            inputs = loaded.processor(text=[text], images=images, size=limits.as_processor_size(), return_tensors="pt")
        except ValueError as exc:
            raise BackendError(f"the processor refused the images: {exc}") from None
        grids = inputs["image_grid_thw"].tolist()
        geometry = tuple(
            from_grid_thw(image.size, grid, loaded.family) for image, grid in zip(images, grids, strict=True)
        )
        return loaded, inputs.to(loaded.model.device), geometry, limits

    def _generation(self, request: GroundingRequest) -> dict[str, Any]:
        bound = {"max_time": float(self.max_time_s)} if self.max_time_s else {}
        if request.temperature > 0:
            return {"max_new_tokens": request.max_new_tokens, "do_sample": True, "temperature": request.temperature,
                    **bound}
        return {"max_new_tokens": request.max_new_tokens, "do_sample": False, **bound}

    def generate(self, request: GroundingRequest, on_text: Callable[[str], None] | None = None) -> RawOutput:
        """Without ``on_text``, generate in this thread with no streamer (less overhead)."""
        if on_text is not None:
            return super().generate(request, on_text)
        started = time.perf_counter()
        loaded, inputs, geometry, limits = self.prepare(request)
        t0 = time.perf_counter()
        try:
            ids = _generate_on_gpu(loaded.model, inputs, self._generation(request), None)
        except Exception as exc:  # noqa: BLE001 - mapped to a BackendError where it is one
            raise self._generate_error(exc) from None
        generate_s = time.perf_counter() - t0
        prompt_tokens = int(inputs["input_ids"].shape[1])
        text = loaded.processor.tokenizer.decode(ids[0, prompt_tokens:], skip_special_tokens=False)
        return self._output(request, loaded, ids, prompt_tokens, self._strip_stop(text, loaded.stop_texts),
                            geometry, limits, started, generate_s)

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        from transformers import TextIteratorStreamer

        started = time.perf_counter()
        loaded, inputs, geometry, limits = self.prepare(request)
        streamer = TextIteratorStreamer(loaded.processor.tokenizer, skip_prompt=True, skip_special_tokens=False)
        cancelled = threading.Event()
        generation = self._generation(request) | {"stopping_criteria": _cancel_criteria(cancelled)}
        result: dict[str, Any] = {}

        def work() -> None:
            t0 = time.perf_counter()
            try:
                result["ids"] = _generate_on_gpu(loaded.model, inputs, generation, streamer)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                result["error"] = exc
                streamer.end()
            finally:
                result["generate_s"] = time.perf_counter() - t0

        worker = threading.Thread(target=work, name="local-generate", daemon=True)
        worker.start()
        pieces: list[str] = []
        try:
            for piece in streamer:
                piece = self._strip_stop(piece, loaded.stop_texts)
                if piece:
                    pieces.append(piece)
                    yield TextDelta(piece)
        finally:  # the caller stopped listening (e.g. a Stop button): stop generating too
            cancelled.set()
            worker.join()
        if "error" in result:
            raise self._generate_error(result["error"])
        prompt_tokens = int(inputs["input_ids"].shape[1])
        yield self._output(request, loaded, result["ids"], prompt_tokens, "".join(pieces), geometry, limits,
                           started, result["generate_s"])

    def _output(
        self, request: GroundingRequest, loaded: LoadedModel, ids: Any, prompt_tokens: int, text: str,
        geometry: tuple[ProcessedImage, ...], limits: PixelLimits, started: float, generate_s: float,
    ) -> RawOutput:
        new_ids = ids[0, prompt_tokens:].tolist()
        ended = bool(new_ids) and new_ids[-1] in loaded.eos_ids
        finish = "length" if len(new_ids) >= request.max_new_tokens and not ended else "stop"
        notes: tuple[str, ...] = ()
        if self.max_time_s and not ended and finish == "stop" and generate_s >= self.max_time_s:
            notes = (f"generation stopped at the time limit of {self.max_time_s:g} s: the last objects may be "
                     "missing or broken",)
        return RawOutput(
            text=text,
            images=geometry,
            model=self._model_id,
            finish_reason=finish,
            max_new_tokens=request.max_new_tokens,
            limits=limits,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new_ids),
            total_s=time.perf_counter() - started,
            generate_s=generate_s,
            notes=notes,
        )

    @staticmethod
    def _strip_stop(piece: str, stop_texts: tuple[str, ...]) -> str:
        for stop in stop_texts:
            piece = piece.replace(stop, "")
        return piece

    @staticmethod
    def _generate_error(exc: BaseException) -> BaseException:
        import torch

        if isinstance(exc, torch.cuda.OutOfMemoryError):
            return BackendError(
                "out of GPU memory while generating: lower max pixels or max new tokens, or use a smaller model"
            )
        if isinstance(exc, (RuntimeError, ValueError)):
            return BackendError(f"generation failed: {exc}")
        return exc
