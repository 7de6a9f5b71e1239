"""What every page of the app shares: the services, the notice area, the browser's cursor, who the visitor is.

The cursor lives in the browser's local storage (``gr.BrowserState``), so a reload or a visit
tomorrow opens the same dataset and item; the store holds everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import gradio as gr

from workbench.errors import StoreError
from workbench.review import Cursor, new_token, owner_key
from workbench.services import Services
from workbench.store import Dataset

__all__ = ["AppContext", "PRIVATE", "QUEUED"]

PRIVATE = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
"""UI-only events that answer at once (their messages go to the notice area, never to a toast)."""
QUEUED = {"api_visibility": "private", "show_progress": "minimal"}


@dataclass
class AppContext:
    services: Services
    notice: gr.HTML
    cursor: gr.BrowserState
    tabs: gr.Tabs
    dataset: gr.Dropdown
    counts: gr.Markdown

    def owner(self, cursor: Cursor, profile: Any = None) -> str:
        """The owner key of this visitor's datasets ('' on a one-user, local workbench)."""
        username = getattr(profile, "username", None) if profile is not None else None
        return owner_key(self.services.public, username, cursor.token)

    def with_token(self, cursor: Cursor) -> Cursor:
        return cursor if cursor.token else replace(cursor, token=new_token())

    def dataset_record(self, cursor: Cursor, owner: str) -> Dataset | None:
        """The cursor's dataset when this visitor owns it, else their first one, else None."""
        store = self.services.store()
        if cursor.dataset is not None:
            try:
                return store.dataset(cursor.dataset, owner=owner)
            except StoreError:
                pass
        mine = store.list_datasets(owner=owner)
        return store.dataset(mine[0].id) if mine else None

    def dataset_choices(self, owner: str) -> list[tuple[str, int]]:
        return [(d.name, d.id) for d in self.services.store().list_datasets(owner=owner)]
