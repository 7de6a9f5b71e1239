"""``workbench annotate-files``: pre-annotate a folder of images into a JSONL file, resumably.

The command is the unit source (:func:`workbench.batch.files.units_from_folder`) and the sink
(:class:`workbench.batch.JsonlSink`) around :func:`run_job`, which holds everything else a
batch command needs: the backend (one server, several replicas, or the local model), the
geometry check, the engine (threads or Ray), the progress bar, Ctrl-C and the summary. A
dataset command swaps only the source and the sink::

    options = BatchOptions(prompt=..., labels=..., base_urls=..., ...)   # from the shared options below
    summary = run_job(store_units, StoreSink(store, dataset), options, total=count)
    finish(summary)

Exit codes: 0 when every unit was processed (failed units are listed and recorded), 1 for
bad settings or when the servers went away (the run resumes), 130 when interrupted.
"""

from __future__ import annotations

import dataclasses
import signal
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from grounding import DEFAULT_FAMILY, ModelFamily, PixelLimits
from grounding.parse import coordinate_keys as key_list
from grounding.prompts import GroundingTask
from workbench import environment as env
from workbench.backends import ModelBackend, create_backend
from workbench.backends.base import DEFAULT_TOP_LOGPROBS, MAX_TOP_LOGPROBS
from workbench.batch import (
    BatchProgress,
    BatchSummary,
    JobSettings,
    JsonlSink,
    ReplicaPool,
    ResultSink,
    WorkUnit,
)
from workbench.batch.files import units_from_folder
from workbench.batch.geometry_check import check_server_geometry
from workbench.batch.orchestrator import Ask, run_units
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
    LabelsOption,
    LimitsStyleName,
    LimitsStyleOption,
    MaxNewTokensOption,
    MaxPixelsOption,
    MinPixelsOption,
    ModelOption,
    PromptOption,
    TaskOption,
    TimeoutOption,
    WaitOption,
)
from workbench.config import default_limits_style
from workbench.errors import USER_ERRORS, WorkbenchError
from workbench.run_settings import (
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_NEW_TOKENS,
    DEFAULT_SERVER_WAIT_S,
    DEFAULT_TIMEOUT_S,
    Generation,
    ModelSource,
    Reading,
    RunSettings,
)

__all__ = ["BatchOptions", "open_backend", "job_settings", "run_job", "finish", "register"]



@dataclass(frozen=True)
class BatchOptions:
    """Everything a batch command was asked, as plain data."""

    prompt: str | None = None
    labels: tuple[str, ...] = ()
    task: GroundingTask = GroundingTask.BOXES
    backend: str = "openai"
    model: str | None = None
    base_urls: tuple[str, ...] = ()
    family: str | None = None
    limits_style: str = field(default_factory=lambda: default_limits_style())
    min_pixels: int | None = None
    max_pixels: int | None = None
    max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS
    concurrency: int = DEFAULT_CONCURRENCY
    engine: str = "threads"
    geometry_check: bool = True
    server_wait_s: float = DEFAULT_SERVER_WAIT_S
    timeout_s: float = DEFAULT_TIMEOUT_S
    coordinate_keys: tuple[str, ...] = ()
    logprobs: int = 0
    """Alternatives per token asked for the boxes' confidence (0: none)."""

    @property
    def ask(self) -> Ask:
        """What a unit without its own prompt asks (:class:`workbench.batch.orchestrator.Ask`)."""
        return Ask(self.prompt or "", self.labels, GroundingTask(self.task).value)

    @staticmethod
    def split_labels(labels: str | None) -> tuple[str, ...]:
        return tuple(label.strip() for label in (labels or "").split(",") if label.strip())

    def run_settings(self) -> RunSettings:
        """What the command asked, in the run vocabulary (:mod:`workbench.run_settings`)."""
        return RunSettings(
            ModelSource(self.backend, self.model or "", self.base_urls, limits_style=self.limits_style,
                        timeout_s=self.timeout_s, server_wait_s=self.server_wait_s),
            Reading(self.family or DEFAULT_FAMILY.name, self.min_pixels, self.max_pixels, self.coordinate_keys),
            Generation(max_new_tokens=self.max_new_tokens, logprobs=self.logprobs))

    def limits(self, family: ModelFamily) -> PixelLimits | None:
        """The chosen pixel limits completed with ``family``'s defaults (None: none chosen)."""
        return self.run_settings().reading.limits_for(family)


