"""Run a Qwen-VL checkpoint in this process with transformers.

- Loaded once, on first use, with ``AutoProcessor`` and ``AutoModelForImageTextToText``; the
  family comes from the checkpoint's config. On CUDA: bf16, ``device_map="auto"`` and
  ``flash_attention_2`` when flash-attn imports, ``sdpa`` otherwise; on CPU: float32 and sdpa.
- Pixel limits (the request's, the backend's, else the checkpoint processor's ``size``) set the
  size each image is resized to, once: exactly :func:`grounding.process_size`, with the
  processor's own resize call; the processor then runs with ``do_resize=False``, so limits given
  at load time cannot be ignored (transformers #41955). See :mod:`workbench.backends.model_inputs`
  (a large JPEG is decoded at reduced scale first; sized pixels and token inputs are kept for reuse).
- The geometry used to read coordinates is the ``image_grid_thw`` the processor returned
  (:func:`grounding.from_grid_thw`), not a recomputation.
- ``stream`` runs ``generate`` in a worker thread feeding a :class:`~workbench.backends.token_stream.TokenStream`
  (ids queued there, decoded token by token in the caller's thread);
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
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import spaces

from grounding import (
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    UnknownFamilyError,
    from_grid_thw,
)
from workbench.backends.base import (
    GroundingRequest,
    ImageInput,
    RawOutput,
    StreamEvent,
    StreamingBackend,
    TextDelta,
    Thinking,
)
from workbench.backends.conversation import processor_messages
from workbench.backends.model_inputs import InputCache, ModelImage, image_key
from workbench.backends.token_logprobs import LogprobRecorder, token_logprobs
from workbench.backends.token_stream import TokenStream
from workbench.config import default_model
from workbench.environment import on_zero_gpu
from workbench.errors import BackendError

__all__ = ["LocalTransformersBackend", "LoadedModel", "pick_runtime", "prompt_thinking", "thinking_switch"]

_KEPT_TEMPLATES = 256


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
    thinking_switch: bool = False
    """Its chat template takes ``enable_thinking`` (see :func:`thinking_switch`)."""


def _model_class(model_type: str) -> tuple[Any, dict[str, Any]]:
    """The auto class that builds a model of ``model_type`` for text generation, and options for it.

    Vision-language models are image-text-to-text models; Omni models (text and speech out) are only
    multimodal LMs: loaded without their speech half (``enable_audio_output=False``), their "thinker"
    writes the text.
    """
    from transformers import AutoModelForImageTextToText, AutoModelForMultimodalLM
    from transformers.models.auto.modeling_auto import MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES

    if model_type in MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES:
        return AutoModelForImageTextToText, {}
    return AutoModelForMultimodalLM, {"enable_audio_output": False}


def _text_generator(model: Any) -> Any:
    """The module that writes text: an Omni model's thinker (given the end tokens of the whole model), else the model."""
    thinker = getattr(model, "thinker", None)
    if thinker is None:
        return model
    for name in ("eos_token_id", "pad_token_id"):
        if getattr(thinker.generation_config, name, None) is None:
            setattr(thinker.generation_config, name, getattr(model.generation_config, name, None))
    return thinker


def _with_processor_facts(family: ModelFamily, image_processor: Any) -> ModelFamily:
    """The family with the loaded image processor's own sizes and limits (a fine-tune may ship its own)."""
    try:
        size = image_processor.size
        return family.with_processor(
            patch_size=int(image_processor.patch_size), merge_size=int(image_processor.merge_size),
            temporal_patch_size=int(image_processor.temporal_patch_size), min_pixels=int(size["shortest_edge"]),
            max_pixels=int(size["longest_edge"]))
    except (AttributeError, KeyError, TypeError, ValueError):
        return family


def prompt_thinking(prompt: str, switch: bool) -> Thinking:
    """Whether a rendered prompt lets the model reason first: it ends in an open ``<think>`` (the model writes
    its reasoning, then ``</think>``), or in a closed empty one (thinking turned off).

    >>> [prompt_thinking(p, s).value for p, s in [("...assistant\\n<think>\\n", True),
    ...     ("...assistant\\n<think>\\n\\n</think>\\n\\n", True), ("...assistant\\n", False)]]
    ['on', 'off', 'none']
    """
    tail = prompt.rstrip()
    if tail.endswith("<think>"):
        return Thinking.ON
    if switch and tail.endswith("</think>"):
        return Thinking.OFF
    return Thinking.NONE


