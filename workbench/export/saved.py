"""The training questions a dataset keeps: one template per target family and task.

A person words the question once (on the Export page, or with ``workbench export
--question-template``) and every later export of the dataset for that family asks it, from the
page and from the command line alike. A template equal to the family's own phrasing is not kept:
the dataset follows the family's defaults until someone words it differently.

>>> import tempfile
>>> from pathlib import Path
>>> from workbench.store import DatasetStore
>>> store = DatasetStore(Path(tempfile.mkdtemp()) / "db.sqlite3")
>>> ds = store.create_dataset("pets")
>>> save_template(store, ds.id, "qwen2.5-vl", "referring", "Where is {label}? Answer in JSON.")
>>> saved_templates(store, ds.id, "qwen2.5-vl")
{'referring': 'Where is {label}? Answer in JSON.'}
>>> saved_templates(store, ds.id, "qwen3-vl")
{}
"""

from __future__ import annotations

from typing import Any

from grounding import ModelFamily
from workbench.export.questions import TASKS, check_templates, default_templates
from workbench.store import DatasetRef, DatasetStore

__all__ = ["KEY", "save_template", "saved_templates", "template_for"]

KEY = "question_templates"
"""The dataset setting holding ``{family: {task: template}}``."""


def saved_templates(store: DatasetStore, dataset: DatasetRef, family: ModelFamily | str) -> dict[str, str]:
    """The templates ``dataset`` keeps for ``family`` (task -> template; empty when it keeps none)."""
    kept = store.dataset_settings(dataset).get(KEY)
    name = ModelFamily.from_name(family).name
    chosen = kept.get(name) if isinstance(kept, dict) else None
    if not isinstance(chosen, dict):
        return {}
    return {task: text for task, text in chosen.items() if task in TASKS and isinstance(text, str) and text}


def template_for(store: DatasetStore | None, dataset: DatasetRef | None, family: ModelFamily | str,
                 task: str) -> str:
    """The question ``task`` asks when ``dataset`` is exported for ``family``: its own, else the family's.

    >>> template_for(None, None, "qwen2.5-vl", "objects")
    'Locate every {labels} in the image and output the bbox coordinates in JSON format.'
    """
    own = saved_templates(store, dataset, family).get(task) if store is not None and dataset is not None else None
    return own or default_templates(family).get(task, "")


def save_template(store: DatasetStore, dataset: DatasetRef, family: ModelFamily | str, task: str,
                  template: str | None) -> None:
    """Keep ``template`` as the dataset's question for ``task`` and ``family`` ('' or the default forgets it).

    Raises :class:`~workbench.errors.ExportError` for a template the export would refuse (an unknown
    placeholder, a task the family cannot ask), so nothing unusable is kept.
    """
    model_family = ModelFamily.from_name(family)
    text = (template or "").strip()
    if text == default_templates(model_family).get(task):
        text = ""
    if text:
        check_templates({task: text}, model_family, task)
    else:
        check_templates({}, model_family, task)
    kept: Any = store.dataset_settings(dataset).get(KEY)
    kept = {name: dict(tasks) for name, tasks in kept.items() if isinstance(tasks, dict)} \
        if isinstance(kept, dict) else {}
    tasks = kept.setdefault(model_family.name, {})
    if text:
        tasks[task] = text
    else:
        tasks.pop(task, None)
    kept = {name: tasks for name, tasks in kept.items() if tasks}
    store.update_dataset_settings(dataset, {KEY: kept or None})
