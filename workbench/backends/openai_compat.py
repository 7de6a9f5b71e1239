"""Chat completions against an OpenAI-compatible server (vLLM, SGLang, ``transformers serve``, DashScope).

The server resizes the images, so the geometry is computed here with the server's pixel
limits (:class:`grounding.PixelLimits`, the family's checkpoint defaults unless told
otherwise) and, where the server takes them, the same limits are sent with the request so
both sides agree:

================  ===========================================================================
``limits_style``  what is sent
================  ===========================================================================
``vllm``          ``mm_processor_kwargs: {min_pixels, max_pixels}`` (vLLM's per-request form)
``transformers``  ``chat_template_kwargs: {processor_kwargs: {size: {shortest_edge, longest_edge}}}``
                  (``transformers serve`` rejects unknown fields with 422, so not the vLLM form)
``dashscope``     ``min_pixels``/``max_pixels`` beside each ``image_url`` part
``none``          nothing: the server uses its own configuration, which must match ``limits``
================  ===========================================================================

Images go as data URLs of the upright image. ``Picture N:`` labels are sent as text parts,
which render exactly like the chat template's ``add_vision_id`` and work on every server;
earlier turns (``GroundingRequest.history``) go before the new one, with their images.
Retries with exponential backoff on 408/429/5xx and connection errors, and timeouts, are
the openai client's own (``max_retries``, ``timeout``: how long the server may stay silent). Each
call also has a total deadline (``deadline_s``, retries included), a bound on the bytes of its
answer (``max_answer_bytes``) and stops when the work it belongs to is cancelled
(:mod:`workbench.backends.deadline`, enforced below the openai client by
:mod:`workbench.backends.guarded_http`). An answer that is not a chat completion (stream) is an
error, never an empty answer. Errors become
:class:`~workbench.errors.BackendError` with the server's message (``echo_errors=False``, as a
public deployment sets it: the status only). The URL in messages is shown without password or
query (:func:`workbench.urls.shown_url`). Redirects are not followed: a server that answers
3xx is reported, so a request (and its key) never goes on to another host. Without an
``api_key``, the configured key is sent only to the configured server
(:meth:`workbench.deployment.Deployment.api_key_for`).

>>> backend = OpenAICompatibleBackend("Qwen/Qwen2.5-VL-7B-Instruct", base_url="http://127.0.0.1:8000/v1")
>>> backend.family().name, backend.limits
('qwen2.5-vl', PixelLimits(min_pixels=3136, max_pixels=12845056))
>>> backend.limit_fields()
{'extra_body': {'mm_processor_kwargs': {'min_pixels': 3136, 'max_pixels': 12845056}}}
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Literal

from grounding import ModelFamily, PixelLimits, ProcessedImage, process_size
from grounding.confidence.tokens import tokens_from_openai
from workbench.backends.base import (
    GroundingRequest,
    RawOutput,
    StreamEvent,
    StreamingBackend,
    TextDelta,
    Thinking,
)
from workbench.backends.conversation import request_messages
from workbench.backends.deadline import CallBudget, calling
from workbench.backends.media import data_url, original_wh
from workbench.config import (
    LIMITS_STYLES,
    configured_key_for,
    default_base_url,
    default_limits_style,
    default_model,
    guess_family,
)
from workbench.errors import BackendError
from workbench.limits import ResourceLimits
from workbench.urls import redact_urls, shown_url

__all__ = ["OpenAICompatibleBackend", "LimitsStyle", "LIMITS_STYLES", "completion_output"]

LimitsStyle = Literal["vllm", "transformers", "dashscope", "none"]


class OpenAICompatibleBackend(StreamingBackend):
    """A Qwen-VL model behind ``/v1/chat/completions``."""

    def __init__(
        self,
        model: str | None = None,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        family: ModelFamily | str | None = None,
        limits: PixelLimits | None = None,
        limits_style: LimitsStyle | None = None,
        timeout: float = 120.0,
        max_retries: int = 3,
        echo_errors: bool = True,
        deadline_s: float | None = None,
        max_answer_bytes: int | None = None,
    ) -> None:
        import openai

        from workbench.backends.guarded_http import guarded_client

        self._model = model or default_model()
        base_url = base_url or default_base_url()
        if not base_url:
            raise BackendError("no server URL: pass --base-url or set WORKBENCH_BASE_URL (e.g. http://127.0.0.1:8000/v1)")
        limits_style = limits_style or default_limits_style()  # type: ignore[assignment]  # checked on the next line
        if limits_style not in LIMITS_STYLES:
            raise BackendError(f"unknown limits style {limits_style!r} (how the server takes pixel limits, "
                               f"WORKBENCH_LIMITS_STYLE); expected one of {', '.join(LIMITS_STYLES)}")
        try:
            self._family = ModelFamily.from_name(family) if family else guess_family(self._model)
        except ValueError as exc:
            raise BackendError(str(exc)) from None
        self.limits = limits or PixelLimits.default_for(self._family)
        self.limits_style = limits_style
        self.base_url = base_url
        self.echo_errors = echo_errors
        bounds = ResourceLimits.from_env() if deadline_s is None or max_answer_bytes is None else ResourceLimits()
        self.deadline_s = deadline_s if deadline_s is not None else (float(bounds.request_s) or None)
        """Wall time of one call, retries included (None: no deadline)."""
        self.max_answer_bytes = max_answer_bytes if max_answer_bytes is not None else bounds.answer_bytes
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or configured_key_for(base_url), timeout=timeout,
            max_retries=max_retries, http_client=guarded_client(timeout),
        )
        self._timeout = timeout

    @property
    def model(self) -> str:
        return self._model

    @property
    def shown_url(self) -> str:
        """The server URL without password or query, for messages."""
        return shown_url(self.base_url)

    def family(self) -> ModelFamily:
        return self._family

    def limits_for(self, request: GroundingRequest | None = None) -> PixelLimits:
        """The request's limits, else the backend's."""
        return request.limits if request is not None and request.limits is not None else self.limits

    def limit_fields(self, request: GroundingRequest | None = None) -> dict[str, Any]:
        """Request keywords that carry the pixel limits in this server's dialect (and the thinking switch,
        for a family whose chat template has one: see :meth:`thinking_fields`)."""
        limits = self.limits_for(request)
        lo, hi = limits.min_pixels, limits.max_pixels
        extra: dict[str, Any] = {}
        if self.limits_style == "vllm":
            extra = {"mm_processor_kwargs": {"min_pixels": lo, "max_pixels": hi}}
        elif self.limits_style == "transformers":
            extra = {"chat_template_kwargs": {"processor_kwargs": {"size": limits.as_processor_size()}}}
        for key, value in self.thinking_fields(request).items():
            extra[key] = {**extra.get(key, {}), **value} if isinstance(value, dict) else value
        return {"extra_body": extra} if extra else {}

    def thinking_fields(self, request: GroundingRequest | None = None) -> dict[str, Any]:
        """How the server is told whether the model may think, where the family's chat template has the switch:
        ``chat_template_kwargs.enable_thinking`` (vLLM, SGLang, ``transformers serve``), DashScope's top-level
        ``enable_thinking``; nothing for other families.

        >>> OpenAICompatibleBackend("Qwen/Qwen3.5-27B", base_url="http://127.0.0.1:8000/v1").thinking_fields()
        {'chat_template_kwargs': {'enable_thinking': False}}
        """
        if not self._family.thinking_switch:
            return {}
        wanted = bool(request.thinking) if request is not None else False
        if self.limits_style == "dashscope":
            return {"enable_thinking": wanted}
        return {"chat_template_kwargs": {"enable_thinking": wanted}}

    def thinking(self, request: GroundingRequest) -> Thinking:
        """Whether the model reasons first for ``request``: as asked where the family has the switch, else as
        the family's checkpoints do by default (the server's template is not visible from here)."""
        if self._family.thinking_switch:
            return Thinking.ON if request.thinking else Thinking.OFF
        return Thinking.ON if self._family.thinks_by_default else Thinking.NONE

    def messages(self, request: GroundingRequest) -> list[dict]:
        """The chat messages sent for ``request`` (images as data URLs, in the user's order)."""
        urls = {image_id: data_url(image) for image_id, image in zip(request.image_ids, request.images)}
        limits = self.limits_for(request)
        extra = {"min_pixels": limits.min_pixels, "max_pixels": limits.max_pixels} if self.limits_style == "dashscope" else {}
        messages = request_messages(request)
        for message in messages:
            if not isinstance(message["content"], list):
                continue
            message["content"] = [
                {"type": "image_url", "image_url": {"url": urls[part["image_id"]]}, **extra}
                if part["type"] == "image"
                else part
                for part in message["content"]
            ]
        return messages

    def request_body(self, request: GroundingRequest) -> dict[str, Any]:
        """Everything sent to ``chat.completions.create`` for ``request`` (streaming options aside)."""
        return {
            "model": self._model,
            "messages": self.messages(request),
            "max_tokens": request.token_budget(self.thinking(request) is Thinking.ON),
            "temperature": request.temperature,
            **({"logprobs": True, "top_logprobs": request.logprobs} if request.logprobs else {}),
            **self.limit_fields(request),
        }

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        import openai

        from workbench.backends.guarded_http import CallInterrupted

        started = time.perf_counter()
        limits = self.limits_for(request)
        try:
            geometry = tuple(process_size(original_wh(image), self._family, limits) for image in request.images)
        except ValueError as exc:
            raise BackendError(str(exc)) from None
        kwargs: dict[str, Any] = {
            **self.request_body(request),
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        pieces: list[str] = []
        logprobs: list[dict[str, Any]] = []
        reasoning = ReasoningStream()
        finish = "stop"
        usage = None
        chat = False  # whether any chunk was a chat completion chunk (with choices)
        waited = time.perf_counter()
        budget = self._budget()
        response = None
        try:
            with calling(budget):
                response = self._client.chat.completions.create(**kwargs)
                chunks = iter(response)
            while True:
                with calling(budget):  # each read of the stream, in whichever thread pulls the next piece
                    chunk = next(chunks, None)
                if chunk is None:
                    break
                if getattr(chunk, "usage", None) is not None:
                    usage = chunk.usage
                choices = getattr(chunk, "choices", None)
                if not isinstance(choices, list):
                    raise BackendError(self._not_chat("a stream of chat completion chunks"))
                chat = chat or bool(choices)
                for choice in choices:
                    for piece in reasoning.pieces(getattr(choice, "delta", None)):
                        if isinstance(piece, str) and piece:
                            pieces.append(piece)
                            yield TextDelta(piece)
                    choice_logprobs = getattr(choice, "logprobs", None)
                    if choice_logprobs is not None and getattr(choice_logprobs, "content", None):
                        logprobs.extend(entry.model_dump() for entry in choice_logprobs.content)
                    if getattr(choice, "finish_reason", None):
                        finish = choice.finish_reason
        except CallInterrupted as exc:
            raise BackendError(self._interrupted(exc)) from None
        except openai.APIStatusError as exc:
            if not pieces and _refuses_logprobs(request, exc):
                yield from self._without_logprobs(request, self.stream)
                return
            raise _backend_error(self, exc) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise _backend_error(self, exc) from None
        finally:
            if response is not None:
                with contextlib.suppress(Exception):
                    response.close()
        if not chat:
            raise BackendError(self._not_chat("a stream of chat completion chunks"))
        for piece in reasoning.close():
            pieces.append(piece)
            yield TextDelta(piece)
        generate_s = time.perf_counter() - waited
        tokens, notes = _tokens(request, {"content": logprobs}, self.shown_url)
        thinking = self.thinking(request)
        yield RawOutput(
            text="".join(pieces),
            images=geometry,
            model=self._model,
            finish_reason="length" if finish == "length" else "stop",
            thinking=thinking,
            max_new_tokens=request.token_budget(thinking is Thinking.ON),
            limits=limits,
            prompt_tokens=getattr(usage, "prompt_tokens", None),
            completion_tokens=getattr(usage, "completion_tokens", None),
            total_s=time.perf_counter() - started,
            generate_s=generate_s,
            notes=notes,
            token_logprobs=tokens,
        )

    def _without_logprobs(self, request: GroundingRequest, call: Any) -> Iterator[StreamEvent]:
        """The request again without log-probabilities (the server refused the fields), saying so."""
        for event in call(replace(request, logprobs=0)):
            if isinstance(event, RawOutput):
                event = replace(event, notes=(*event.notes, _no_logprobs(self.shown_url, refused=True)))
            yield event
    def _budget(self) -> CallBudget:
        """The bounds of one call starting now (deadline, answer bytes, the thread's cancel)."""
        return CallBudget.start(self.deadline_s, self.max_answer_bytes)

    def _interrupted(self, exc: Any) -> str:
        return f"the request to {self.shown_url} was stopped: {exc.reason}"

    def _not_chat(self, what: str) -> str:
        return f"{self.shown_url} answered something that is not {what}"

    def body(self, request: GroundingRequest) -> dict[str, Any]:
        """The JSON body of one non-streamed ``/chat/completions`` call for ``request`` (batch engines post it):
        :meth:`request_body` with the SDK's ``extra_body`` merged in, as the SDK sends it."""
        fields = self.request_body(request)
        extra = fields.pop("extra_body", {})
        return {**fields, **extra}

    def geometry(self, request: GroundingRequest) -> tuple[ProcessedImage, ...]:
        """What the server makes of each image of ``request`` (from the headers and this backend's limits)."""
        limits = self.limits_for(request)
        try:
            return tuple(process_size(original_wh(image), self._family, limits) for image in request.images)
        except ValueError as exc:
            raise BackendError(str(exc)) from None

    def encoded_body(self, request: GroundingRequest) -> bytes:
        """:meth:`body` as the UTF-8 JSON bytes that are posted (what a batch builds ahead of sending)."""
        import json

        return json.dumps(self.body(request), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def complete(self, request: GroundingRequest, body: dict[str, Any] | bytes | None = None,
                 geometry: tuple[ProcessedImage, ...] | None = None) -> RawOutput:
        """The whole answer in one non-streamed response, through the same client.

        For batches: no text pieces to show, so no per-token chunks to decode; the body goes as
        built, without the SDK's parameter walk. ``body`` (:meth:`body` or :meth:`encoded_body`)
        and ``geometry`` (:meth:`geometry`) of ``request`` come built when the caller made them
        ahead: a batch reads and encodes the next images while a request is in flight, so the
        thread that waits for the server only posts and reads.
        """
        import json

        import openai

        from workbench.backends.guarded_http import CallInterrupted

        started = time.perf_counter()
        limits = self.limits_for(request)
        geometry = self.geometry(request) if geometry is None else geometry
        body = self.body(request) if body is None else body
        waited = time.perf_counter()
        try:
            with calling(self._budget()):
                text = self._client.post("/chat/completions", body=body, cast_to=str)
        except CallInterrupted as exc:
            raise BackendError(self._interrupted(exc)) from None
        except openai.APIStatusError as exc:
            if _refuses_logprobs(request, exc):
                output = self.complete(replace(request, logprobs=0), geometry=geometry)
                return replace(output, notes=(*output.notes, _no_logprobs(self.shown_url, refused=True)))
            raise _backend_error(self, exc) from None
        except (openai.APITimeoutError, openai.APIConnectionError) as exc:
            raise _backend_error(self, exc) from None
        generate_s = time.perf_counter() - waited
        try:
            answer = json.loads(text)
            if not isinstance(answer["choices"][0]["message"], dict):
                raise TypeError("no message")
        except (ValueError, KeyError, IndexError, TypeError):
            raise BackendError(self._not_chat("a chat completion")
                               + (f": {redact_urls(text[:200])!r}" if self.echo_errors else "")) from None
        thinking = self.thinking(request)
        return completion_output(
            answer, geometry, model=self._model, max_new_tokens=request.token_budget(thinking is Thinking.ON),
            limits=limits, total_s=time.perf_counter() - started, generate_s=generate_s, thinking=thinking,
            logprobs=request.logprobs, server=self.shown_url,
        )


def _no_logprobs(server: str, *, refused: bool = False) -> str:
    why = "refused the log-probability fields" if refused else "returned no token log-probabilities"
    return (f"{server} {why}: this answer's confidence comes from its structure only (overlaps, border, loops, "
            "truncation)")


def _tokens(request: GroundingRequest, logprobs: Any, server: str) -> tuple[Any, tuple[str, ...]]:
    """The answer's tokens when the request asked for them, and a note when the server gave none."""
    if not request.logprobs:
        return None, ()
    tokens = tokens_from_openai(logprobs)
    return tokens, (() if tokens else (_no_logprobs(server),))


def _refuses_logprobs(request: GroundingRequest, exc: Any) -> bool:
    """A 400/422 naming the log-probability fields, to a request that sent them (some servers take no such field)."""
    return bool(request.logprobs) and getattr(exc, "status_code", 0) in (400, 422) and "logprob" in _server_message(exc)


class ReasoningStream:
    """A streamed answer's pieces, with the reasoning a server sends apart (vLLM and SGLang with a reasoning
    parser: ``delta.reasoning_content`` or ``delta.reasoning``) put back as ``<think>…</think>`` before the
    answer, so that the parser reads one text and keeps the reasoning, as from a local model.

    >>> class D:
    ...     def __init__(self, r=None, c=None): self.reasoning_content, self.content = r, c
    >>> stream = ReasoningStream()
    >>> [p for d in (D("Look"), D(" left."), D(c="[]")) for p in stream.pieces(d)] + stream.close()
    ['<think>', 'Look', ' left.', '</think>\\n\\n', '[]']
    """

    def __init__(self) -> None:
        self.open = False

    @staticmethod
    def reasoning_of(part: Any) -> str:
        if part is None:
            return ""
        get = part.get if isinstance(part, dict) else lambda name: getattr(part, name, None)
        value = get("reasoning_content") or get("reasoning")
        return value if isinstance(value, str) else ""

    def pieces(self, delta: Any) -> list[str]:
        if delta is None:
            return []
        out: list[str] = []
        thought = self.reasoning_of(delta)
        if thought:
            if not self.open:
                out.append("<think>")
                self.open = True
            out.append(thought)
        content = delta.get("content") if isinstance(delta, dict) else getattr(delta, "content", None)
        if content:
            out += self.close()
            out.append(content)
        return out

    def close(self) -> list[str]:
        if not self.open:
            return []
        self.open = False
        return ["</think>\n\n"]


def completion_output(
    answer: dict[str, Any], images: tuple[ProcessedImage, ...], *, model: str, max_new_tokens: int,
    limits: PixelLimits, total_s: float = 0.0, generate_s: float = 0.0, thinking: Thinking = Thinking.NONE,
    logprobs: int = 0, server: str = "the server",
) -> RawOutput:
    """A chat completion's JSON (``choices[0].message.content``, ``finish_reason``, ``usage``, and
    ``logprobs`` when ``logprobs`` alternatives were asked) as a :class:`RawOutput`; reasoning the server sent
    apart (``message.reasoning_content``) goes before it as ``<think>…</think>``.

    >>> completion_output({"choices": [{"message": {"content": "[]"}, "finish_reason": "length"}],
    ...                    "usage": {"prompt_tokens": 391}}, (), model="m", max_new_tokens=8,
    ...                   limits=PixelLimits(3136, 1003520)).truncated
    True
    """
    choice = (answer.get("choices") or [{}])[0]
    usage = answer.get("usage") or {}
    tokens = tokens_from_openai(choice.get("logprobs")) if logprobs else None
    message = choice.get("message") or {}
    thought = ReasoningStream.reasoning_of(message)
    return RawOutput(
        text=(f"<think>{thought}</think>\n\n" if thought else "") + (message.get("content") or ""),
        thinking=thinking,
        images=images,
        model=model,
        finish_reason="length" if choice.get("finish_reason") == "length" else "stop",
        max_new_tokens=max_new_tokens,
        limits=limits,
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        total_s=total_s,
        generate_s=generate_s,
        notes=() if tokens or not logprobs else (_no_logprobs(server),),
        token_logprobs=tokens,
    )


def _backend_error(backend: OpenAICompatibleBackend, exc: Any) -> BackendError:
    """An openai client error in words, for ``stream`` and ``complete`` alike: the server's URL without
    secrets, and its own message only where the deployment lets errors be echoed."""
    import openai

    if isinstance(exc, openai.APITimeoutError):
        return BackendError(f"{backend.shown_url} did not answer within {backend._timeout:g} s")
    if isinstance(exc, openai.APIConnectionError):
        reason = f": {redact_urls(str(exc.__cause__ or exc))}" if backend.echo_errors else ""
        return BackendError(f"cannot reach {backend.shown_url}{reason}")
    if 300 <= exc.status_code < 400:
        return BackendError(f"{backend.shown_url} answered {exc.status_code} (a redirect): redirects are not "
                            "followed; give the server's final URL")
    message = _server_message(exc)
    reason = f": {redact_urls(message)}" if backend.echo_errors else " (its message is not shown here)"
    hint = ""
    if exc.status_code in (400, 422) and any(name in message for name in _LIMIT_FIELDS.get(backend.limits_style, ())):
        others = ", ".join(style for style in LIMITS_STYLES if style != backend.limits_style)
        hint = (f". This server does not take the pixel limits the way {backend.limits_style!r} sends them: set "
                f"WORKBENCH_LIMITS_STYLE (or --limits-style) to one of {others} ('transformers' for "
                "transformers serve, 'none' to let the server use its own limits)")
    return BackendError(f"{backend.shown_url} answered {exc.status_code}{reason}{hint}")


_LIMIT_FIELDS = {
    "vllm": ("mm_processor_kwargs",),
    "transformers": ("chat_template_kwargs", "processor_kwargs"),
    "dashscope": ("min_pixels", "max_pixels"),
}
"""The request fields each limits style adds: a 4xx naming one means the server takes limits otherwise."""


def _server_message(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        detail = body.get("detail") or body.get("message") or body.get("error")
        if isinstance(detail, dict):
            detail = detail.get("message", detail)
        if detail:
            return str(detail)
    return str(getattr(exc, "message", exc))
