"""Merged canvas on files and through backends: ``make_canvas``/``workbench canvas``, ``workbench parse
--canvas``, ``ground_canvas`` with known answers (FakeBackend), the tiny model and a real server."""

from __future__ import annotations

import json

import pytest
from PIL import Image
from typer.testing import CliRunner

from grounding import PixelLimits, process_size, to_model
from grounding.canvas import plan_canvas
from tests.cli_text import plain
from tests.grounding.known_answers import answer_text
from workbench.backends import (
    FakeBackend,
    LocalTransformersBackend,
    OpenAICompatibleBackend,
)
from workbench.cli import app
from workbench.errors import WorkbenchError
from workbench.multi.canvas import (
    canvas_detections,
    ground_canvas,
    make_canvas,
    read_layout,
)

SIZES = [(640, 480), (300, 500)]
KNOWN = [(1, (10.5, 20.25, 300.0, 470.0)), (2, (0.0, 0.0, 300.0, 500.0)), (2, (120.0, 200.0, 180.0, 260.0))]


def canvas_answer(layout, geometry) -> str:
    """The known boxes as a model writes them about the canvas, plus one box across the seam."""
    items = [(f"obj{k}", layout.placements[s - 1].to_canvas(box), None) for k, (s, box) in enumerate(KNOWN)]
    first, second = (p.rect for p in layout.placements)
    if second[0] >= first[2]:  # side by side: the seam is upright
        items.append(("across", (first[2] - 30.0, 10.0, second[0] + 10.0, 50.0), None))
    else:  # stacked
        items.append(("across", (10.0, first[3] - 30.0, 50.0, second[1] + 10.0), None))
    return answer_text(items, geometry)


def check_known(detections: list[dict]) -> None:
    assert [d["image"] for d in detections] == [s for s, _ in KNOWN] + [1]
    for detection, (_, box) in zip(detections, KNOWN):
        assert detection["original"] == pytest.approx(list(box), abs=0.5)
        assert detection["original"] == pytest.approx(list(box), abs=1e-6)  # floats written: exact
    across = detections[-1]
    assert across["attributes"]["seam"] and across["attributes"]["clipped"]
    assert across["original"][2] == pytest.approx(640.0) or across["original"][3] == pytest.approx(480.0)


@pytest.mark.parametrize("kind", ["h", "v", "grid"])
@pytest.mark.parametrize("max_pixels", [None, 150_000])
def test_known_answers_through_ground_canvas_land_on_the_sources(two_images, kind, max_pixels, tmp_path):
    layout = plan_canvas(SIZES, kind, max_pixels=max_pixels)
    backend = FakeBackend(lambda request, geometry: canvas_answer(layout, geometry[0]))
    result = ground_canvas(backend, two_images, target="cat", layout=kind, max_pixels=max_pixels, out_dir=tmp_path)
    check_known(result["detections"])
    assert result["canvas_image"]["original"] == list(layout.canvas_wh)
    assert result["warnings"] == ["1 box(es) crossed a seam between images: clipped to the image they overlap most"]
    assert [d["file"] for d in result["detections"]] == [str(two_images[s - 1]) for s, _ in KNOWN] + [str(two_images[0])]
    written, _doc = read_layout(result["layout_file"])
    assert written == layout and Image.open(result["canvas_file"]).size == layout.canvas_wh
    json.dumps(result)


