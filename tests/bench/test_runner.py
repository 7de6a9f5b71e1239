"""python -m bench: the registry, the record rows and the summary table (no timings are checked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import BENCHMARKS, Benchmark, Outcome, markdown, run_one, table_rows
from bench._record import Goal, Row, read_rows, write_record

ROOT = Path(__file__).resolve().parents[2]


def test_list_names_every_benchmark_and_whether_it_can_run():
    env = os.environ | {"PYTHONPATH": os.pathsep.join(filter(None, (str(ROOT), os.environ.get("PYTHONPATH"))))}
    done = subprocess.run([sys.executable, "-m", "bench", "--list"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=True)
    listed = [line.split()[0] for line in done.stdout.splitlines() if line.strip()]
    assert listed == [bench.name for bench in BENCHMARKS]
    for name in ("draw_time", "backend_overhead", "backend_batch"):
        assert f"{name} " in done.stdout


@pytest.mark.parametrize(
    ("row", "ratio", "passed", "goal"),
    [
        pytest.param(Row("t", ours=24.0, units="ms", peer=150.0, goal=Goal.ours_at_most(30)), 0.16, True,
                     "ours ≤ 30 ms", id="time-under-limit"),
        pytest.param(Row("r", ours=900.0, units="outputs/s", peer=1000.0, goal=Goal.ratio_at_least(1)), 0.9, False,
                     "ratio ≥ 1", id="throughput-below-peer"),
        pytest.param(Row("n", ours=3.0, units="%", goal=Goal.ratio_at_most(1)), None, None, "ratio ≤ 1",
                     id="ratio-goal-without-peer"),
        pytest.param(Row("g", ours=5.0, units="s"), None, None, None, id="no-goal"),
    ],
)
def test_rows_compute_ratio_and_pass(row, ratio, passed, goal):
    data = row.as_dict()
    assert (None if data["ratio"] is None else round(data["ratio"], 2)) == ratio
    assert data["pass"] is passed and data["goal"] == goal
    assert set(data) >= {"benchmark", "ours", "peer", "ratio", "goal", "pass", "units", "notes"}


def test_a_record_keeps_its_rows(tmp_path, monkeypatch):
    import bench._record as record

    monkeypatch.setattr(record, "RESULTS", tmp_path)
    path = write_record("demo", {"detail": 1}, rows=[Row("demo row", ours=2.0, units="ms", peer=4.0,
                                                         goal=Goal.ours_at_most(3))])
    assert json.loads(path.read_text())["detail"] == 1
    assert read_rows(path) == [Row("demo row", ours=2.0, units="ms", peer=4.0, goal=Goal.ours_at_most(3)).as_dict()]


def test_missing_benchmarks_are_skipped_with_the_reason():
    outcome = run_one(Benchmark("no_such_benchmark", "not written yet"), quick=True, timeout=10)
    assert outcome.status == "skipped" and "not present" in outcome.reason
    chromium_missing = Benchmark("draw_time", "x", requires=lambda: "no chromium")
    assert run_one(chromium_missing, quick=True, timeout=10).reason == "no chromium"


def test_summary_table_has_the_columns_and_a_line_for_each_outcome():
    ran = Outcome(BENCHMARKS[0], "ran", 1.0, [Row("fast | thing", ours=1.0, units="ms", peer=2.0,
                                                   goal=Goal.ours_at_most(0.5)).as_dict()])
    skipped = Outcome(Benchmark("later", "x"), "skipped", 0.0, [], "not present (no bench/later.py)")
    text = markdown(table_rows([ran, skipped]), quick=True)
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("| benchmark"))
    assert header.split("|")[1:7] == [" benchmark ", " ours ", " peer ", " ratio ", " goal ", " pass "]
    assert "| fast \\| thing | 1 ms | 2 ms | 0.5 | ours ≤ 0.5 ms | **FAIL** |" in text
    assert "| later | — | — | — | — | — | skipped: not present (no bench/later.py) |" in text
