"""``DatasetStore``: datasets of items (1..N images each), their annotations, proposals and history, in SQLite.

The facade over the store's modules — one per concern, each functions over one shared
:class:`~workbench.store.db.Database`: :mod:`~workbench.store.datasets`, :mod:`~workbench.store.labels`,
:mod:`~workbench.store.items`, :mod:`~workbench.store.queue`, :mod:`~workbench.store.actions` (with
:mod:`~workbench.store.history`), :mod:`~workbench.store.runs`, :mod:`~workbench.store.jobs`,
:mod:`~workbench.store.splits` and :mod:`~workbench.store.evaluations`. Each
method here resolves a dataset reference, calls one of them, and hands back records.

One user action is one call, one transaction and one history entry: an accept of five boxes,
a relabel, a model run landing on an item. Undo and redo walk that history per item, across
processes and restarts. Every call that changes an item may name the item version it saw; a
stale one is refused with :class:`StaleItemError` (which carries the fresh item).

>>> import tempfile
>>> from PIL import Image
>>> folder = Path(tempfile.mkdtemp()); Image.new("RGB", (640, 428)).save(folder / "bowl.jpg")
>>> store = DatasetStore(folder / "db.sqlite3")
>>> item = store.add_item(store.create_dataset("kitchen"), [folder / "bowl.jpg"])
>>> item = store.set_annotations(item.id, 1, [AnnotationDraft.box((146, 137, 615, 415), "bowl")])
>>> item = store.set_status(item.id, "accepted", expected_version=item.version)
>>> item.status.value, [a.label for a in item.annotations], store.undo(item.id).status.value
('accepted', ['bowl'], 'new')
>>> store.redo(item.id).status.value
'accepted'
>>> store.close()
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from workbench.errors import StoreError
from workbench.store import actions, datasets, evaluations, items, jobs, labels, queue, runs, scores, splits
from workbench.store.actions import StaleItemError
from workbench.store.blobs import Blob, ImageBlobs
from workbench.store.datadir import DB_NAME, resolve_data_dir
from workbench.store.datasets import DatasetRef
from workbench.store.db import Database, utc_now
from workbench.store.history import read_actions
from workbench.store.records import (
    Action,
    AnnotationDraft,
    Dataset,
    Evaluation,
    EvaluationCell,
    ImageSource,
    Item,
    ItemFilter,
    Job,
    Label,
    Proposal,
    QueuePage,
    Run,
    RunAnswer,
)
from workbench.store.revision import dataset_revision

__all__ = ["DatasetRef", "DatasetStore", "StaleItemError", "utc_now"]

ImageInput = ImageSource | str | os.PathLike


class DatasetStore:
    """Datasets, items, images and annotations in ``db_path``; image copies in ``images_dir``.

    ``images_dir`` defaults to ``images/`` beside the database. ``durable=False`` trades the
    fsync per commit for WAL's ``NORMAL``. Use :meth:`open` to place both under a data dir. Safe
    to share between the threads of one process; other processes may open the same file at the
    same time (WAL, ``busy_timeout``).
    """

    def __init__(self, db_path: str | os.PathLike, *, images_dir: str | os.PathLike | None = None,
                 busy_timeout_s: float = 10.0, durable: bool = True, clock: Callable[[], str] = utc_now) -> None:
        self.db_path = Path(db_path)
        self.blobs = ImageBlobs(Path(images_dir) if images_dir is not None else self.db_path.parent / "images")
        self.db = Database(self.db_path, busy_timeout_s=busy_timeout_s, durable=durable, clock=clock)

    @classmethod
    def open(cls, data_dir: str | os.PathLike | None = None, **kwargs: Any) -> DatasetStore:
        """The store of a data dir (argument, else ``WORKBENCH_DATA_DIR``, else the user data folder)."""
        root = resolve_data_dir(data_dir)
        return cls(root / DB_NAME, images_dir=root / "images", **kwargs)

    @property
    def _root(self) -> Path:
        return self.blobs.root

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> DatasetStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _id(self, ref: DatasetRef, owner: str | None = None) -> int:
        return datasets.id_of(self.db, ref, owner)

    # -- datasets -----------------------------------------------------------------------------

    def create_dataset(self, name: str, *, owner: str = "") -> Dataset:
        return datasets.create(self.db, name, owner=owner)

    def dataset(self, ref: DatasetRef, *, owner: str | None = None) -> Dataset:
        """A dataset with its item counts per status (one SQL query, whatever its size)."""
        return datasets.get(self.db, ref, owner=owner)

    def list_datasets(self, *, owner: str | None = "") -> list[Dataset]:
        """The datasets of ``owner`` ('' locally; None: everyone's), by name, with item counts."""
        return datasets.list_all(self.db, owner=owner)

    def rename_dataset(self, ref: DatasetRef, new_name: str, *, owner: str | None = None) -> Dataset:
        return datasets.rename(self.db, ref, new_name, owner=owner)

    def delete_dataset(self, ref: DatasetRef, *, owner: str | None = None) -> None:
        """Delete a dataset with its items, annotations and history (image files stay; see :meth:`prune_images`)."""
        datasets.delete(self.db, ref, owner=owner)

    def dataset_settings(self, ref: DatasetRef) -> dict[str, Any]:
        return datasets.settings(self.db, ref)

    def update_dataset_settings(self, ref: DatasetRef, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into the dataset's settings (question templates, task...); None deletes a key."""
        return datasets.update_settings(self.db, ref, changes)

    def prune_images(self) -> int:
        """Delete image copies no item uses any more; returns how many went."""
        return datasets.prune_images(self.db, self._root)

    # -- labels -------------------------------------------------------------------------------

    def labels(self, dataset: DatasetRef, *, counts: bool = True) -> list[Label]:
        """The dataset's label set with colours (and use counts), in the order added."""
        return labels.labels(self.db, self._id(dataset), counts=counts)

    def add_label(self, dataset: DatasetRef, name: str, color: str | None = None) -> Label:
        return labels.add(self.db, self._id(dataset), name, color)

    def set_label_color(self, dataset: DatasetRef, name: str, color: str) -> Label:
        return labels.add(self.db, self._id(dataset), name, color)

    def rename_label(self, dataset: DatasetRef, old: str, new: str) -> int:
        """Rename a label everywhere in the dataset (merge into ``new`` when it exists); returns annotations changed."""
        return labels.rename(self.db, self._id(dataset), old, new)

    # -- items --------------------------------------------------------------------------------

    def add_item(self, dataset: DatasetRef, images: Sequence[ImageInput], prompt: str = "") -> Item:
        """Copy the images into the data dir (content-hashed) and append one item of them to ``dataset``."""
        if not images:
            raise StoreError("an item needs at least one image")
        sources = [image if isinstance(image, ImageSource) else ImageSource(Path(image)) for image in images]
        blobs = [self.blobs.put_file(Path(source.path)) for source in sources]
        return self.add_item_blobs(dataset, list(zip(sources, blobs)), prompt)

    def add_item_blobs(self, dataset: DatasetRef, images: Sequence[tuple[ImageSource, Blob]], prompt: str = "",
                       annotations: Sequence[Sequence[AnnotationDraft]] = (), *, status: str | None = None) -> Item:
        """Append an item whose images are already stored, with optional starting annotations per image
        (one transaction, no history entry; ``status`` defaults to ``new``, or ``pre-annotated`` when every
        given annotation came from a model)."""
        return self.item(items.add(self.db, self._id(dataset), images, self._root, prompt, annotations,
                                   status=status))

    def find_image(self, dataset: DatasetRef, sha256: str) -> int | None:
        """The item of ``dataset`` that already holds this exact image (by content), if any."""
        return items.find_image(self.db, self._id(dataset), sha256)

    def item(self, item_id: int) -> Item:
        return items.get(self.db, self._root, item_id)

    def items(self, dataset: DatasetRef, *, statuses: Sequence[str] | None = None) -> list[Item]:
        """Items of a dataset in order, with images and annotations (three queries in all)."""
        return items.of_dataset(self.db, self._root, self._id(dataset), statuses)

    def item_ids(self, dataset: DatasetRef, filter: ItemFilter | None = None) -> list[int]:
        return queue.ids(self.db, self._id(dataset), filter)

    def delete_item(self, item_id: int) -> None:
        items.delete(self.db, item_id)

    def group_items(self, item_ids: Sequence[int]) -> Item:
        """Join single items into one multi-image item (the first is kept; the history of each ends here)."""
        return self.item(items.group(self.db, item_ids))

    def split_item(self, item_id: int) -> list[Item]:
        """One item per image of a multi-image item (annotations and status go with the images)."""
        return [self.item(i) for i in items.split(self.db, item_id)]

    # -- the review queue ---------------------------------------------------------------------

    def queue(self, dataset: DatasetRef, filter: ItemFilter | None = None, *, page: int = 1,
              page_size: int = 48) -> QueuePage:
        """One page of the items that match ``filter``, with files, status and annotation counts."""
        return queue.page(self.db, self._root, self._id(dataset), filter, page=page, page_size=page_size)

    def neighbour(self, dataset: DatasetRef, item_id: int | None, *, step: int = 1,
                  filter: ItemFilter | None = None, unreviewed: bool = False) -> int | None:
        """The item after (``step`` 1) or before (-1) ``item_id`` in queue order, within ``filter``."""
        return queue.neighbour(self.db, self._id(dataset), item_id, step=step, filter=filter, unreviewed=unreviewed)

    def index_of(self, dataset: DatasetRef, item_id: int, filter: ItemFilter | None = None) -> int | None:
        """1-based place of the item among those matching ``filter`` (None when it does not match)."""
        return queue.index_of(self.db, self._id(dataset), item_id, filter)

    # -- user actions (one transaction and one history entry each) -----------------------------

    def set_annotations(self, item_id: int, image: int, drafts: Sequence[AnnotationDraft], *,
                        expected_version: int | None = None, kinds: Sequence[str] = ("box",)) -> Item:
        """Make image ``image`` (1-based) of the item carry exactly ``drafts`` (of the given kinds)."""
        actions.set_annotations(self.db, self._root, item_id, image, drafts, expected_version=expected_version,
                                kinds=kinds)
        return self.item(item_id)

    def set_status(self, item_id: int, status: str, *, expected_version: int | None = None) -> Item:
        """Accept, reject or reopen an item."""
        actions.set_status(self.db, self._root, item_id, status, expected_version=expected_version)
        return self.item(item_id)

    def set_prompt(self, item_id: int, prompt: str, *, expected_version: int | None = None) -> Item:
        actions.set_prompt(self.db, self._root, item_id, prompt, expected_version=expected_version)
        return self.item(item_id)

    def rename_image(self, item_id: int, image: int, new_id: str, *, expected_version: int | None = None) -> Item:
        """Give picture ``image`` of the item another ID; IDs are unique within the item."""
        actions.rename_image(self.db, self._root, item_id, image, new_id, expected_version=expected_version)
        return self.item(item_id)

    def reorder_images(self, item_id: int, order: Sequence[int], *, expected_version: int | None = None) -> Item:
        """Put the item's pictures in a new order: ``order`` lists current positions (1-based), each once."""
        actions.reorder_images(self.db, self._root, item_id, order, expected_version=expected_version)
        return self.item(item_id)

    def undo(self, item_id: int, *, expected_version: int | None = None) -> Item:
        """Take back the item's latest action (its state before that action comes back)."""
        actions.step(self.db, self._root, item_id, expected_version, undo=True)
        return self.item(item_id)

    def redo(self, item_id: int, *, expected_version: int | None = None) -> Item:
        """Do again the action undone last."""
        actions.step(self.db, self._root, item_id, expected_version, undo=False)
        return self.item(item_id)

    def can_undo(self, item_id: int) -> bool:
        return actions.can_undo(self.db, item_id)

    def can_redo(self, item_id: int) -> bool:
        return actions.can_redo(self.db, item_id)

    def history(self, item_id: int) -> list[Action]:
        """The item's actions, oldest first (undone and dropped ones included)."""
        with self.db.lock:
            return read_actions(self.db.conn, item_id)

    # -- model runs and their proposals -------------------------------------------------------

    def run(self, dataset: DatasetRef, *, model: str, family: str, settings: Mapping[str, Any],
            kind: str = "annotate") -> Run:
        """The run record for these settings (created on first use): the same settings are the same run
        (``kind``: ``annotate``, or ``eval`` for a run that is measured and never applied)."""
        return runs.upsert(self.db, self._id(dataset), model=model, family=family, settings=settings, kind=kind)

    def run_record(self, run_id: int) -> Run:
        return runs.get(self.db, run_id)

    def run_done(self, run_id: int, item_id: int) -> bool:
        """Whether this run already stored a result (not a failure) for the item."""
        return runs.done(self.db, run_id, item_id)

    def run_done_with(self, item_id: int, key: str, value: Any) -> bool:
        """Whether a run whose settings hold ``key: value`` stored a result (not a failure) for the item."""
        return runs.done_with(self.db, item_id, key, value)

    def record_failure(self, run_id: int | None, item_id: int, error: str) -> None:
        """A run could not annotate the item: say so on the item (a later run retries it)."""
        runs.record_failure(self.db, run_id, item_id, error)

    def record_proposals(self, run_id: int, item_id: int, per_image: Sequence[Sequence[AnnotationDraft]], *,
                         text: str = "", warnings: Sequence[str] = (), apply: str = "auto",
                         expected_version: int | None = None,
                         signals: Sequence[Sequence[Mapping[str, Any]]] | None = None) -> tuple[Item, bool]:
        """Store what a run proposed for each image of the item; the item and whether they were applied
        (``apply``: ``auto`` when nobody worked on it yet, ``always`` or ``never``); ``signals`` per image and
        draft are stored with the proposals (what their scores were made from)."""
        applied = runs.record(self.db, self._root, run_id, item_id, per_image, text=text, warnings=warnings,
                              apply=apply, expected_version=expected_version, signals=signals)
        return self.item(item_id), applied

    def apply_proposals(self, item_id: int, run_id: int, *, mode: str = "replace",
                        expected_version: int | None = None) -> Item:
        """Take a run's proposals into the item: ``replace`` its annotations with them, or ``add`` those it lacks."""
        runs.apply(self.db, self._root, item_id, run_id, mode=mode, expected_version=expected_version)
        return self.item(item_id)

    def proposals(self, item_id: int, run_id: int | None = None) -> tuple[Run | None, list[list[Proposal]]]:
        """The proposals of the item's latest run (or of ``run_id``), per image in order."""
        return runs.proposals(self.db, item_id, run_id)

    def run_text(self, run_id: int, item_id: int) -> tuple[str, list[str], str]:
        """(model text, warnings, error) a run stored for the item."""
        return runs.text(self.db, run_id, item_id)

    # -- confidence: scores, their calibration, the review they order ----------------------------

    def reviewed_boxes(self, dataset: DatasetRef) -> list[tuple[int, dict[str, Any], bool]]:
        """``(item id, signals, survived)`` per box a model proposed on an item a person accepted."""
        return scores.reviewed_boxes(self.db, self._id(dataset))

    def rescore(self, dataset: DatasetRef, score: Callable[[Mapping[str, Any]], float]) -> int:
        """Score every proposal with signals (and the model annotations taken from them); no history."""
        return scores.rescore(self.db, self._id(dataset), score)

    def weakest_scores(self, item_ids: Sequence[int]) -> dict[int, float]:
        """Each item's lowest annotation score (items without one left out)."""
        return scores.weakest(self.db, item_ids)

    def confident_items(self, dataset: DatasetRef, threshold: float) -> list[tuple[int, int, float]]:
        """``(item, boxes, expected wrong boxes)`` of the pre-annotated items whose boxes all score >= threshold."""
        return scores.confident_items(self.db, self._id(dataset), threshold)

    def accept_confident(self, dataset: DatasetRef, threshold: float) -> list[int]:
        """Accept those items: one transaction, one history entry per item (each undoable)."""
        return scores.accept_confident(self.db, self._root, self._id(dataset), threshold)
    # -- splits -------------------------------------------------------------------------------

    def split_fractions(self, dataset: DatasetRef) -> dict[str, float]:
        """The fractions content splits use for this dataset (its own, else 80/10/10)."""
        kept = self.dataset_settings(dataset).get(splits.SETTINGS_KEY)
        return splits.check_fractions(kept) if isinstance(kept, dict) else dict(splits.DEFAULT_FRACTIONS)

    def assign_splits(self, dataset: DatasetRef, fractions: Mapping[str, float] | None = None, *,
                      overwrite: bool = False) -> dict[str, int]:
        """Put items in no split (every item with ``overwrite``) into their content split; ``fractions``
        given are kept as the dataset's. Returns how many items each split received ('' for none)."""
        if fractions is not None:
            checked = splits.check_fractions(fractions)
            self.update_dataset_settings(dataset, {splits.SETTINGS_KEY: checked})
        return splits.assign(self.db, self._id(dataset), self.split_fractions(dataset), overwrite=overwrite)

    def set_split(self, dataset: DatasetRef, item_ids: Sequence[int], split: str) -> int:
        """Put the items into ``split`` by hand (``none`` or '' for no split), one transaction; how many changed."""
        return splits.set_split(self.db, self._id(dataset), item_ids, split)

    def split_counts(self, dataset: DatasetRef, *, status: str | None = None) -> dict[str, int]:
        """Items per split ('' for none), of one status when given."""
        return splits.counts(self.db, self._id(dataset), status)

    def set_status_many(self, item_ids: Sequence[int], status: str) -> int:
        """Set the status of many items, each its own action (one transaction and history entry per item,
        so each can be undone on its own); how many changed."""
        changed = 0
        for item_id in dict.fromkeys(item_ids):
            before = self.item(item_id).version
            changed += self.set_status(item_id, status).version != before
        return changed

    # -- evaluations ---------------------------------------------------------------------------

    def create_evaluation(self, dataset: DatasetRef, split: str, settings: Mapping[str, Any],
                          item_ids: Sequence[int], cells: Sequence[Mapping[str, Any]]) -> Evaluation:
        """A new evaluation of exactly ``item_ids`` with one queued cell per setup."""
        return evaluations.get(self.db, evaluations.create(self.db, self._id(dataset), splits.check_split(split),
                                                           settings, item_ids, cells))

    def evaluation(self, evaluation_id: int) -> Evaluation:
        return evaluations.get(self.db, evaluation_id)

    def evaluations(self, dataset: DatasetRef, *, limit: int = 10) -> list[Evaluation]:
        """The dataset's latest evaluations, newest first."""
        return evaluations.latest(self.db, self._id(dataset), limit=limit)

    def unfinished_evaluation(self, dataset: DatasetRef, split: str,
                              settings: Mapping[str, Any]) -> Evaluation | None:
        """The latest evaluation of this split and grid that has a cell not done (to resume it), if any."""
        return evaluations.unfinished(self.db, self._id(dataset), splits.check_split(split), settings)

    def evaluation_cell(self, cell_id: int) -> EvaluationCell:
        return evaluations.cell(self.db, cell_id)

    def update_evaluation_cell(self, cell_id: int, *, state: str | None = None, run_id: int | None = None,
                               metrics: Mapping[str, Any] | None = None, error: str | None = None) -> None:
        evaluations.update_cell(self.db, cell_id, state=state, run_id=run_id, metrics=metrics, error=error)

    def interrupt_running_evaluations(self) -> int:
        """Mark cells left running by a process that is gone as interrupted (running again resumes them)."""
        return evaluations.interrupt_running(self.db)

    def record_eval_answer(self, run_id: int, item_id: int, per_image: Sequence[Sequence[AnnotationDraft]], *,
                           text: str = "", warnings: Sequence[str] = (),
                           stats: Mapping[str, Any] | None = None) -> None:
        """Store an eval run's answer for an item (proposals, text, stats); the item is not touched."""
        evaluations.record_answer(self.db, run_id, item_id, per_image, text=text, warnings=warnings, stats=stats)

    def record_eval_error(self, run_id: int, item_id: int, error: str,
                          stats: Mapping[str, Any] | None = None) -> None:
        evaluations.record_error(self.db, run_id, item_id, error, stats)

    def run_answers(self, run_id: int, item_ids: Sequence[int] | None = None) -> dict[int, RunAnswer]:
        """What a run stored per item: text, warnings or error, stats, proposals per image."""
        return evaluations.answers(self.db, run_id, item_ids)

    # -- background jobs (a batch started from the UI) ----------------------------------------

    def create_job(self, dataset: DatasetRef, kind: str, settings: Mapping[str, Any], total: int) -> int:
        return jobs.create(self.db, self._id(dataset), kind, settings, total)

    def claim_job(self, dataset: DatasetRef, kind: str, settings: Mapping[str, Any], total: int, *,
                  claim: str) -> int:
        """:meth:`create_job`, unless an active job of the dataset holds the same ``claim`` (see
        :func:`workbench.store.jobs.claim`)."""
        return jobs.claim(self.db, self._id(dataset), kind, settings, total, key=claim)

    def update_job(self, job_id: int, *, state: str | None = None, done: int | None = None,
                   failed: int | None = None, message: str | None = None, total: int | None = None) -> None:
        jobs.update(self.db, job_id, state=state, done=done, failed=failed, message=message, total=total)

    def cancel_job(self, job_id: int) -> None:
        """Ask a running job to stop after the items in flight (it says so when it has)."""
        jobs.cancel(self.db, job_id)

    def job(self, job_id: int) -> Job:
        return jobs.get(self.db, job_id)

    def revision(self, dataset: DatasetRef) -> tuple[int, int, int, int, str]:
        """A value that changes whenever the dataset's items or jobs change (:mod:`workbench.store.revision`)."""
        dataset_id = self._id(dataset)
        with self.db.lock:
            return dataset_revision(self.db.conn, dataset_id)

    def jobs(self, dataset: DatasetRef, *, limit: int = 5) -> list[Job]:
        """The dataset's latest jobs, newest first."""
        return jobs.latest(self.db, self._id(dataset), limit=limit)

    def interrupt_running_jobs(self) -> int:
        """Mark jobs left running by a process that is gone as interrupted (they can be resumed)."""
        return jobs.interrupt_running(self.db)