def open_backend(options: BatchOptions) -> ModelBackend:
    """The local model, or a :class:`ReplicaPool` over the server URLs (one URL is a pool of one)."""
    if options.backend == "local":
        family = ModelFamily.from_name(options.family) if options.family else None
        return create_backend("local", model=options.model, limits=options.limits(family) if family else None)
    urls: list[str | None] = [url for url in options.base_urls if url] or [None]  # None: the configured server
    probe = create_backend("openai", model=options.model, base_url=urls[0], family=options.family)
    backend_options = {
        "model": probe.model, "family": options.family, "limits": options.limits(probe.family()),
        "limits_style": options.limits_style, "timeout": options.timeout_s,
    }
    server = str(getattr(probe, "base_url", ""))  # the configured server the probe resolved
    return ReplicaPool.from_urls([u or server for u in urls], pool_options={"wait_s": options.server_wait_s}, **backend_options)


def job_settings(backend: ModelBackend, options: BatchOptions) -> JobSettings:
    return JobSettings.for_run(backend, options.run_settings())


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (a kill) stops like Ctrl-C: what was stored stays whole."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _status(p: BatchProgress) -> str:
    eta = "" if p.eta_s is None else f" · ETA {int(p.eta_s) // 60}:{int(p.eta_s) % 60:02d}"
    return f"{p.failed} failed, {p.skipped} done before · {p.rate:.2f} items/s{eta}"


