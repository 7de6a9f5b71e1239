"""Check how a server resizes images before trusting its boxes.

A server may resize with pixel limits other than the ones the workbench converts with (a
vLLM started with other ``--mm-processor-kwargs``, a per-request setting it ignores), and then
every box of a batch is off. The server says how many visual tokens it used: its
``usage.prompt_tokens``. So, before a batch, three probe images of known sizes go out with
the same prompt and the same limit fields the batch will send:

- *small*, below ``min_pixels`` (the server scales it up to its min),
- *neutral*, well inside the limits (no limit applies: it measures the text tokens),
- *big*, above ``max_pixels`` (the server scales it down to its max).

For the limits the workbench uses, :func:`grounding.process_size` gives each probe's visual
tokens; the prompt tokens minus them must be the same number (the text) for all three. If
not, the check refuses, with what the server's limits measure instead and which known
presets would match.

>>> from grounding import PixelLimits
>>> [wh for wh in probe_sizes("qwen2.5-vl", PixelLimits(3136, 200704))]
[(29, 22), (183, 137), (578, 434)]
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image

from grounding import ModelFamily, PixelLimits, process_size
from grounding.convention_probe import limits_fitting_tokens
from workbench.backends.base import GroundingRequest
from workbench.errors import BackendError
from workbench.presets import presets_for

__all__ = ["GeometryMismatch", "ProbeReading", "GeometryReport", "probe_sizes", "read_server_geometry", "check_server_geometry"]

PROBE_PROMPT = "Describe the image."


class GeometryMismatch(BackendError):
    """The server resizes images with other limits than the workbench would convert boxes with."""


@dataclass(frozen=True)
class ProbeReading:
    """One probe: its size, the prompt tokens the server reported, the visual tokens our limits give."""

    name: str
    size_wh: tuple[int, int]
    prompt_tokens: int
    expected_visual: int


@dataclass(frozen=True)
class GeometryReport:
    """The probes of one server and what they say."""

    server: str
    family: ModelFamily
    limits: PixelLimits
    readings: tuple[ProbeReading, ...]

    @property
    def text_tokens(self) -> int:
        """Prompt tokens besides the image, measured on the neutral probe."""
        neutral = self.readings[1]
        return neutral.prompt_tokens - neutral.expected_visual

    def measured_visual(self) -> tuple[int, ...]:
        """Visual tokens the server used for each probe."""
        return tuple(r.prompt_tokens - self.text_tokens for r in self.readings)

    @property
    def agrees(self) -> bool:
        return len({r.prompt_tokens - r.expected_visual for r in self.readings}) == 1

    def matching_presets(self) -> list[str]:
        """Known presets of the family that reproduce every reading (same text tokens for all probes)."""
        presets = presets_for(self.family)
        fitting = set(limits_fitting_tokens(self.family, [(r.size_wh, r.prompt_tokens) for r in self.readings],
                                            [preset.limits for preset in presets]))
        return [f"{preset.name} (min_pixels={preset.limits.min_pixels}, max_pixels={preset.limits.max_pixels})"
                for preset in presets if preset.limits in fitting]

    def estimate(self) -> str:
        """What the server's limits measure, in words."""
        area = self.family.factor**2
        small, _, big = self.readings
        v_small, _, v_big = self.measured_visual()
        unscaled_small = process_size(small.size_wh, self.family, PixelLimits(1, 1 << 40)).tokens
        unscaled_big = process_size(big.size_wh, self.family, PixelLimits(1, 1 << 40)).tokens
        if v_big == big.expected_visual:
            high = "max_pixels as the workbench's"
        elif v_big >= unscaled_big:
            high = f"max_pixels above {big.size_wh[0] * big.size_wh[1]} (the {_wh(big)} probe was not scaled down)"
        else:
            high = f"max_pixels about {v_big * area} ({_wh(big)} probe: {v_big} visual tokens, the workbench expects {big.expected_visual})"
        if v_small == small.expected_visual:
            low = "min_pixels as the workbench's"
        elif v_small <= unscaled_small:
            low = f"min_pixels at most {small.size_wh[0] * small.size_wh[1]} (the {_wh(small)} probe was not scaled up)"
        else:
            low = f"min_pixels about {v_small * area} ({_wh(small)} probe: {v_small} visual tokens, the workbench expects {small.expected_visual})"
        return f"{low}; {high}"

    def message(self) -> str:
        ours = f"min_pixels={self.limits.min_pixels}, max_pixels={self.limits.max_pixels}"
        if self.agrees:
            return f"{self.server}: resizes like {self.family.name} with {ours} ({len(self.readings)} probes agree)"
        readings = ", ".join(f"{_wh(r)}: {r.prompt_tokens} prompt tokens" for r in self.readings)
        lines = [
            f"{self.server} resizes images with other limits than the workbench ({self.family.name}, {ours}):",
            f"  measured: {self.estimate()}",
            f"  probes: {readings}",
        ]
        matches = self.matching_presets()
        if matches:
            lines.append("  these settings match the server: " + "; ".join(matches))
        lines.append(
            "  boxes would be converted with the wrong geometry: start the server with the same limits, "
            "or give the workbench the server's limits (--min-pixels/--max-pixels)"
        )
        return "\n".join(lines)