def test_canvas_cli_then_parse_cli_gives_detections_on_the_source_images(two_images, tmp_path):
    runner = CliRunner()
    out = tmp_path / "canvas"
    made = runner.invoke(app, ["canvas", *map(str, two_images), "--layout", "grid", "--max-pixels", "120000",
                               "--gap", "6", "--out", str(out)])
    assert made.exit_code == 0, made.output
    doc = json.loads(made.stdout)
    layout, _ = read_layout(out / "layout.json")
    assert doc["canvas"] == list(layout.canvas_wh) and layout.canvas_wh[0] * layout.canvas_wh[1] <= 120_000
    assert Image.open(out / "canvas.png").size == layout.canvas_wh
    for family in ("qwen2.5-vl", "qwen3-vl"):
        answer = tmp_path / f"answer-{family}.txt"
        answer.write_text(canvas_answer(layout, process_size(layout.canvas_wh, family)))
        parsed = runner.invoke(app, ["parse", "--canvas", str(out / "layout.json"), "--family", family, str(answer)])
        assert parsed.exit_code == 0, parsed.output
        check_known(json.loads(parsed.stdout)["detections"])
    # the limits the model ran with change the canvas geometry, and the boxes still come back
    small = PixelLimits(3136, 64 * 28 * 28)
    answer.write_text(canvas_answer(layout, process_size(layout.canvas_wh, "qwen2.5-vl", small)))
    parsed = runner.invoke(app, ["parse", "--canvas", str(out / "layout.json"), "--max-pixels", str(small.max_pixels), str(answer)])
    check_known(json.loads(parsed.stdout)["detections"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["parse", "-"], "give --original W H (or --canvas LAYOUT.json)", id="no-size"),
        pytest.param(["parse", "--canvas", "{bad}", "-"], "is not JSON", id="bad-layout"),
        pytest.param(["canvas", "{a}", "--layout", "h", "--max-pixels", "2", "--gap", "50", "--out", "{out}"],
                     "cannot make the canvas", id="budget"),
    ],
)
def test_cli_errors_are_words_and_exit_nonzero(two_images, tmp_path, args, message):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    args = [a.format(bad=bad, a=two_images[0], out=tmp_path / "o") for a in args]
    result = CliRunner().invoke(app, [*args, str(two_images[1])] if args[0] == "canvas" else args, input="[]")
    assert result.exit_code != 0
    assert message in plain(result.output)


def test_layout_documents_are_checked(tmp_path, two_images):
    doc = make_canvas(two_images, tmp_path, layout="v")
    with pytest.raises(WorkbenchError, match="the geometry is for"):
        canvas_detections("[]", doc, "qwen2.5-vl", geometry=process_size((10, 10), "qwen2.5-vl"))
    with pytest.raises(WorkbenchError, match="not a canvas layout"):
        read_layout({"layout": "h", "canvas": [1, 1]})
    with pytest.raises(WorkbenchError, match="cannot read"):
        read_layout(tmp_path / "missing.json")


@pytest.mark.slow
@pytest.mark.parametrize("model_fixture", ["tiny_qwen25", "tiny_qwen3"])
def test_tiny_model_sees_the_canvas_with_the_geometry_we_split_with(request, two_images, model_fixture, tmp_path):
    backend = LocalTransformersBackend(str(request.getfixturevalue(model_fixture)), local_files_only=True)
    result = ground_canvas(backend, two_images, target="cat", layout="v", max_pixels=200_000, max_new_tokens=3,
                           out_dir=tmp_path)
    layout, _ = read_layout(result["layout_file"])
    expected = process_size(layout.canvas_wh, backend.family(), backend.effective_limits(backend.load()))
    assert result["canvas_image"]["resized"] == list(expected.resized_wh)
    assert result["finish_reason"] == "length" and result["family"] == backend.family().name
    json.dumps(result)


@pytest.mark.slow
def test_real_server_grounds_the_canvas(serve_url, tiny_qwen25, two_images):
    backend = OpenAICompatibleBackend(str(tiny_qwen25), base_url=serve_url, family="qwen2.5-vl",
                                      limits_style="transformers", timeout=60, max_retries=0)
    result = ground_canvas(backend, two_images, prompt="Find the cats.", layout="grid", max_new_tokens=2)
    assert result["canvas_image"]["original"] == result["layout"]["canvas"]
    assert result["sources"] == [{"image": 1, "file": str(two_images[0]), "original": [640, 480]},
                                 {"image": 2, "file": str(two_images[1]), "original": [300, 500]}]


def test_points_and_known_boxes_through_a_fake_model_that_reads_the_canvas(two_images):
    """The fake model reads the canvas itself (its size) and answers relative-1000 like Qwen3-VL."""
    def answer(request, geometry):
        (canvas,) = request.images
        layout = plan_canvas(SIZES, "h")
        assert canvas.size == layout.canvas_wh
        centre = layout.placements[1].to_canvas((150.0, 250.0))
        return json.dumps([{"point_2d": [float(v) for v in to_model(centre, geometry[0])], "label": "centre"}])

    result = ground_canvas(FakeBackend(answer, family="qwen3-vl"), two_images, target="cat", task="points")
    (point,) = result["detections"]
    assert (point["kind"], point["image"]) == ("point", 2)
    assert point["original"] == pytest.approx([150.0, 250.0])
    assert "point coordinates" in result["prompt"]