def run_job(
    units: Iterable[WorkUnit], sink: ResultSink, options: BatchOptions, *, total: int | None = None,
    cancel: threading.Event | None = None, show_progress: bool = True,
) -> BatchSummary:
    """Open the backend, check the servers' geometry, run the units with a progress bar on stderr.

    Raises :class:`~workbench.errors.WorkbenchError` for bad settings and a server whose resizing
    disagrees; ``KeyboardInterrupt`` (Ctrl-C or SIGTERM) passes through after the bar is closed.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    options.ask.check(prompt_word="--prompt TEXT", labels_word="--labels a,b,c")
    backend = open_backend(options)
    settings = job_settings(backend, options)
    console = Console(stderr=True)
    if options.backend == "openai" and options.geometry_check:
        for report in check_server_geometry(backend, settings.limits):
            console.print(f"geometry check: {report.message()}", highlight=False, soft_wrap=True)
    columns = [TextColumn("annotating"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[status]}")]
    with _terminate_as_interrupt(), Progress(*columns, console=console, disable=not show_progress, transient=False) as bar:
        task = bar.add_task("annotate", total=total, status="")

        def on_progress(p: BatchProgress) -> None:
            bar.update(task, total=None if p.total is None else p.total - p.skipped, completed=p.processed, status=_status(p))

        return run_units(units, backend, sink, settings, ask=options.ask, engine=options.engine,
                         local=options.backend == "local", concurrency=options.concurrency, total=total,
                         on_progress=on_progress, cancel=cancel)


def finish(summary: BatchSummary) -> None:
    """Print the summary to stderr; exit 1 when the run stopped before the end."""
    for line in summary.lines():
        typer.echo(line, err=True)
    if not summary.complete:
        raise typer.Exit(code=1)


def annotate_files(
    folder: Annotated[Path, typer.Argument(exists=True, file_okay=False, help="Folder of images (one item per image).")],
    out: Annotated[Path, typer.Option("--out", "-o", dir_okay=False, help="JSONL file of results; an existing one is resumed.")],
    prompt: PromptOption = None,
    labels: LabelsOption = None,
    task: TaskOption = GroundingTask.BOXES,
    backend: BackendOption = BackendName.openai,
    model: ModelOption = None,
    base_url: BaseUrlsOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = LimitsStyleName("vllm"),
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    engine: EngineOption = Engine.threads,
    geometry_check: CheckOption = True,
    server_wait: WaitOption = DEFAULT_SERVER_WAIT_S,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    coordinate_keys: KeysOption = None,
    recursive: Annotated[bool, typer.Option("--recursive", "-r", help="Also images in subfolders.")] = False,
) -> None:
    """Pre-annotate every image of FOLDER into a JSONL file (one line per item); re-running resumes."""
    options = BatchOptions(
        prompt=prompt, labels=BatchOptions.split_labels(labels), task=task, backend=backend.value,
        model=model, base_urls=tuple(base_url or ()), family=family, limits_style=limits_style.value,
        min_pixels=min_pixels, max_pixels=max_pixels, max_new_tokens=max_new_tokens, concurrency=concurrency,
        engine=engine.value, geometry_check=geometry_check, server_wait_s=server_wait, timeout_s=timeout,
        coordinate_keys=key_list(coordinate_keys or ""),
    )
    try:
        units = list(units_from_folder(folder, recursive=recursive))
        with JsonlSink(out) as sink:
            if sink.repaired:
                typer.echo(sink.repaired, err=True)
            summary = run_job(units, sink, options, total=len(units))
    except WorkbenchError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.echo(f"interrupted: what was stored in {out} is complete; run the same command again to go on", err=True)
        raise typer.Exit(code=130) from None
    finish(summary)




def annotate(
    dataset: Annotated[str, typer.Argument(help="Dataset name.")],
    status: Annotated[list[str] | None, typer.Option(
        "--status", help="Items of this status (repeatable; default: new).")] = None,
    prompt: PromptOption = None,
    labels: LabelsOption = None,
    task: TaskOption = GroundingTask.BOXES,
    backend: BackendOption = BackendName.openai,
    model: ModelOption = None,
    base_url: BaseUrlsOption = None,
    family: FamilyNameOption = None,
    limits_style: LimitsStyleOption = LimitsStyleName("vllm"),
    min_pixels: MinPixelsOption = None,
    max_pixels: MaxPixelsOption = None,
    max_new_tokens: MaxNewTokensOption = DEFAULT_MAX_NEW_TOKENS,
    concurrency: ConcurrencyOption = DEFAULT_CONCURRENCY,
    engine: EngineOption = Engine.threads,
    geometry_check: CheckOption = True,
    server_wait: WaitOption = DEFAULT_SERVER_WAIT_S,
    timeout: TimeoutOption = DEFAULT_TIMEOUT_S,
    coordinate_keys: KeysOption = None,
    logprobs: Annotated[int, typer.Option(
        "--logprobs", min=0, max=MAX_TOP_LOGPROBS,
        help="Alternatives per token asked for the boxes' confidence (0: none; servers without them still work).")
    ] = DEFAULT_TOP_LOGPROBS,
    data_dir: Annotated[Path | None, typer.Option("--data-dir", envvar=env.DATA_DIR, file_okay=False,
                                                     help="Folder of the dataset store.")] = None,
) -> None:
    """Pre-annotate the items of DATASET with a model: their boxes land on the items (pre-annotated), never over
    a person's work; a failed item says why and the run goes on; re-running skips what is done."""
    from workbench.batch.dataset import StoreSink, units_from_items
    from workbench.confidence.scoring import refit
    from workbench.run_settings import Reading
    from workbench.store import DatasetStore

    options = BatchOptions(
        prompt=prompt, labels=BatchOptions.split_labels(labels), task=task, backend=backend.value,
        model=model, base_urls=tuple(base_url or ()), family=family, limits_style=limits_style.value,
        min_pixels=min_pixels, max_pixels=max_pixels, max_new_tokens=max_new_tokens, concurrency=concurrency,
        engine=engine.value, geometry_check=geometry_check, server_wait_s=server_wait, timeout_s=timeout,
        coordinate_keys=key_list(coordinate_keys or ""), logprobs=logprobs,
    )
    try:
        with DatasetStore.open(data_dir) as store:
            if coordinate_keys is None:  # the dataset's own (Review page), unless the command names others
                kept = Reading.from_dataset(store.dataset_settings(dataset)).coordinate_keys
                options = dataclasses.replace(options, coordinate_keys=kept)
            ids, units = units_from_items(store, dataset, statuses=status or ["new"])
            summary = run_job(units, StoreSink(store, dataset), options, total=len(ids))
            typer.echo(refit(store, dataset).message, err=True)  # after each batch: the dataset's scores
    except USER_ERRORS as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: every item stored so far is whole; run the same command again to go on", err=True)
        raise typer.Exit(code=130) from None
    finish(summary)


def register(app: typer.Typer) -> None:
    app.command("annotate-files")(annotate_files)
    app.command("annotate")(annotate)