def _wh(reading: ProbeReading) -> str:
    return f"{reading.size_wh[0]}x{reading.size_wh[1]}"


def _sized(area: float, aspect: float = 4 / 3) -> tuple[int, int]:
    w = max(1, round(math.sqrt(area * aspect)))
    return w, max(1, round(w / aspect))


def probe_sizes(family: ModelFamily | str, limits: PixelLimits) -> tuple[tuple[int, int], ...]:
    """Small (area under ``min_pixels``), neutral (well inside), big (over ``max_pixels``), all 4:3.

    The neutral probe sits at the geometric middle of the limits, a factor of at least 4 away
    from either end when the limits allow it.
    """
    family = ModelFamily.from_name(family)
    low, high = limits.min_pixels, limits.max_pixels
    middle = min(max(math.sqrt(low * high), 4 * low), max(high / 4, low))
    return _sized(low / 5), _sized(middle), _sized(high * 1.25)


def _png(size_wh: tuple[int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size_wh, (128, 128, 128)).save(buffer, "PNG")
    return buffer.getvalue()


def read_server_geometry(backend, limits: PixelLimits | None = None) -> GeometryReport:
    """Send the three probes through ``backend`` (an OpenAI-compatible backend) and collect the readings."""
    family = backend.family()
    limits = limits or backend.limits
    readings = []
    for name, size in zip(("small", "neutral", "big"), probe_sizes(family, limits)):
        request = GroundingRequest(images=(_png(size),), prompt=PROBE_PROMPT, max_new_tokens=1, limits=limits)
        output = backend.generate(request)
        if output.prompt_tokens is None:
            raise BackendError(
                f"{backend.base_url} does not report usage.prompt_tokens, so its resizing cannot be checked; "
                "skip the check only if you know the server's pixel limits match"
            )
        readings.append(ProbeReading(name, size, int(output.prompt_tokens), process_size(size, family, limits).tokens))
    return GeometryReport(server=backend.base_url, family=family, limits=limits, readings=tuple(readings))


def check_server_geometry(backend, limits: PixelLimits | None = None) -> list[GeometryReport]:
    """Probe every server behind ``backend`` (one, or each replica of a pool); raise
    :class:`GeometryMismatch` with the measured limits when any disagrees."""
    servers: Sequence = [r.backend for r in backend.replicas] if hasattr(backend, "replicas") else [backend]
    reports = [read_server_geometry(server, limits) for server in servers]
    wrong = [report for report in reports if not report.agrees]
    if wrong:
        raise GeometryMismatch("\n".join(report.message() for report in wrong))
    return reports
