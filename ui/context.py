"""What every page of the app shares: the services, the notice area, the browser's cursor, who the visitor is.

The cursor lives in the browser's local storage (``gr.BrowserState``), so a reload or a visit
tomorrow opens the same dataset and item; the store holds everything else.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal, TypedDict

import gradio as gr

from ui.visitors import signed_in_user
from workbench.errors import StoreError
from workbench.review import Cursor, new_token, owner_key
from workbench.run_settings import ModelSource
from workbench.services import Services
from workbench.store import Dataset


def _username(profile: Any) -> str | None:
    """The signed-in Hugging Face user of a ``gr.OAuthProfile`` or of a request's session cookie, if any."""
    if profile is None:
        return None
    if isinstance(profile, gr.OAuthProfile):
        return profile.username or None
    return signed_in_user(profile)  # a gr.Request: the sign-in lives in its session (ui.visitors)


__all__ = ["MODEL_RUN", "PRIVATE", "QUEUED", "AppContext", "ListenerOptions"]


class ListenerOptions(TypedDict, total=False):
    """Keyword options of a Gradio event listener (``click``, ``change``, ``load``…), spelled as Gradio's own
    signature types them, so ``**PRIVATE`` type-checks at every listener."""

    queue: bool
    api_visibility: Literal["public", "private", "undocumented"]
    show_progress: Literal["full", "minimal", "hidden"]
    concurrency_id: str | None
    concurrency_limit: int | Literal["default"] | None


PRIVATE: ListenerOptions = {"queue": False, "api_visibility": "private", "show_progress": "hidden"}
"""UI-only events that answer at once (their messages go to the notice area, never to a toast)."""
QUEUED: ListenerOptions = {"api_visibility": "private", "show_progress": "minimal"}
"""UI-only events that go through the queue (imports, exports, evaluations): a small progress display."""
MODEL_RUN: ListenerOptions = {**QUEUED, "concurrency_id": "model", "concurrency_limit": 1}
"""The pages' own model calls (Review's run and probe, Try it, Several images, Batch's probe): queued, one at a
time across the app (a local model holds one generation)."""


@dataclass
class AppContext:
    services: Services
    notice: gr.HTML
    cursor: gr.BrowserState
    tabs: gr.Tabs
    dataset: gr.Dropdown
    counts: gr.Markdown
    demo: gr.Blocks
    """The app's Blocks (its ``load`` event: the Queue page opens the browser's dataset)."""

    def engine(self, kind: str, model: str | None, base_url: str | None, api_key: str | None = None) -> Any:
        """The backend a page's fields name (:class:`~workbench.run_settings.ModelSource`), behind the deployment's
        gate; blank fields: the configured model and server."""
        source = ModelSource(kind, model or "", (base_url,) if base_url else (), api_key or None)
        return self.services.backend(kind, **source.backend_options())

    def owner(self, cursor: Cursor, profile: Any = None) -> str:
        """The owner key of this visitor's datasets ('' on a one-user, local workbench).

        ``profile`` is a ``gr.OAuthProfile`` or a ``gr.Request`` (whose session holds the Hugging Face
        sign-in, when there is one).
        """
        return owner_key(self.services.public, _username(profile), cursor.token)

    def cursor_of(self, data: Any, request: Any = None) -> Cursor:
        """The browser's cursor, keeping only what this visitor owns.

        The cursor comes from the browser, so on a public deployment it is checked on every action: a
        dataset of another owner, or an item outside the cursor's dataset, is dropped (the page then
        shows this visitor's own first dataset) — a crafted request reaches nothing that is not theirs.
        """
        cursor = Cursor.from_json(data)
        store = self.services.store()
        if cursor.dataset is not None and self.services.public:
            try:
                store.dataset(cursor.dataset, owner=self.owner(cursor, request))
            except StoreError:
                return replace(cursor, dataset=None, item=None, version=0)
        if cursor.item is not None:
            try:
                if store.item(cursor.item).dataset_id != cursor.dataset:
                    return replace(cursor, item=None, version=0)
            except StoreError:
                return replace(cursor, item=None, version=0)
        return cursor

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