def thinking_switch(processor: Any) -> bool:
    """Whether the processor's chat template takes ``enable_thinking`` (Qwen3.5's does; Qwen2.5-VL's and Qwen3-VL
    Instruct's do not).

    >>> class P: chat_template = "{% if enable_thinking is false %}<think>\\n\\n</think>{% endif %}"
    >>> thinking_switch(P()), thinking_switch(object())
    (True, False)
    """
    template = getattr(processor, "chat_template", None)
    if isinstance(template, dict):
        template = template.get("default") or next(iter(template.values()), None)
    return isinstance(template, str) and "enable_thinking" in template


@spaces.GPU
def _generate_on_gpu(model: Any, inputs: Any, generation: dict, streamer: Any) -> Any:
    """The only code that needs the GPU (ZeroGPU attaches one for its duration)."""
    import torch

    with torch.inference_mode():
        if streamer is None:
            return model.generate(**inputs, **generation)
        return model.generate(**inputs, **generation, streamer=streamer)


def _on_device(inputs: Any, device: Any) -> Any:
    """A copy of ``inputs`` on ``device`` (``BatchFeature.to`` moves in place, and ``inputs`` may be kept)."""
    from transformers import BatchFeature

    return BatchFeature({name: value.to(device) for name, value in inputs.items()})


