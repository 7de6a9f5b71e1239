"""One vocabulary for a model run, used by every entry point (pages, CLI, API, batch jobs, evaluations).

A run is three questions, each answered by one frozen dataclass, with the project's defaults written once here:

- :class:`ModelSource` — which model answers, and where: the local checkpoint or a server (several URLs are
  replicas), its key, how that server takes pixel limits, how long to wait for it;
- :class:`Reading` — how the answer is read: the family (patching and coordinate convention), the pixel
  limits, extra coordinate keys the prompt asks for, a convention a probe found;
- :class:`Generation` — how the model generates: the token budget, sampling, thinking, log-probabilities.

:class:`RunSettings` holds the three. An entry point builds one from what it was given (page fields and the
dataset's remembered settings, CLI options, API arguments) and hands it down; below it nothing invents a default.
What a batch resumes by is the *resolved* form, :class:`workbench.batch.units.JobSettings` (the backend's real
model, family and limits), made from these with :meth:`JobSettings.for_run`.

>>> run = RunSettings(ModelSource("openai", "Qwen/Qwen2.5-VL-7B-Instruct", ("http://127.0.0.1:8000/v1",)),
...                   Reading("qwen2.5-vl", max_pixels=1003520), Generation(max_new_tokens=512))
>>> run.source.backend_options()
{'model': 'Qwen/Qwen2.5-VL-7B-Instruct', 'base_url': 'http://127.0.0.1:8000/v1'}
>>> run.reading.limits.max_pixels, run.generation.max_new_tokens
(1003520, 512)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from grounding import DEFAULT_FAMILY, CoordinateConvention, GeometryError, GroundingError, ModelFamily, PixelLimits
from grounding.parse import coordinate_keys as key_list
from workbench.errors import WorkbenchError

__all__ = [
    "BACKEND_KINDS", "DEFAULT_CONCURRENCY", "DEFAULT_LIMITS_STYLE", "DEFAULT_MAX_NEW_TOKENS", "DEFAULT_SERVER_WAIT_S",
    "DEFAULT_TIMEOUT_S", "LIMITS_STYLES", "MAX_CONCURRENCY", "Generation", "ModelSource", "Reading", "RunSettings",
    "check_concurrency",
]

DEFAULT_MAX_NEW_TOKENS = 1024
"""New tokens of one answer (a model that thinks first gets its reasoning budget on top)."""
DEFAULT_TIMEOUT_S = 300.0
"""Seconds one request to a server may take, where the caller sets none (the CLI's ``--timeout``)."""
DEFAULT_SERVER_WAIT_S = 120.0
"""Seconds a batch waits for an unreachable server before it stops."""
DEFAULT_CONCURRENCY = 4
"""Requests in flight at once against servers (the local model takes one at a time)."""
MAX_CONCURRENCY = 64
"""The most requests in flight at once a batch may ask for."""
BACKEND_KINDS: tuple[str, ...] = ("paste", "local", "openai")
LIMITS_STYLES: tuple[str, ...] = ("vllm", "transformers", "dashscope", "none")
"""How a server takes the pixel limits (see :meth:`workbench.backends.OpenAICompatibleBackend.limit_fields`)."""
DEFAULT_LIMITS_STYLE = "vllm"


def check_concurrency(concurrency: int) -> int:
    """Requests in flight at once, refused in words outside 1..:data:`MAX_CONCURRENCY`.

    >>> check_concurrency(65)
    Traceback (most recent call last):
    ...
    workbench.errors.WorkbenchError: requests at once must be between 1 and 64
    """
    if not 1 <= int(concurrency) <= MAX_CONCURRENCY:
        raise WorkbenchError(f"requests at once must be between 1 and {MAX_CONCURRENCY}")
    return int(concurrency)


@dataclass(frozen=True)
class ModelSource:
    """Which model answers and where. ``model`` and ``base_urls`` empty: the configured ones (the deployment
    fills them in); the API key only goes to the server it was given for and never shows in ``repr``."""

    backend: str = "openai"
    """``local`` (transformers), ``openai`` (an OpenAI-compatible server) or ``paste`` (no model: a pasted answer)."""
    model: str = ""
    base_urls: tuple[str, ...] = ()
    """Server URLs; more than one are replicas a batch spreads its requests over."""
    api_key: str | None = field(default=None, repr=False)
    limits_style: str | None = None
    """How the server takes pixel limits (:data:`LIMITS_STYLES`); None: the configured style
    (``WORKBENCH_LIMITS_STYLE``, else ``vllm``)."""
    timeout_s: float | None = None
    """Seconds one request may take; None: the deployment's bound (pages) or the backend's own."""
    server_wait_s: float = DEFAULT_SERVER_WAIT_S

    def __post_init__(self) -> None:
        if self.backend not in BACKEND_KINDS:
            raise WorkbenchError(f"unknown backend {self.backend!r}; expected one of {', '.join(BACKEND_KINDS)}")
        if self.limits_style is not None and self.limits_style not in LIMITS_STYLES:
            raise WorkbenchError(f"unknown limits style {self.limits_style!r} (how the server takes pixel limits); "
                                 f"expected one of {', '.join(LIMITS_STYLES)}")
        object.__setattr__(self, "base_urls", tuple(url.strip() for url in self.base_urls if url and url.strip()))
        object.__setattr__(self, "model", (self.model or "").strip())

    @property
    def base_url(self) -> str:
        """The first server URL ('' for the configured one)."""
        return self.base_urls[0] if self.base_urls else ""

    def backend_options(self, *, family: str | None = None) -> dict[str, Any]:
        """Options for :func:`workbench.backends.create_backend` or ``Services.backend`` (what is given only)."""
        if self.backend == "paste":
            raise WorkbenchError("paste mode runs no model: paste an output instead")
        options: dict[str, Any] = {"model": self.model} if self.model else {}
        if self.backend == "local":
            return options
        if self.base_url:
            options["base_url"] = self.base_url
        if family:
            options["family"] = family
        if self.limits_style:
            options["limits_style"] = self.limits_style
        if self.timeout_s is not None:
            options["timeout"] = self.timeout_s
        if self.api_key:
            options["api_key"] = self.api_key
        return options


@dataclass(frozen=True)
class Reading:
    """How answers are read: the family (the dataset's, or the model's when it tells), the pixel limits (None:
    the family's checkpoints), extra JSON keys the prompt asks coordinates under (``position``), and a
    coordinate convention a probe found (None: the family's own). A dataset keeps one (:meth:`from_dataset`)."""

    family: str = DEFAULT_FAMILY.name
    min_pixels: int | None = None
    max_pixels: int | None = None
    coordinate_keys: tuple[str, ...] = ()
    convention: str | None = None
    """How answers' coordinates are read (a probe's verdict, ``workbench probe-convention``); None: the family's."""

    @property
    def limits(self) -> PixelLimits:
        """The pixel limits, the family's checkpoint values where none are set."""
        try:
            return PixelLimits.default_for(self.family, self.min_pixels, self.max_pixels)
        except GeometryError as exc:
            raise WorkbenchError(str(exc)) from None

    @property
    def sets_limits(self) -> bool:
        """Limits were chosen (else the model's own apply: a server's, a checkpoint's processor)."""
        return self.min_pixels is not None or self.max_pixels is not None

    def limits_for(self, family: ModelFamily | str) -> PixelLimits | None:
        """The chosen limits completed with ``family``'s defaults, or None when none were chosen."""
        if not self.sets_limits:
            return None
        try:
            return PixelLimits.default_for(family, self.min_pixels, self.max_pixels)
        except GeometryError as exc:
            raise WorkbenchError(str(exc)) from None

    @property
    def model_family(self) -> ModelFamily:
        """The family, read with the convention where there is one."""
        return ModelFamily.from_name(self.family).with_convention(self.convention)

    @classmethod
    def from_dataset(cls, settings: Mapping[str, Any]) -> Reading:
        """Read from a dataset's stored settings (keys ``family``, ``min_pixels``, ``max_pixels``,
        ``coordinate_keys``, ``convention``); values that make no sense read as not set."""
        family = ModelFamily.from_name(str(settings.get("family") or cls.family)).name
        keys = settings.get("coordinate_keys")
        try:
            keys = key_list(keys) if isinstance(keys, (list, str)) else ()
        except GroundingError:
            keys = ()  # settings written by hand that make no sense read as none
        convention = settings.get("convention")
        if convention not in {c.value for c in CoordinateConvention}:
            convention = None
        return cls(family, settings.get("min_pixels") or None, settings.get("max_pixels") or None, keys, convention)

    def unsaved(self, family: str | None, min_pixels: float | None, max_pixels: float | None,
                coordinate_keys: str | None, convention: str | None = "") -> tuple[str, ...]:
        """What a page's settings fields say that these (the dataset's) settings do not, in words.

        >>> Reading("qwen2.5-vl").unsaved("qwen2-vl", None, 100_000, "")
        ('family qwen2-vl (the dataset: qwen2.5-vl)', "max_pixels 100000 (the dataset: the family's)")
        """
        def number(value: float | None) -> int | None:
            return int(value) if value else None

        def shown(value: object) -> str:
            return "the family's" if value is None else str(value)

        differences = []
        if family and family != self.family:
            differences.append(f"family {family} (the dataset: {self.family})")
        for name, field_value, stored in (("min_pixels", number(min_pixels), self.min_pixels),
                                          ("max_pixels", number(max_pixels), self.max_pixels)):
            if field_value != stored:
                differences.append(f"{name} {shown(field_value)} (the dataset: {shown(stored)})")
        try:
            keys: tuple[str, ...] | None = tuple(key_list(coordinate_keys or ""))
        except GroundingError:
            keys = None
        if keys != self.coordinate_keys:
            differences.append(f"coordinate keys {coordinate_keys or 'none'!s} (the dataset: "
                               f"{', '.join(self.coordinate_keys) or 'none'})")
        if convention != "" and (convention or None) != self.convention:  # "": the page has no such field
            differences.append(f"coordinates {convention or 'the family’s'} (the dataset: "
                               f"{self.convention or 'the family’s'})")
        return tuple(differences)

    def as_dict(self) -> dict[str, Any]:
        """The settings as a run records them (keys and convention only when there are some)."""
        limits = self.limits
        out: dict[str, Any] = {"family": self.family, "min_pixels": limits.min_pixels,
                               "max_pixels": limits.max_pixels}
        if self.convention:
            out["convention"] = self.convention
        if self.coordinate_keys:
            out["coordinate_keys"] = list(self.coordinate_keys)
        return out


@dataclass(frozen=True)
class Generation:
    """How the model generates: its token budget for the answer, sampling, thinking, log-probabilities."""

    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    temperature: float = 0.0
    thinking: bool = False
    """Let the model reason first where its chat template has the switch (off: grounding needs no reasoning)."""
    logprobs: int = 0
    """Alternatives per token asked for the boxes' confidence (0: none)."""

    def __post_init__(self) -> None:
        if self.max_new_tokens < 1:
            raise WorkbenchError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise WorkbenchError(f"temperature must not be negative, got {self.temperature}")


@dataclass(frozen=True)
class RunSettings:
    """Everything a model run is asked with (what to ask, and on which items, is the caller's)."""

    source: ModelSource = field(default_factory=ModelSource)
    reading: Reading = field(default_factory=Reading)
    generation: Generation = field(default_factory=Generation)

    @property
    def family_hint(self) -> str | None:
        """The family to give a served model whose name may not tell it (the reading's)."""
        return self.reading.family if self.source.backend == "openai" else None
