"""stream_grounding: text pieces, then a run merged into the session as it is when the model ends."""

from __future__ import annotations

from PIL import Image

from workbench.backends import FakeBackend
from workbench.run_settings import ModelSource
from workbench.services import Services
from workbench.tryit.stream import FinishedRun, stream_grounding
from workbench.tryit.uploads import load_upload
from workbench.tryit.workspace import Workspace


def _setup(tmp_path, family: str, answer: str):
    Image.new("RGB", (640, 480)).save(tmp_path / "a.png")
    Image.new("RGB", (300, 500)).save(tmp_path / "b.png")
    services = Services.create(tmp_path / "data", backend_factory=lambda kind, **o: FakeBackend(
        lambda request, geometry: answer, family=family))
    ws = Workspace()
    entries = [load_upload(tmp_path / n, tmp_path / "display") for n in ("a.png", "b.png")]
    return services, ws.with_images(ws.images.add(entries))


def test_pieces_then_one_finished_run(tmp_path):
    answer = '[{"bbox_2d": [322, 238, 644, 476], "label": "cat", "image": 1}]'
    services, ws = _setup(tmp_path, "qwen2.5-vl", answer)
    events = list(stream_grounding(services, ModelSource("local"), ws, "find the cat"))
    assert "".join(e for e in events if isinstance(e, str)) == answer
    assert isinstance(events[-1], FinishedRun) and sum(isinstance(e, FinishedRun) for e in events) == 1
    ws = events[-1].apply(ws)
    assert [(d.label, d.original) for d in ws.result.detections] == [("cat", (320.0, 240.0, 640.0, 480.0))]


def test_a_rename_made_while_the_model_runs_is_followed(tmp_path):
    services, ws = _setup(tmp_path, "qwen2.5-vl", '[{"bbox_2d": [0, 0, 10, 10], "label": "dog", "image": 2}]')
    finished = list(stream_grounding(services, ModelSource("local"), ws, "find the dog"))[-1]
    after = finished.apply(ws.rename("img2", "back"))
    assert after.images.ids == ("img1", "back")
    assert [d.label for d in after.run.detections_for("back")] == ["dog"] and after.run.detections_for("img1") == ()


def test_a_model_of_another_family_is_run_with_its_own_limits_and_said_so(tmp_path):
    services, ws = _setup(tmp_path, "qwen3-vl", '[{"bbox_2d": [0, 0, 500, 500], "label": "cat", "image": 1}]')
    finished = list(stream_grounding(services, ModelSource("local"), ws, "find the cat"))[-1]
    assert finished.output.images[0].family.name == "qwen3-vl"
    ws = finished.apply(ws)
    assert any("is a qwen3-vl model, not qwen2.5-vl" in w for w in ws.run.warnings)
    assert ws.result.detections[0].original == (0.0, 0.0, 320.0, 240.0)  # 0-1000 of 640 x 480
