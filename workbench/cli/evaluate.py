"""``workbench eval DATASET ...`` (measure a grid of models, prompts and pixel budgets on the accepted items of
a split) and ``workbench eval compare RUN_A RUN_B`` (two cells' runs, with bootstrap intervals).

The cells run with ``annotate``'s machinery — backends (servers as replicas, or the local model), the
geometry check, the built-in or Ray engine, a progress bar on stderr, Ctrl-C leaving whole answers — each
into its own eval run; running the same command again resumes an unfinished evaluation. Exit codes: 0 when
every cell was measured, 1 for bad input or when a cell failed (the others still ran), 130 when interrupted.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from grounding.parse import coordinate_keys as key_list
from workbench import environment as env
from workbench.cli.annotate import BatchOptions, _terminate_as_interrupt, open_backend
from workbench.cli.data_options import DataDirOption, open_store
from workbench.cli.options import (
    BackendName,
    BackendOption,
    BaseUrlsOption,
    CheckOption,
    ConcurrencyOption,
    Engine,
    EngineOption,
    FamilyNameOption,
    KeysOption,
    LimitsStyleName,
    LimitsStyleOption,
    MaxNewTokensOption,
    MinPixelsOption,
    TimeoutOption,
    WaitOption,
)
from workbench.errors import USER_ERRORS
from workbench.evaluate import EvalGrid, EvalSetup, plan_evaluation, run_evaluation
from workbench.evaluate.compare import RunComparison, compare_runs
from workbench.evaluate.grid import served_family
from workbench.evaluate.report import cell_json
from workbench.run_settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_SERVER_WAIT_S,
    DEFAULT_TIMEOUT_S,
    Reading,
)
from workbench.store import Evaluation, EvaluationCell

__all__ = ["register"]


class _RunByDefault(TyperGroup):
    """``workbench eval DATASET ...`` runs an evaluation; ``workbench eval compare A B`` compares two runs.

    A first word that is no subcommand is taken for a dataset name (``eval run NAME`` names a dataset
    called "compare")."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:  # typer's own click types
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().resolve_command(ctx, args)


eval_app = typer.Typer(cls=_RunByDefault, no_args_is_help=True, help=(
    "Measure models, prompts and pixel budgets on a dataset's accepted items (workbench eval DATASET ...), "
    "or compare two runs (workbench eval compare RUN_A RUN_B)."))


def _number(value: Any, digits: int = 3) -> str:
    if value is None:
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


_COLUMNS = ("acc50", "miou", "map50_95", "f1", "parse_failures", "output_tokens", "seconds_per_item")


def _table(evaluation: Evaluation) -> list[str]:
    split = evaluation.split or "every split"
    lines = [f"evaluation {evaluation.id} · {len(evaluation.items)} accepted item(s) of {split}",
             "\t".join(("cell", "state", "setup", "items", *_COLUMNS, "run"))]
    for cell in evaluation.cells:
        setup = EvalSetup.from_dict(cell.settings)
        m = cell.metrics
        values = [_number(m.get(k), 1 if k in ("output_tokens",) else 3) for k in _COLUMNS]
        lines.append("\t".join((str(cell.position), cell.state, setup.describe(), _number(m.get("items")), *values,
                                str(cell.run_id or "-"))))
        if cell.error:
            lines.append(f"\t{cell.error}")
    return lines


