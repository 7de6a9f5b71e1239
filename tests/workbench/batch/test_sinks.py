"""Sinks: the in-memory one and the JSONL file that survives kills."""

from __future__ import annotations

import json

import pytest

from grounding import PixelLimits, process_size
from workbench.backends import RawOutput
from workbench.batch import (
    JobSettings,
    JsonlSink,
    MemorySink,
    ResultSink,
    UnitError,
    WorkUnit,
    unit_result,
)
from workbench.errors import WorkbenchError

SETTINGS = JobSettings("m", "qwen2.5-vl", PixelLimits(3136, 1003520))


def result_for(key: str, text: str = '[{"bbox_2d": [0, 0, 322, 238], "label": "cat"}]'):
    unit = WorkUnit(key, (f"{key}.png",), prompt="Find cats.")
    output = RawOutput(text, (process_size((640, 480), "qwen2.5-vl", SETTINGS.limits),), "m", limits=SETTINGS.limits)
    return unit, unit_result(unit, SETTINGS, output)


@pytest.mark.parametrize("make", [pytest.param(MemorySink, id="memory"), pytest.param(None, id="jsonl")])
def test_sinks_follow_the_protocol(make, tmp_path):
    sink = make() if make else JsonlSink(tmp_path / "out.jsonl")
    assert isinstance(sink, ResultSink)
    unit, result = result_for("a")
    assert not sink.done("a", result.settings_key)
    sink.fail(unit, UnitError(result.settings_key, "server answered 500", "backend"))
    assert not sink.done("a", result.settings_key)
    sink.write(result)
    assert sink.done("a", result.settings_key)
    assert not sink.done("a", "another-settings")


def test_jsonl_records_read_back_and_resume(tmp_path):
    path = tmp_path / "out.jsonl"
    with JsonlSink(path) as sink:
        _unit, result = result_for("a")
        sink.write(result)
        sink.fail(WorkUnit("b", ("b.png",), prompt="p"), UnitError("k", "b.png: not an image", "input"))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [(r["kind"], r["unit_key"]) for r in lines] == [("result", "a"), ("failure", "b")]
    assert lines[0]["images"][0]["detections"][0]["original"] == [0.0, 0.0, 320.0, 240.0]
    assert lines[0]["limits"] == {"min_pixels": 3136, "max_pixels": 1003520}
    assert lines[1]["message"] == "b.png: not an image" and lines[1]["images"] == ["b.png"]
    reopened = JsonlSink(path)
    assert reopened.done("a", result.settings_key) and not reopened.done("b", "k")
    assert reopened.repaired is None


def test_an_unfinished_last_line_is_dropped_and_its_unit_redone(tmp_path):
    path = tmp_path / "out.jsonl"
    with JsonlSink(path) as sink:
        _, first = result_for("a")
        sink.write(first)
    whole = path.read_bytes()
    _, second = result_for("b")
    path.write_bytes(whole + json.dumps({"kind": "result", **second.as_dict()}).encode()[:57])
    sink = JsonlSink(path)
    assert "unfinished last line" in sink.repaired
    assert path.read_bytes() == whole
    assert sink.done("a", first.settings_key) and not sink.done("b", second.settings_key)
    sink.write(second)
    sink.close()
    assert [json.loads(line)["unit_key"] for line in path.read_text().splitlines()] == ["a", "b"]


def test_a_damaged_line_in_the_middle_is_refused_not_dropped(tmp_path):
    path = tmp_path / "out.jsonl"
    _, result = result_for("a")
    path.write_text("{broken\n" + json.dumps({"kind": "result", **result.as_dict()}) + "\n")
    with pytest.raises(WorkbenchError, match="line 1 is not a batch record"):
        JsonlSink(path)
    assert path.read_text().startswith("{broken\n")


def test_memory_sink_tells_what_was_written_twice():
    sink = MemorySink()
    for key in ("a", "b", "a"):
        sink.write(result_for(key)[1])
    assert sink.written_twice() == ["a"]
