"""What the pages show, computed from the store for a cursor: component values, no event wiring.

Every function reads the store afresh (the store is the only state that matters); the page
modules map the results onto components.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from grounding import ProcessedImage
from grounding.parse import EMPTY_ANSWER_NOTE
from ui.box_editor import editor_value, empty_value, file_url
from workbench.confidence import dataset_calibration
from workbench.confidence import status_text as confidence_status
from workbench.errors import StoreError
from workbench.review import Cursor, ItemView, item_view, status_line
from workbench.run_settings import Reading
from workbench.runs.items import LOOP_NOTE
from workbench.services import Services
from workbench.store import ITEM_STATUSES, Dataset, DatasetStore
from workbench.store.scores import ORDERS

__all__ = ["ORDER_CHOICES", "QueueView", "confidence_markdown", "counts_text", "editor_for", "geometry_markdown",
           "proposals_markdown", "queue_view", "review_settings", "SPLIT_CHOICES", "STATUS_CHOICES"]

_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")
"""Characters that make Markdown anywhere in a line (emphasis, code, links, tables, strike-through)."""
_LINE_START = re.compile(r"^([ \t]*)([#>+\-=]|\d+(?=[.)]))", re.MULTILINE)
"""What makes a block only at the start of a line (headings, quotes, lists, rules, numbered lists)."""


def plain(text: object) -> str:
    r"""User-supplied text (names, labels, file names, IDs, a server's words) for a Markdown component: shown as
    the very characters, never as HTML or Markdown.

    >>> print(plain("<img src=x onerror=alert(1)> **bold**"))
    &lt;img src=x onerror=alert(1)&gt; \*\*bold\*\*
    >>> print(plain("# 1. set WORKBENCH_BASE_URL (e.g. http://127.0.0.1:8000/v1)"))
    \# 1. set WORKBENCH\_BASE\_URL (e.g. http://127.0.0.1:8000/v1)

    Punctuation that only matters at the start of a line is escaped there alone, so URLs, versions and
    sentences keep their characters (an escape inside an auto-linked URL would show as a backslash).
    """
    escaped = _MARKDOWN.sub(r"\\\1", html.escape(str(text), quote=False))
    return _LINE_START.sub(lambda m: m.group(1) + "".join("\\" + c if not c.isdigit() else c for c in m.group(2))
                           + ("\\" if m.group(2)[0].isdigit() else ""), escaped)


STATUS_CHOICES = ["all", *ITEM_STATUSES]
ORDER_CHOICES: list[tuple[str, str | None]] = [("file order", None), *((words, key) for key, words in ORDERS.items())]
"""The queue's orders as the Order dropdown shows them, and their ``ItemFilter.order``."""
PROVENANCE_CHOICES = ["any", "model", "human"]
SPLIT_CHOICES = ["all", "train", "val", "test", "none"]
STATUS_MARK = {"new": "○", "pre-annotated": "◐", "accepted": "✓", "rejected": "✗"}


def review_settings(store: DatasetStore, dataset: int | None) -> Reading:
    if dataset is None:
        return Reading()
    return Reading.from_dataset(store.dataset_settings(dataset))


def counts_text(dataset: Dataset | None) -> str:
    if dataset is None:
        return "No dataset yet: create one (Queue → Datasets) or add images, which creates one."
    parts = [f"{STATUS_MARK[s]} {dataset.counts.get(s, 0)} {s}" for s in ITEM_STATUSES]
    return f"**{plain(dataset.name)}** · {dataset.items} item(s) · " + " · ".join(parts)


@dataclass(frozen=True)
class QueueView:
    gallery: list[tuple[str, str]]
    ids: list[int]
    pager: str
    labels: list[str]


def queue_view(services: Services, cursor: Cursor) -> QueueView:
    """One page of thumbnails with captions (id, status, boxes, labels, file)."""
    store = services.store()
    if cursor.dataset is None:
        return QueueView([], [], "", [])
    page = store.queue(cursor.dataset, cursor.filter, page=cursor.page, page_size=48)
    served = services.served(cursor.dataset)
    gallery, ids = [], []
    weakest = store.weakest_scores([row.id for row in page.rows]) if cursor.filter.order else {}
    for row in page.rows:
        if row.first_file is not None:
            thumb = served.thumbnail(row.first_file, row.sha256[0], row.first_wh)
            labels = ", ".join(row.labels[:3]) + ("…" if len(row.labels) > 3 else "")
            extra = f" +{len(row.files) - 1}" if len(row.files) > 1 else ""
            score = f" · weakest {weakest[row.id]:.2f}" if row.id in weakest else ""
            caption = (f"#{row.id} {STATUS_MARK.get(row.status, '')} {row.status}{' · ' + row.split if row.split else ''}"
                       f" · {row.boxes} box(es){score}"
                       f"{' · ' + labels if labels else ''} · {row.files[0]}{extra}"
                       f"{' · ⚠ ' + row.error if row.error else ''}")
            gallery.append((str(thumb.path), caption))
            ids.append(row.id)
    shown = f"{(page.page - 1) * page.page_size + 1}–{(page.page - 1) * page.page_size + len(page.rows)}" \
        if page.rows else "0"
    pager = f"Page {page.page} of {page.pages} · items {shown} of {page.total}"
    return QueueView(gallery, ids, pager, [label.name for label in store.labels(cursor.dataset, counts=False)])


def editor_for(services: Services, view: ItemView, label: str | None = None) -> dict:
    """The editor's value for the view's current picture."""
    image = view.image
    served = services.served(view.item.dataset_id)
    copy = served.display(image.file, image.sha256, image.wh)
    labels = [(label.name, label.color) for label in services.store().labels(view.item.dataset_id, counts=False)]
    proposals = view.proposals[view.picture - 1] if view.proposals else ()
    calibrated = dataset_calibration(services.store(), view.item.dataset_id) is not None
    return editor_value(file_url(copy.path), copy.scale, image.annotations, labels,
                        key=f"{view.item.id}:{view.picture}", proposals=proposals, label=label,
                        alt=f"{image.original_name} ({image.image_id})", sha=image.sha256,
                        calibrated=calibrated)


def confidence_markdown(store: DatasetStore, dataset: int | None) -> str:
    """What the dataset's scores are: calibrated (with held-out AUROC and ECE) or the raw signal, and how far."""
    return "" if dataset is None else plain(confidence_status(store, dataset))


def answer_flags(store: DatasetStore, view: ItemView) -> list[str]:
    """What the latest answer on the item said about itself: nothing there, a loop, cut at the token limit."""
    if view.run is None:
        return []
    try:
        _, warnings, _ = store.run_text(view.run.id, view.item.id)
    except StoreError:
        return []
    flags = [note for note in (EMPTY_ANSWER_NOTE, LOOP_NOTE) if note in warnings]
    flags += [w for w in warnings if w.startswith("output cut at")]
    return flags


def geometry_markdown(view: ItemView, settings: Reading) -> str:
    rows = [f"What **{settings.family}** sees (min_pixels {settings.limits.min_pixels:,}, max_pixels "
            f"{settings.limits.max_pixels:,}):", ""]
    for n, (image, geometry) in enumerate(zip(view.item.images, view.geometry), start=1):
        name = plain(image.image_id)
        if isinstance(geometry, ProcessedImage):
            rows.append(f"- picture {n} {name}: {image.width}×{image.height} → **{geometry.resized_wh[0]}×"
                        f"{geometry.resized_wh[1]}**, grid_thw {list(geometry.grid_thw)}, {geometry.tokens} visual "
                        "tokens")
        else:
            rows.append(f"- picture {n} {name}: {image.width}×{image.height} — {plain(geometry)}")
    return "\n".join(rows)


def proposals_markdown(view: ItemView, flags: list[str] | None = None) -> str:
    if view.run is None:
        return "No model has run on this item yet."
    if view.run.kind == "eval":
        count = sum(len(p) for p in view.proposals)
        where = f"evaluation {view.run.settings.get('evaluation')}, cell {view.run.settings.get('cell')}"
        return (f"Measured run {view.run.id} (**{plain(view.run.model)}**, {where}) answered {count} box(es) or "
                "point(s) here (dashed yellow), beside the item's own annotations (solid). Measuring never changes "
                "the item; open an item from the queue to see its own latest run again.")
    said = "".join(f"\n\n⚑ The answer: {plain(flag)}." for flag in flags or ())
    scored = [a.score for a in view.item.annotations if a.score is not None]
    weakest = f" Weakest box: {min(scored):.2f} (Tab visits the weakest first)." if scored else ""
    if not view.proposals:
        return f"The item's model boxes come from **{plain(view.run.model)}** ({view.run.family}).{weakest}{said}"
    count = sum(len(p) for p in view.proposals)
    return (f"**{plain(view.run.model)}** proposed {count} annotation(s) for this item (dashed yellow). "
            "They are not the item's annotations (the item had work by hand, or taking them was undone): "
            f"take them instead, or add those missing.{said}")


def open_view(services: Services, cursor: Cursor) -> ItemView:
    store = services.store()
    return item_view(store, cursor, review_settings(store, cursor.dataset))


def status_text(view: ItemView) -> str:
    """The review status line, safe for its Markdown component (it holds a server's error text)."""
    return plain(status_line(view))


def no_item_editor(cursor: Cursor) -> dict:
    if cursor.dataset is None:
        return empty_value("Create a dataset or add images on the Queue tab.")
    return empty_value("No item to show: add images on the Queue tab, or change the filter.")