@eval_app.command("run")
def run(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    split: Annotated[str | None, typer.Option(help="train, val or test (default: every accepted item).")] = None,
    model: Annotated[list[str] | None, typer.Option(
        "--model", envvar=env.MODEL, help="Served model name or local checkpoint (repeat for several).")] = None,
    prompt: Annotated[list[str] | None, typer.Option(
        "--prompt", "-p", help="Prompt template with {target} for the item's labels (repeat for several; "
        "default: the family's official wording).")] = None,
    max_pixels: Annotated[list[int] | None, typer.Option(
        "--max-pixels", min=1, help="Pixel budget max_pixels (repeat for several; default: the model's).")] = None,
    min_pixels: MinPixelsOption = None,
    backend: BackendOption = BackendName.openai,
    base_url: BaseUrlsOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = LimitsStyleName("vllm"),
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    engine: EngineOption = Engine.threads,
    geometry_check: CheckOption = True,
    server_wait: WaitOption = DEFAULT_SERVER_WAIT_S,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    coordinate_keys: KeysOption = None,
    fresh: Annotated[bool, typer.Option("--new", help="Start a new evaluation even if one of this grid is "
                                                      "unfinished (default: resume it).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per cell on stdout.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Evaluate models x prompts x pixel budgets on the accepted items of DATASET (a split of them); each cell is
    an eval run that never touches annotations or status; running it again resumes what was interrupted. A served
    model whose name does not tell its family is read with --family, else the dataset's family (Review)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    options = BatchOptions(backend=backend.value, base_urls=tuple(base_url or ()), family=family,
                           limits_style=limits_style.value, min_pixels=min_pixels,
                           max_new_tokens=max_new_tokens, server_wait_s=server_wait, timeout_s=timeout,
                           coordinate_keys=key_list(coordinate_keys or ""))
    local = options.backend == "local"

    dataset_family: list[str] = []

    def open_cell(setup: EvalSetup) -> Any:
        chosen = options.family if local else served_family(setup.model, options.family, dataset_family[0])
        return open_backend(dataclasses.replace(options, model=setup.model, max_pixels=setup.max_pixels,
                                                family=chosen))

    console = Console(stderr=True)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
               TextColumn("{task.fields[status]}")]
    try:
        grid = EvalGrid(models=tuple(model or ()), prompts=tuple(prompt or (None,)),
                        max_pixels=tuple(max_pixels or (None,)), split=split or "", min_pixels=min_pixels,
                        max_new_tokens=max_new_tokens, family=family)
        with open_store(data_dir) as store:
            evaluation = plan_evaluation(store, dataset, grid, fresh=fresh)
            dataset_family.append(Reading.from_dataset(store.dataset_settings(dataset)).family)
            console.print(f"evaluation {evaluation.id}: {len(evaluation.cells)} cell(s) on "
                          f"{len(evaluation.items)} accepted item(s)", highlight=False)
            with _terminate_as_interrupt(), Progress(*columns, console=console, transient=False) as bar:
                tasks: dict[int, Any] = {}

                def on_progress(cell: EvaluationCell, p: Any) -> None:
                    if cell.id not in tasks:
                        tasks[cell.id] = bar.add_task(f"cell {cell.position}", total=p.total, status="")
                    bar.update(tasks[cell.id], completed=p.processed + p.skipped,
                               status=f"{p.failed} failed · {p.rate:.2f} items/s")

                def on_cell(cell: EvaluationCell) -> None:
                    console.print(f"cell {cell.position} {cell.state}: {EvalSetup.from_dict(cell.settings).describe()}"
                                  + (f" — {cell.error}" if cell.error else ""), highlight=False, soft_wrap=True)

                evaluation = run_evaluation(store, evaluation.id, open_cell, engine=engine.value,
                                            concurrency=1 if local else concurrency,
                                            geometry_check=geometry_check and not local, on_progress=on_progress,
                                            on_cell=on_cell, coordinate_keys=None if coordinate_keys is None
                                            else options.coordinate_keys)
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: every answer stored so far is whole; run the same command again to go on", err=True)
        raise typer.Exit(code=130) from None
    if as_json:
        for cell in evaluation.cells:
            typer.echo(json.dumps(cell_json(evaluation, cell), ensure_ascii=False))
    else:
        for line in _table(evaluation):
            typer.echo(line)
    if any(cell.state != "done" for cell in evaluation.cells):
        raise typer.Exit(code=1)


def _comparison_lines(comparison: RunComparison, shown: int) -> list[str]:
    lines = [f"run {comparison.a.id} ({comparison.a.model}) -> run {comparison.b.id} ({comparison.b.model}) on "
             f"{comparison.items} item(s); 95 % paired bootstrap interval of b - a ({comparison.resamples} resamples)",
             "\t".join(("metric", "a", "b", "b - a", "interval"))]
    for d in comparison.differences:
        if d.a is None and d.b is None:
            continue
        interval = "-" if d.low is None else f"[{d.low:+.3f}, {d.high:+.3f}]"
        diff = "-" if d.difference is None else f"{d.difference:+.3f}"
        lines.append("\t".join((d.metric, _number(d.a), _number(d.b), diff, interval)))
    worse = comparison.worse
    lines.append(f"{len(worse)} item(s) got worse" + (":" if worse else ""))
    for change in worse[:shown]:
        lines.append(f"  item {change.key}: quality {change.a:.3f} -> {change.b:.3f}")
    if len(worse) > shown:
        lines.append(f"  ... and {len(worse) - shown} more (--worse N shows more)")
    return lines


@eval_app.command("compare")
def compare(
    run_a: Annotated[int, typer.Argument(help="The first run (the baseline).")],
    run_b: Annotated[int, typer.Argument(help="The second run.")],
    resamples: Annotated[int, typer.Option(min=1, help="Bootstrap resamples.")] = 1000,
    worse: Annotated[int, typer.Option(min=0, help="How many of the items that got worse to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object.")] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Compare two eval runs on the items both measured: each metric's difference with a paired bootstrap 95 %
    interval, and the items that got worse."""
    try:
        with open_store(data_dir) as store:
            comparison = compare_runs(store, run_a, run_b, resamples=resamples)
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    if as_json:
        typer.echo(json.dumps(comparison.as_dict(), ensure_ascii=False))
        return
    for line in _comparison_lines(comparison, worse):
        typer.echo(line)


def register(app: typer.Typer) -> None:
    app.add_typer(eval_app, name="eval")
