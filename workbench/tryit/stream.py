"""Run grounding for a workspace: stream the model's text, then parse it with the geometry of the call.

>>> import tempfile, pathlib
>>> from PIL import Image
>>> from workbench.backends import FakeBackend
>>> from workbench.run_settings import ModelSource
>>> from workbench.tryit.uploads import load_upload
>>> from workbench.services import Services
>>> folder = pathlib.Path(tempfile.mkdtemp()); Image.new("RGB", (640, 480)).save(folder / "a.png")
>>> services = Services.create(folder, backend_factory=lambda kind, **o: FakeBackend(
...     lambda request, geometry: '[{"bbox_2d": [0, 0, 644, 476], "label": "cat"}]', family="qwen2.5-vl"))
>>> ws = Workspace().with_images(Workspace().images.add([load_upload(folder / "a.png", folder / "display")]))
>>> events = list(stream_grounding(services, ModelSource("local"), ws, "find the cat"))
>>> [d.original for d in events[-1].apply(ws).result.detections]
[(0.0, 0.0, 640.0, 480.0)]
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from grounding import PixelLimits
from workbench.backends import GroundingRequest, RawOutput, TextDelta
from workbench.errors import BackendError
from workbench.run_settings import DEFAULT_MAX_NEW_TOKENS, ModelSource
from workbench.services import Services
from workbench.tryit.workspace import Workspace, WorkspaceError

__all__ = ["FinishedRun", "stream_grounding"]


@dataclass(frozen=True)
class FinishedRun:
    """A model's answer and the images as they were when the request was sent."""

    output: RawOutput
    sent: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()

    def apply(self, ws: Workspace) -> Workspace:
        """Parse into the workspace as it is now (the user may have changed it while the model ran)."""
        return ws.with_output(self.output.text, images=self.output.images, model=self.output.model,
                              warnings=self.notes + tuple(self.output.warnings), sent=self.sent,
                              limits=self.output.limits)


def stream_grounding(services: Services, settings: ModelSource, ws: Workspace, prompt: str, *,
                     add_vision_id: bool | None = None, max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS) -> Iterator[str | FinishedRun]:
    """Text pieces as they come, then a :class:`FinishedRun` (exactly once, last)."""
    if settings.backend == "paste":
        raise BackendError("paste mode runs no model: parse the pasted output instead")
    ws.geometries()  # every image must be one the model can take, before any model work
    if not prompt.strip():
        raise WorkspaceError("write a prompt first (the template button writes one)")
    backend = services.backend(settings.backend, **settings.backend_options())
    notes: tuple[str, ...] = ()
    limits: PixelLimits | None = ws.limits
    model_family = backend.family()
    if model_family.name != ws.family:
        # the table's limits were chosen for another family; the model's own processor settings apply
        limits = None
        notes = (f"{backend.model} is a {model_family.name} model, not {ws.family}: its own pixel limits were used "
                 f"and boxes were converted with the grid it returned; switch the family on the Images tab to match",)
    request = GroundingRequest(
        images=tuple(entry.path for entry in ws.images),
        prompt=prompt,
        image_ids=ws.images.ids,
        add_vision_id=add_vision_id,
        max_new_tokens=max_new_tokens,
        limits=limits,
    )
    for event in backend.stream(request):
        if isinstance(event, TextDelta):
            yield event.text
        elif isinstance(event, RawOutput):
            yield FinishedRun(event, tuple((entry.image_id, entry.path) for entry in ws.images), notes)
