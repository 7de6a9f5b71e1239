"""Run every benchmark and write one summary table: ``python -m bench [--quick] [--only NAME...] [--list]``.

Each benchmark runs as its own process (``python bench/NAME.py ARGS``, repository root on the
path), writes ``bench/results/NAME.json`` with summary rows (:mod:`bench._record`), and this
runner gathers the rows into ``bench/results/SUMMARY.md`` and ``SUMMARY.json``: benchmark, ours,
peer, ratio, goal, pass. A benchmark whose script is not there, whose requirement is missing,
that fails or that runs past its time limit gets a row saying so; the others still run.

To add a benchmark: write ``bench/NAME.py`` that calls ``write_record(NAME, details, rows=[...])``
and add one :class:`Benchmark` line to ``BENCHMARKS`` (with ``--quick`` arguments for a CI-sized run).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench._record import RESULTS, read_rows

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"


def _chromium() -> str | None:
    found = os.environ.get("WORKBENCH_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
    return None if Path(found).exists() else "no chromium (the browser benchmark needs Debian chromium)"


@dataclass(frozen=True)
class Benchmark:
    """A script ``bench/NAME.py``, the arguments of a full and of a quick run, and an optional check."""

    name: str
    about: str
    full: tuple[str, ...] = ()
    quick: tuple[str, ...] = ()
    requires: Callable[[], str | None] | None = None
    """Returns why the benchmark cannot run here, or None."""

    @property
    def script(self) -> Path:
        return BENCH / f"{self.name}.py"

    def missing(self) -> str | None:
        if not self.script.exists():
            return f"not present (no bench/{self.name}.py)"
        return self.requires() if self.requires else None

    def command(self, quick: bool) -> list[str]:
        return [sys.executable, str(self.script), *(self.quick if quick else self.full)]


BENCHMARKS: tuple[Benchmark, ...] = (
    Benchmark("geometry_header_vs_processor", "geometry from the header vs decode + HF processor",
              quick=("--count", "10")),
    Benchmark("parse_throughput", "parse + convert vs supervision from_vlm", quick=("--count", "1000", "--repeats", "1")),
    Benchmark("parse_fuzz", "mutated outputs never raise", quick=("--count", "5000")),
    Benchmark("parse_vs_supervision", "boxes read per input vs supervision"),
    Benchmark("draw_time", "12 MP JPEG + 50 boxes -> drawn display copy", quick=("--repeats", "3")),
    Benchmark("backend_overhead", "time outside generate, tiny model, 64 new tokens",
              quick=("--requests", "6")),
    Benchmark("backend_batch", "local backend: batched vs one-by-one items/s", quick=("--items", "4")),
    Benchmark("export_formats", "export formats vs a read + copy + JSON + zip floor, upright and rotated-photo sets",
              quick=("--samples", "500", "--images", "600")),
    Benchmark("store_latency", "store edit latency vs bare SQLite commit", quick=("--edits", "50")),
    Benchmark("review_latency", "browser at 100k items: queue page, next item, accept and next",
              quick=("--items", "5000", "--repeats", "5"), requires=_chromium),
    Benchmark("review_hands", "browser: 50 12 MP photos reviewed by keyboard, key -> next item; zoomed crops",
              quick=("--items", "15", "--zooms", "4"), requires=_chromium),
    Benchmark("annotate_throughput", "batch client items/s vs a raw HTTP client against transformers serve",
              quick=("--items", "12", "--rounds", "1")),
    Benchmark("multi_image_cost", "canvas, step-by-step, order probe, tiles vs one request (tiny model)"),
    Benchmark("review_order", "simulated review: wrong boxes in the first 30 % by confidence vs file order, random",
              quick=("--items", "80", "--calibrate-on", "35", "--seeds", "7")),
    Benchmark("eval_throughput", "eval items/s vs a raw HTTP client (fake server); metrics vs COCOeval",
              quick=("--items", "16", "--rounds", "1", "--metric-items", "2000")),
    Benchmark("load_attack", "20 visitors with and without an attacker (imports, zip and pixel bombs, API attacks): "
              "p95, errors, app memory", quick=("--users", "6", "--seconds", "15", "--settle-s", "20", "--rounds", "1")),
)


@dataclass
class Outcome:
    benchmark: Benchmark
    status: str
    """ran, skipped, failed or timeout"""
    seconds: float
    rows: list[dict]
    reason: str = ""


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else ""


def run_one(bench: Benchmark, quick: bool, timeout: float) -> Outcome:
    """Run one benchmark in its own process and read the rows its record got in this run."""
    missing = bench.missing()
    if missing:
        return Outcome(bench, "skipped", 0.0, [], missing)
    record = RESULTS / f"{bench.name}.json"
    started = time.time()
    env = os.environ | {"PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    print(f"== {bench.name}: {' '.join(bench.command(quick)[1:])}", flush=True)
    try:
        done = subprocess.run(bench.command(quick), cwd=ROOT, env=env, timeout=timeout,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    except subprocess.TimeoutExpired:
        return Outcome(bench, "timeout", time.time() - started, [], f"ran past {timeout:.0f} s")
    seconds = time.time() - started
    print(done.stdout[-3000:], flush=True)
    if done.returncode != 0:
        return Outcome(bench, "failed", seconds, [], f"exit {done.returncode}: {_last_line(done.stdout)}")
    if not record.exists() or record.stat().st_mtime < started - 1:
        return Outcome(bench, "failed", seconds, [], f"wrote no bench/results/{bench.name}.json")
    rows = read_rows(record)
    return Outcome(bench, "ran", seconds, rows, "" if rows else "record has no summary rows")


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    if value == 0 or 0.01 <= abs(value) < 100_000:
        return f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:.3g}"


def table_rows(outcomes: Sequence[Outcome]) -> list[dict]:
    """One summary row per record row; one row per benchmark that gave none (skipped, failed, no rows)."""
    rows = []
    for outcome in outcomes:
        if outcome.rows:
            rows.extend({**row, "script": outcome.benchmark.name, "status": outcome.status} for row in outcome.rows)
        else:
            rows.append({"benchmark": outcome.benchmark.name, "ours": None, "peer": None, "ratio": None, "goal": None,
                         "pass": None, "units": "", "notes": f"{outcome.status}: {outcome.reason}".rstrip(": "),
                         "script": outcome.benchmark.name, "status": outcome.status})
    return rows


def merged(previous: Sequence[dict], fresh: Sequence[dict], rerun: set[str]) -> list[dict]:
    """The previous summary's rows with those of the benchmarks run again replaced, in registry order.

    >>> old = [{"script": "draw_time", "v": 1}, {"script": "backend_batch", "v": 2}]
    >>> [r["v"] for r in merged(old, [{"script": "draw_time", "v": 3}], {"draw_time"})]
    [3, 2]
    """
    order = {bench.name: index for index, bench in enumerate(BENCHMARKS)}
    kept = [row for row in previous if row.get("script") not in rerun]
    return sorted([*kept, *fresh], key=lambda row: order.get(row.get("script"), len(order)))


def verdicts(rows: Sequence[dict]) -> str:
    """One sentence counting the rows that pass and naming those that fail (from the rows, never typed in).

    >>> verdicts([{"benchmark": "a", "pass": True}, {"benchmark": "b", "pass": False}, {"benchmark": "c", "pass": None}])
    '2 rows with a goal: 1 pass, 1 fail (b); 1 without a goal.'
    """
    judged = [row for row in rows if row.get("pass") is not None]
    failed = [row["benchmark"] for row in judged if not row["pass"]]
    text = f"{len(judged)} rows with a goal: {len(judged) - len(failed)} pass, {len(failed)} fail"
    return text + (f" ({'; '.join(failed)})" if failed else "") + f"; {len(rows) - len(judged)} without a goal."


def markdown(rows: Sequence[dict], quick: bool, updated: Sequence[str] = (),
             load: tuple[float, float] | None = None) -> str:
    """The summary table; ``load``: the 1-minute load average when the run started and ended."""
    verdict = {True: "pass", False: "**FAIL**", None: "—"}
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    run = (f"Rows of {', '.join(updated)} rerun {when} (`--only`); the others from the run before"
           if updated else f"{'Quick' if quick else 'Full'} run of `python -m bench{' --quick' if quick else ''}`, {when}")
    lines = [
        "# Benchmark summary",
        "",
        f"{run}; {os.cpu_count()} CPUs, Python {sys.version.split()[0]}"
        + (f", load average {load[0]:.1f} at the start and {load[1]:.1f} at the end" if load else "") + ". "
        "ratio = ours / peer, both measured in the same run; each script's JSON record beside this file has "
        "the details.",
        "",
        verdicts(rows),
        "",
        "| benchmark | ours | peer | ratio | goal | pass | notes |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        units = f" {row['units']}" if row.get("units") else ""
        ours = _number(row["ours"]) + (units if row["ours"] is not None else "")
        peer = _number(row["peer"]) + (units if row["peer"] is not None else "")
        cells = [row["benchmark"], ours, peer, _number(row["ratio"]), row["goal"] or "—", verdict[row["pass"]],
                 str(row.get("notes") or "")]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CI-sized runs (fewer repeats and items)")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these benchmarks")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and whether each can run here")
    parser.add_argument("--timeout", type=float, default=None,
                        help="seconds per benchmark (default 300 with --quick, 1800 otherwise)")
    args = parser.parse_args(argv)

    if args.list:
        for bench in BENCHMARKS:
            state = bench.missing() or "ready"
            print(f"{bench.name:30s} {state:40s} {bench.about}")
        return 0
    known = {bench.name: bench for bench in BENCHMARKS}
    unknown = sorted(set(args.only or ()) - set(known))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; see --list")
    chosen = [known[name] for name in args.only] if args.only else list(BENCHMARKS)
    timeout = args.timeout or (300.0 if args.quick else 1800.0)

    load_before = os.getloadavg()[0]
    outcomes = [run_one(bench, args.quick, timeout) for bench in chosen]
    load = (load_before, os.getloadavg()[0])
    rows = table_rows(outcomes)
    summary = RESULTS / "SUMMARY.json"
    updated: list[str] = []
    if args.only and summary.exists():  # keep the other benchmarks' rows of the last run
        previous = json.loads(summary.read_text(encoding="utf-8"))
        if previous.get("quick") == args.quick:
            updated = [bench.name for bench in chosen]
            rows = merged(previous.get("rows", []), rows, set(updated))
    RESULTS.mkdir(exist_ok=True)
    text = markdown(rows, args.quick, updated, load)
    (RESULTS / "SUMMARY.md").write_text(text, encoding="utf-8")
    (RESULTS / "SUMMARY.json").write_text(json.dumps({
        "quick": args.quick, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "benchmarks": [{"name": o.benchmark.name, "status": o.status, "seconds": round(o.seconds, 1),
                        "reason": o.reason} for o in outcomes],
        "rows": rows,
    }, indent=2), encoding="utf-8")
    print(text)
    print(f"wrote {RESULTS / 'SUMMARY.md'} and SUMMARY.json")
    return 1 if any(o.status in ("failed", "timeout") for o in outcomes) else 0


if __name__ == "__main__":
    raise SystemExit(main())