class _OutOfMemory(Exception):
    """A batch did not fit (split it); ``cause`` is the error it raised."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(str(cause))
        self.cause = cause


def _is_out_of_memory(exc: BaseException) -> bool:
    import torch

    text = str(exc).lower()
    return isinstance(exc, torch.cuda.OutOfMemoryError) or (
        isinstance(exc, RuntimeError) and ("out of memory" in text or "can't allocate memory" in text))


def _answer_ids(new_ids: list[int], max_new_tokens: int, eos_ids: frozenset[int]) -> list[int]:
    """One row of a batch's new tokens as a lone request would have them: up to its limit and its first end token.

    >>> _answer_ids([5, 6, 2, 0, 0], 10, frozenset({2}))
    [5, 6, 2]
    >>> _answer_ids([5, 6, 7, 8], 3, frozenset({2}))
    [5, 6, 7]
    """
    new_ids = new_ids[:max_new_tokens]
    for position, token in enumerate(new_ids):
        if token in eos_ids:
            return new_ids[:position + 1]
    return new_ids


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
        self._inputs = InputCache()
        self._templates: OrderedDict[Any, str] = OrderedDict()
        self._templates_lock = threading.Lock()

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
        from transformers import AutoConfig, AutoProcessor

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
            model_class, options = _model_class(config.model_type)
            model = model_class.from_pretrained(
                self._model_id,
                dtype=getattr(torch, runtime.dtype),
                attn_implementation=runtime.attn_implementation,
                **options,
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
        family = _with_processor_facts(family, processor.image_processor)
        tokenizer = processor.tokenizer
        eos = model.generation_config.eos_token_id
        model = _text_generator(model)
        eos_ids = frozenset([eos] if isinstance(eos, int) else (eos or []))
        stop_ids = eos_ids | ({tokenizer.pad_token_id} if tokenizer.pad_token_id is not None else set())
        stop_texts = tuple(t for t in tokenizer.convert_ids_to_tokens(sorted(stop_ids)) if t)
        thinking = thinking_switch(processor)
        return LoadedModel(processor, model, family, runtime, stop_texts, eos_ids, thinking)

    def effective_limits(self, loaded: LoadedModel, request: GroundingRequest | None = None) -> PixelLimits:
        """The limits in force: the request's, the backend's, or the checkpoint's processor ``size``."""
        if request is not None and request.limits is not None:
            return request.limits
        if self.limits is not None:
            return self.limits
        size = loaded.processor.image_processor.size
        return PixelLimits(int(size["shortest_edge"]), int(size["longest_edge"]))

    def chat_text(self, request: GroundingRequest) -> str:
        """The exact text the processor gets for ``request`` (what the UI shows as the prompt)."""
        return self._prompt_text(self.load(), request)

    def prepare(self, request: GroundingRequest) -> tuple[LoadedModel, Any, tuple[ProcessedImage, ...], PixelLimits]:
        """Chat template + processor: model inputs, and each image's geometry from ``image_grid_thw``."""
        loaded = self.load()
        limits = self.effective_limits(loaded, request)
        images = [self._model_image(loaded, image, limits) for image in request.images]
        text = self._prompt_text(loaded, request)
        images_key = self._images_key(request, limits)
        key = None if images_key is None else (images_key, text)
        inputs = self._encode(loaded, [text], images, key=key, vision_key=images_key)
        geometry = self._geometry(loaded, images, inputs["image_grid_thw"].tolist())
        return loaded, _on_device(inputs, loaded.model.device), geometry, limits

    def _prompt_text(self, loaded: LoadedModel, request: GroundingRequest) -> str:
        """The rendered chat template: the history, then the new turn (one ``<|image_pad|>`` per image;
        the processor expands each to the image's visual tokens). Renders of recent messages are kept
        (a batch of images asked the same question renders it once)."""
        messages = processor_messages(request)
        switch = {"enable_thinking": request.thinking} if loaded.thinking_switch else {}
        key = (id(loaded.processor), repr(messages), request.vision_ids, request.thinking)
        with self._templates_lock:
            text = self._templates.get(key)
            if text is not None:
                self._templates.move_to_end(key)
                return text
        text = loaded.processor.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, add_vision_id=request.vision_ids, **switch
        )
        with self._templates_lock:
            self._templates[key] = text
            while len(self._templates) > _KEPT_TEMPLATES:
                self._templates.popitem(last=False)
        return text

    def _model_image(self, loaded: LoadedModel, image: ImageInput, limits: PixelLimits) -> ModelImage:
        """Upright pixels at the processor's size and their patches (decoded small when possible, kept for the next request)."""
        return self._inputs.model_image(image, loaded.processor, loaded.family, limits)

    @staticmethod
    def _images_key(request: GroundingRequest, limits: PixelLimits) -> Any:
        """What makes two requests' images the same for the model: their contents and the limits (None: not kept).

        Two requests' inputs are the same when this and the rendered template are.
        """
        keys = tuple(image_key(image) for image in request.images)
        if any(key is None for key in keys):
            return None
        return (keys, limits)

    def _encode(self, loaded: LoadedModel, texts: list[str], images: list[ModelImage], key: Any = None,
                vision_key: Any = None) -> Any:
        """Model inputs from already-sized images (the processor need not resize); kept under ``key``."""
        return self._inputs.encode(loaded.processor, texts, images, key, vision_key)

    @staticmethod
    def _geometry(loaded: LoadedModel, images: list[ModelImage], grids: list[list[int]]) -> tuple[ProcessedImage, ...]:
        """Each image's geometry from the processor's ``image_grid_thw``, checked against the size it was given."""
        geometry = tuple(
            from_grid_thw(image.original_wh, grid, loaded.family) for image, grid in zip(images, grids, strict=True)
        )
        for image, seen in zip(images, geometry):
            if seen.resized_wh != image.resized_wh:
                raise BackendError(f"the processor saw {seen.resized_wh} for an image of {image.resized_wh}: "
                                   f"its patch size is not {loaded.family.name}'s")
        return geometry

    @staticmethod
    def _recorder(generation: dict[str, Any], top: int) -> LogprobRecorder | None:
        """Add a log-probability recorder to ``generation`` when ``top`` alternatives are asked (else None)."""
        if top <= 0:
            return None
        from transformers import LogitsProcessorList

        recorder = LogprobRecorder(top)
        generation["logits_processor"] = LogitsProcessorList([recorder])
        return recorder

    def thinking(self, request: GroundingRequest) -> Thinking:
        """Whether the model reasons first for ``request``: read off the rendered chat template, which ends
        in an open ``<think>`` when it does (Qwen3.5 with thinking on, Qwen3-VL Thinking always)."""
        loaded = self.load()
        return prompt_thinking(self._prompt_text(loaded, request), loaded.thinking_switch)

    def _generation(self, request: GroundingRequest, thinking: Thinking = Thinking.NONE) -> dict[str, Any]:
        bound = {"max_time": float(self.max_time_s)} if self.max_time_s else {}
        budget = request.token_budget(thinking is Thinking.ON)
        if request.temperature > 0:
            return {"max_new_tokens": budget, "do_sample": True, "temperature": request.temperature, **bound}
        return {"max_new_tokens": budget, "do_sample": False, **bound}

    def generate(self, request: GroundingRequest, on_text: Callable[[str], None] | None = None) -> RawOutput:
        """Without ``on_text``, generate in this thread with no streamer (less overhead)."""
        if on_text is not None:
            return super().generate(request, on_text)
        started = time.perf_counter()
        loaded, inputs, geometry, limits = self.prepare(request)
        thinking = self.thinking(request)
        generation = self._generation(request, thinking)
        recorder = self._recorder(generation, request.logprobs)
        t0 = time.perf_counter()
        try:
            ids = _generate_on_gpu(loaded.model, inputs, generation, None)
        except Exception as exc:
            raise self._generate_error(exc) from None
        generate_s = time.perf_counter() - t0
        prompt_tokens = int(inputs["input_ids"].shape[1])
        text = loaded.processor.tokenizer.decode(ids[0, prompt_tokens:], skip_special_tokens=False)
        return self._output(request, loaded, ids, prompt_tokens, self._strip_stop(text, loaded.stop_texts),
                            geometry, limits, started, generate_s, recorder, thinking)

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        loaded, inputs, geometry, limits = self.prepare(request)
        streamer = TokenStream(loaded.processor.tokenizer.backend_tokenizer)
        cancelled = threading.Event()
        thinking = self.thinking(request)
        generation = self._generation(request, thinking) | {"stopping_criteria": _cancel_criteria(cancelled)}
        recorder = self._recorder(generation, request.logprobs)
        result: dict[str, Any] = {}

        def work() -> None:
            t0 = time.perf_counter()
            try:
                result["ids"] = _generate_on_gpu(loaded.model, inputs, generation, streamer)
            except BaseException as exc:
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
                           started, result["generate_s"], recorder, thinking)

    def _output(
        self, request: GroundingRequest, loaded: LoadedModel, ids: Any, prompt_tokens: int, text: str,
        geometry: tuple[ProcessedImage, ...], limits: PixelLimits, started: float, generate_s: float,
        recorder: LogprobRecorder | None = None, thinking: Thinking = Thinking.NONE,
    ) -> RawOutput:
        new_ids = ids[0, prompt_tokens:].tolist()
        tokens = None
        if recorder is not None:
            chosen, values, top_ids = recorder.result(ids[:, prompt_tokens:])
            tokens = self._tokens(loaded, new_ids, chosen[0], values[0], top_ids[0]) if chosen else None
        return self._raw_output(request, loaded, new_ids, prompt_tokens, text, geometry, limits, started,
                                generate_s, tokens, thinking)

    @staticmethod
    def _tokens(loaded: LoadedModel, new_ids: list[int], chosen: list[float], values: list[list[float]],
                top_ids: list[list[int]]) -> tuple[Any, ...]:
        """One answer's tokens with their log-probabilities (end-of-turn and padding left out, as from the text)."""
        tokenizer = loaded.processor.tokenizer
        skip = loaded.eos_ids | ({tokenizer.pad_token_id} if tokenizer.pad_token_id is not None else set())
        return token_logprobs(tokenizer, new_ids, chosen, values, top_ids, frozenset(skip))

    def _raw_output(
        self, request: GroundingRequest, loaded: LoadedModel, new_ids: list[int], prompt_tokens: int, text: str,
        geometry: tuple[ProcessedImage, ...], limits: PixelLimits, started: float, generate_s: float,
        tokens: tuple[Any, ...] | None = None,
        thinking: Thinking = Thinking.NONE,
    ) -> RawOutput:
        ended = bool(new_ids) and new_ids[-1] in loaded.eos_ids
        budget = request.token_budget(thinking is Thinking.ON)
        finish = "length" if len(new_ids) >= budget and not ended else "stop"
        notes: tuple[str, ...] = ()
        if self.max_time_s and not ended and finish == "stop" and generate_s >= self.max_time_s:
            notes = (f"generation stopped at the time limit of {self.max_time_s:g} s: the last objects may be "
                     "missing or broken",)
        return RawOutput(
            text=text,
            images=geometry,
            model=self._model_id,
            finish_reason=finish,
            max_new_tokens=budget,
            limits=limits,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(new_ids),
            total_s=time.perf_counter() - started,
            generate_s=generate_s,
            notes=notes,
            token_logprobs=tokens,
            thinking=thinking,
        )

    # --- several requests per forward pass ---------------------------------------------------------------
    def generate_batch(self, requests: Sequence[GroundingRequest], *, max_batch: int | None = None) -> list[RawOutput]:
        """Answer several requests with as few ``generate`` calls as memory allows; outputs in request order.

        Requests with the same sampling settings run together, ``max_batch`` at a time (default:
        all), left-padded, up to the largest ``max_new_tokens`` among them; each answer is cut at
        its own limit and its first end-of-turn token and gets its own images' geometry (from its
        rows of ``image_grid_thw``). Under greedy decoding the answers are those :meth:`generate`
        gives one by one. A batch that runs out of memory is split in halves and retried.
        ``total_s`` and ``generate_s`` are those of the batch a request ran in. No streaming.
        """
        outputs: list[RawOutput | None] = [None] * len(requests)
        groups: dict[tuple[bool, float], list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((request.temperature > 0, request.temperature), []).append(index)
        size = max(1, max_batch or len(requests))
        for indices in groups.values():
            for start in range(0, len(indices), size):
                chunk = indices[start:start + size]
                for index, output in zip(chunk, self._generate_chunk([requests[i] for i in chunk]), strict=True):
                    outputs[index] = output
        return [output for output in outputs if output is not None]

    def _generate_chunk(self, requests: list[GroundingRequest]) -> list[RawOutput]:
        try:
            return self._run_batch(requests)
        except _OutOfMemory as exc:
            if len(requests) == 1:
                raise self._generate_error(exc.cause) from None
            half = len(requests) // 2
            return self._generate_chunk(requests[:half]) + self._generate_chunk(requests[half:])

    def _run_batch(self, requests: list[GroundingRequest]) -> list[RawOutput]:
        started = time.perf_counter()
        loaded = self.load()
        texts, images, per_request = [], [], []
        for request in requests:
            limits = self.effective_limits(loaded, request)
            sized = [self._model_image(loaded, image, limits) for image in request.images]
            text = self._prompt_text(loaded, request)
            texts.append(text)
            images.extend(sized)
            per_request.append((limits, sized, prompt_thinking(text, loaded.thinking_switch)))
        inputs = self._encode(loaded, texts, images)
        grids = inputs["image_grid_thw"].tolist()
        budget = max(r.token_budget(t is Thinking.ON) for r, (_, _, t) in zip(requests, per_request, strict=True))
        generation = self._generation(requests[0]) | {"max_new_tokens": budget}
        if loaded.processor.tokenizer.pad_token_id is not None:
            generation["pad_token_id"] = loaded.processor.tokenizer.pad_token_id
        recorder = self._recorder(generation, max(r.logprobs for r in requests))
        t0 = time.perf_counter()
        try:
            ids = _generate_on_gpu(loaded.model, _on_device(inputs, loaded.model.device), generation, None)
        except Exception as exc:
            if _is_out_of_memory(exc):
                raise _OutOfMemory(exc) from None
            raise self._generate_error(exc) from None
        generate_s = time.perf_counter() - t0
        width = int(inputs["input_ids"].shape[1])
        prompt_tokens = inputs["attention_mask"].sum(dim=1).tolist()
        decode = loaded.processor.tokenizer.decode
        recorded = recorder.result(ids[:, width:]) if recorder is not None else ([], [], [])
        outputs, first = [], 0
        for row, (request, (limits, sized, thinking)) in enumerate(zip(requests, per_request, strict=True)):
            geometry = self._geometry(loaded, sized, grids[first:first + len(sized)])
            first += len(sized)
            new_ids = _answer_ids(ids[row, width:].tolist(), request.token_budget(thinking is Thinking.ON),
                                  loaded.eos_ids)
            text = self._strip_stop(decode(new_ids, skip_special_tokens=False), loaded.stop_texts)
            tokens = None
            if request.logprobs and recorded[0]:
                chosen, values, top_ids = recorded[0][row], recorded[1][row], recorded[2][row]
                tokens = self._tokens(loaded, new_ids, chosen, [v[:request.logprobs] for v in values],
                                      [t[:request.logprobs] for t in top_ids])
            outputs.append(self._raw_output(request, loaded, new_ids, int(prompt_tokens[row]), text, geometry,
                                            limits, started, generate_s, tokens, thinking))
        return outputs

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
