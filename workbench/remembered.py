"""What a person last chose for a dataset, kept in the store: every page offers it again.

The model and server, what to find and the prompt, the family and pixel limits, the queue's filter:
Review, Batch, Several images (and any page that runs a model on the dataset) read them from here when
a dataset is opened, and write here what the person sets, so a reload, another window or tomorrow's
visit shows the same. They live in the dataset's settings (a JSON column the store already keeps): the
model's geometry at the keys every run reads (``family``, ``min_pixels``, ``max_pixels``,
``coordinate_keys``, see :class:`workbench.runs.items.Reading`), the rest under ``remembered``.
An API key is never kept, nor a server URL that carries a password or a query (it could hold a key).

>>> from workbench.store import DatasetStore
>>> store = DatasetStore(":memory:")
>>> dataset = store.create_dataset("cats").id
>>> remember(store, dataset, model="Qwen/Qwen2.5-VL-7B-Instruct", find="cat, dog", status="new").labels
('cat', 'dog')
>>> again = remembered(store, dataset)
>>> again.model, again.filter.status, again.family
('Qwen/Qwen2.5-VL-7B-Instruct', 'new', 'qwen2.5-vl')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from grounding import DEFAULT_FAMILY
from workbench.run_settings import Reading
from workbench.store import DatasetStore, ItemFilter
from workbench.urls import shown_url

__all__ = ["KEY", "Remembered", "remember", "remembered"]

KEY = "remembered"
"""The dataset settings key that holds what is not the model's geometry."""

_TEXT = ("backend", "model", "base_url", "find", "prompt")
_FILTER = ("status", "label", "provenance", "name")


@dataclass(frozen=True)
class Remembered:
    """A dataset's last choices; empty text means "nothing chosen yet" (the page's own default then)."""

    backend: str = ""
    """``paste``, ``local`` or ``openai``."""
    model: str = ""
    base_url: str = ""
    find: str = ""
    """What to find, as typed: comma-separated labels for a batch, a phrase for one item."""
    prompt: str = ""
    geometry: Reading = field(default_factory=Reading)
    filter: ItemFilter = field(default_factory=ItemFilter)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(part.strip() for part in self.find.split(",") if part.strip())

    @property
    def family(self) -> str:
        return self.geometry.family

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Remembered:
        """Read from a dataset's stored settings; values of the wrong type read as not chosen."""
        raw = settings.get(KEY)
        raw = raw if isinstance(raw, Mapping) else {}
        text = {name: str(raw[name]) for name in _TEXT if isinstance(raw.get(name), str)}
        stored = raw.get("filter")
        stored = stored if isinstance(stored, Mapping) else {}
        flt = ItemFilter(**{name: str(stored[name]) for name in _FILTER if isinstance(stored.get(name), str)
                            and stored[name]})
        return cls(**text, geometry=Reading.from_dataset(settings), filter=flt)

    def as_settings(self) -> dict[str, Any]:
        """The ``remembered`` value to store (empty fields left out)."""
        out: dict[str, Any] = {name: getattr(self, name) for name in _TEXT if getattr(self, name)}
        flt = {k: v for k, v in asdict(self.filter).items() if v}
        if flt:
            out["filter"] = flt
        return out


def remembered(store: DatasetStore, dataset: int | None) -> Remembered:
    """The dataset's last choices (nothing chosen for no dataset)."""
    if dataset is None:
        return Remembered(geometry=Reading(DEFAULT_FAMILY.name))
    return Remembered.from_settings(store.dataset_settings(dataset))


def remember(store: DatasetStore, dataset: int, *, flt: ItemFilter | None = None, **fields: str | None) -> Remembered:
    """Keep what the person just set (``backend``, ``model``, ``base_url``, ``find``, ``prompt``; ``flt`` the
    queue's filter, or single filter fields ``status``, ``label``, ``provenance``, ``name``); None or a missing
    field keeps the stored value. One settings write; returns the result.

    A server URL with a password or a query is not kept (it could carry a key); the previous one stays.
    """
    current = remembered(store, dataset)
    text = {k: str(v).strip() for k, v in fields.items() if k in _TEXT and v is not None}
    unknown = set(fields) - set(_TEXT) - set(_FILTER)
    if unknown:
        raise TypeError(f"nothing to remember under {', '.join(sorted(unknown))}")
    if "base_url" in text and shown_url(text["base_url"]) != text["base_url"]:
        del text["base_url"]
    parts = {k: (str(v).strip() or None) for k, v in fields.items() if k in _FILTER and v is not None}
    new_filter = flt if flt is not None else current.filter
    if parts:
        new_filter = replace(new_filter, **parts)
    updated = replace(current, filter=new_filter, **text)  # type: ignore[arg-type]  # text: the str fields
    if updated != current:
        store.update_dataset_settings(dataset, {KEY: updated.as_settings() or None})
    return updated
