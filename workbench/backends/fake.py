"""A backend that answers with a function of the request: for tests and demos of the UI.

Like httpx's ``MockTransport``: the geometry is real (:func:`grounding.process_size` on
each image's real size, with the given limits); only the text comes from ``handler``.

>>> import io
>>> from PIL import Image
>>> buffer = io.BytesIO(); Image.new("RGB", (640, 480)).save(buffer, "PNG")
>>> backend = FakeBackend(lambda request, images: '[{"bbox_2d": [0, 0, 644, 476], "label": "all"}]')
>>> output = backend.generate(GroundingRequest(images=(buffer.getvalue(),), prompt="Find all."))
>>> output.images[0].resized_wh, output.text[:12]
((644, 476), '[{"bbox_2d":')
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence

from grounding import (
    DEFAULT_FAMILY,
    ModelFamily,
    PixelLimits,
    ProcessedImage,
    process_size,
)
from workbench.backends.base import (
    GroundingRequest,
    RawOutput,
    StreamEvent,
    StreamingBackend,
    TextDelta,
)
from workbench.backends.conversation import request_messages
from workbench.backends.media import original_wh
from workbench.errors import BackendError

__all__ = ["FakeBackend"]

Handler = Callable[[GroundingRequest, Sequence[ProcessedImage]], str]


class FakeBackend(StreamingBackend):
    """Answers ``handler(request, geometry)``, streamed word by word."""

    def __init__(
        self, handler: Handler, *, family: ModelFamily | str = DEFAULT_FAMILY, limits: PixelLimits | None = None,
        model: str = "fake",
    ) -> None:
        self._handler = handler
        self._family = ModelFamily.from_name(family)
        self.limits = limits or PixelLimits.default_for(self._family)
        self._model = model

    @property
    def model(self) -> str:
        return self._model

    def family(self) -> ModelFamily:
        return self._family

    def messages(self, request: GroundingRequest) -> list[dict]:
        """The chat messages a real backend would build (image placeholders, labels as text parts)."""
        return request_messages(request)

    def stream(self, request: GroundingRequest) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        limits = request.limits or self.limits
        try:
            geometry = tuple(process_size(original_wh(image), self._family, limits) for image in request.images)
        except ValueError as exc:  # as the real backends do: an image the model cannot take
            raise BackendError(str(exc)) from None
        text = self._handler(request, geometry)
        for piece in re.findall(r"\S+\s*|\s+", text):
            yield TextDelta(piece)
        yield RawOutput(
            text=text, images=geometry, model=self._model, max_new_tokens=request.max_new_tokens,
            limits=limits, total_s=time.perf_counter() - started,
        )
