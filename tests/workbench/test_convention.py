"""The convention probe against servers that answer in each convention (real HTTP on loopback, the real
OpenAI-compatible backend), its CLI, and its verdict saved as a dataset's reading settings."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from grounding import QWEN2_5_VL, QWEN3_5, CoordinateConvention, PixelLimits
from tests.workbench.seeing_server import Answering, seeing_server
from workbench.backends import OpenAICompatibleBackend
from workbench.cli import app
from workbench.convention import ReadingSettings, probe_convention
from workbench.run_settings import Reading
from workbench.runs.items import paste_on_item
from workbench.store import DatasetStore

C = CoordinateConvention
CASES = [
    pytest.param(QWEN2_5_VL, C.ABSOLUTE_RESIZED, None, id="qwen2.5-absolute-resized-checkpoint-limits"),
    pytest.param(QWEN2_5_VL, C.ABSOLUTE_RESIZED, PixelLimits(3136, 1003520), id="qwen2.5-server-max-1003520"),
    pytest.param(QWEN2_5_VL, C.ABSOLUTE_RESIZED, PixelLimits(78400, 12845056), id="ui-tars-like-min-pixels"),
    pytest.param(QWEN2_5_VL, C.ABSOLUTE_ORIGINAL, None, id="qwen2.5-absolute-original"),
    pytest.param(QWEN2_5_VL, C.RELATIVE_1000, None, id="qwen2.5-relative-1000"),
    pytest.param(QWEN3_5, C.RELATIVE_1000, None, id="qwen3.5-relative-1000"),
    pytest.param(QWEN3_5, C.RELATIVE_1, None, id="qwen3.5-relative-1"),
    pytest.param(QWEN3_5, C.RELATIVE_1000_YX, None, id="qwen3.5-relative-1000-y-first"),
    pytest.param(QWEN3_5, C.ABSOLUTE_ORIGINAL_YX, None, id="qwen3.5-absolute-original-y-first"),
    pytest.param(QWEN3_5, C.ABSOLUTE_RESIZED, None, id="qwen3.5-absolute-resized"),
]


def _backend(url: str, family) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend("probe-me", base_url=url, family=family, limits_style="none", max_retries=0)


@pytest.mark.parametrize("usage", [True, pytest.param(False, marks=pytest.mark.slow)], ids=["usage", "no-usage"])
@pytest.mark.parametrize(("family", "convention", "limits"), CASES)
def test_the_probe_names_the_servers_reading_within_three_calls(family, convention, limits, usage):
    server = Answering(family, convention, limits, usage=usage)
    with seeing_server(server) as url:
        report = probe_convention(_backend(url, family))
    assert report.reading is not None, report.message()
    assert report.reading.convention is convention
    if convention.x_first is C.ABSOLUTE_RESIZED:
        assert report.reading.limits == (limits or PixelLimits.default_for(family))
    assert report.calls == len(server.calls) <= 3
    assert report.residual_px is not None and report.residual_px < 1.0
    data = report.as_dict()
    assert list(data) == ["convention", "min_pixels", "max_pixels", "residual_px", "calls"]
    assert data["convention"] == convention.value


def test_prompt_tokens_tell_the_servers_limits_where_it_reports_them():
    limits = PixelLimits(3136, 1003520)
    with seeing_server(Answering(QWEN2_5_VL, C.ABSOLUTE_RESIZED, limits)) as url:
        counted = probe_convention(_backend(url, QWEN2_5_VL))
    assert counted.limits_known and counted.limits == limits == counted.reading.limits
    with seeing_server(Answering(QWEN2_5_VL, C.ABSOLUTE_RESIZED, limits, usage=False)) as url:
        uncounted = probe_convention(_backend(url, QWEN2_5_VL))
    assert not uncounted.limits_known and uncounted.reading.limits == limits  # told by the coordinates alone


def test_a_server_that_writes_no_coordinates_fits_no_reading():
    server = Answering(QWEN2_5_VL, C.ABSOLUTE_RESIZED, garbage=True)
    with seeing_server(server) as url:
        report = probe_convention(_backend(url, QWEN2_5_VL))
    assert report.reading is None and report.decided and report.calls == 1
    assert report.as_dict() == {"convention": None, "min_pixels": None, "max_pixels": None, "residual_px": None,
                                "calls": 1}
    assert "none of the readings fits" in report.message()


def test_cli_json_prints_the_verdict():
    server = Answering(QWEN2_5_VL, C.ABSOLUTE_RESIZED, PixelLimits(3136, 1003520))
    with seeing_server(server) as url:
        result = CliRunner().invoke(app, ["probe-convention", "--base-url", url, "--model", "Qwen/Qwen2.5-VL-7B-Instruct",
                                          "--limits-style", "none", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"convention": "absolute-resized", "min_pixels": 3136, "max_pixels": 1003520,
                                         "residual_px": json.loads(result.output)["residual_px"], "calls": 3}


def test_cli_words_and_a_none_fits_exit_code():
    with seeing_server(Answering(QWEN3_5, C.RELATIVE_1000)) as url:
        words = CliRunner().invoke(app, ["probe-convention", "--base-url", url, "--model", "Qwen/Qwen3.5-9B",
                                         "--limits-style", "none"])
    assert words.exit_code == 0 and "coordinates are relative-1000" in words.output and "wide (1600x400)" in words.output
    with seeing_server(Answering(QWEN3_5, C.RELATIVE_1000, garbage=True)) as url:
        none = CliRunner().invoke(app, ["probe-convention", "--base-url", url, "--model", "Qwen/Qwen3.5-9B",
                                        "--limits-style", "none"])
    assert none.exit_code == 2 and "none of the readings fits" in none.output


def test_the_verdict_saved_as_reading_settings_reads_pasted_answers(tmp_path):
    from PIL import Image

    Image.new("RGB", (1000, 500)).save(tmp_path / "a.png")
    server = Answering(QWEN2_5_VL, C.ABSOLUTE_ORIGINAL_YX)
    with seeing_server(server) as url:
        report = probe_convention(_backend(url, QWEN2_5_VL))
    reading = ReadingSettings.of(report)
    assert reading is not None and reading.convention == "absolute-original-yx"
    with DatasetStore(tmp_path / "db.sqlite3") as store:
        item = store.add_item(store.create_dataset("d"), [tmp_path / "a.png"])
        store.update_dataset_settings(1, {"family": "qwen2.5-vl", **reading.as_dict()})
        settings = Reading.from_dataset(store.dataset_settings(1))
        assert settings.convention == "absolute-original-yx"
        outcome = paste_on_item(store, item.id, '[{"bbox_2d": [50, 100, 250, 300], "label": "cup"}]', settings)
    (box,) = outcome.item.annotations
    assert box.coords == (100.0, 50.0, 300.0, 250.0)
