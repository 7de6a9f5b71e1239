"""The fields several pages share through the store (:mod:`workbench.remembered`): model, server, backend, what
to find, the prompt, and Review's family and pixel limits.

Each page registers its components here under a field name. When a dataset is opened (a load, a choice,
a new or imported dataset) every page's fields show that dataset's values (:meth:`SharedFields.part`).
When the person leaves a field (``blur``) or picks a choice (``input``), the value is kept for the
dataset and the fields of the same name on the *other* pages show it at once; the field being typed in
is never written by these events, so no refresh can undo a keystroke.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import gradio as gr

from ui.context import PRIVATE, AppContext
from ui.notice import speaks
from workbench.remembered import Remembered, remember

__all__ = ["SharedField", "SharedFields"]


def _same(value: Any) -> Any:
    return value


def _server_kind(kind: str) -> str | None:
    return kind if kind in ("local", "openai") else None


@dataclass
class SharedField:
    name: str
    """``backend``, ``model``, ``base_url``, ``find``, ``prompt`` (kept by :func:`remember`), or ``family``,
    ``min_pixels``, ``max_pixels``, ``coordinate_keys``, ``convention`` (shown only: saved by Review's own button)."""
    component: Any
    default: Any = None
    """What the field shows when the dataset has nothing for it."""
    show: Callable[[str], Any] = _same
    """Stored text -> the component's value (None: keep the page's default)."""
    read: Callable[[Any], str | None] = _same
    """The component's value -> the text to keep (None: nothing to keep)."""


@dataclass
class SharedFields:
    fields: list[SharedField] = field(default_factory=list)

    def add(self, name: str, component: Any, default: Any = None, *, show: Callable[[str], Any] = _same,
            read: Callable[[Any], str | None] = _same) -> None:
        self.fields.append(SharedField(name, component, default, show, read))

    def add_model(self, backend: Any, model: Any, base_url: Any, deployment: Any, *,
                  read_model: Callable[[Any], str | None] = _same) -> None:
        """A page's backend choice (``local``/``openai`` values), model and server fields, shown by default as the
        deployment configures them."""
        self.add("backend", backend, "openai", show=_server_kind)
        self.add("model", model, deployment.model, read=read_model)
        self.add("base_url", base_url, deployment.shown_base_url)

    def components(self) -> list[Any]:
        return [f.component for f in self.fields]

    def part(self, chosen: Remembered) -> dict[Any, Any]:
        """Every registered field showing the dataset's values (or the page's default)."""
        geometry = chosen.geometry
        stored: dict[str, Any] = {
            "backend": chosen.backend, "model": chosen.model, "base_url": chosen.base_url, "find": chosen.find,
            "prompt": chosen.prompt, "family": geometry.family, "min_pixels": geometry.min_pixels,
            "max_pixels": geometry.max_pixels, "coordinate_keys": ", ".join(geometry.coordinate_keys),
            "convention": geometry.convention or ""}
        out = {}
        for f in self.fields:
            value = stored.get(f.name)
            if f.name in ("min_pixels", "max_pixels"):
                out[f.component] = value
                continue
            shown = f.show(value) if value else None
            out[f.component] = shown if shown is not None else f.default
        return out

    def wire(self, ctx: AppContext) -> None:
        """Keep each remembered field when the person leaves or picks it; show it on the other pages."""
        for f in self.fields:
            if f.name not in ("backend", "model", "base_url", "find", "prompt"):
                continue
            others = [o for o in self.fields if o.name == f.name and o is not f]
            trigger = f.component.input if isinstance(f.component, (gr.Radio, gr.Dropdown)) else f.component.blur
            trigger(speaks(ctx.notice)(_keeper(ctx, f, others)), [ctx.cursor, f.component],
                    [ctx.notice, *[o.component for o in others]], **PRIVATE)


def _keeper(ctx: AppContext, kept_field: SharedField, others: list[SharedField]) -> Callable[..., dict]:
    def keep(data: Any, value: Any, request: gr.Request | None = None) -> dict:
        cursor = ctx.cursor_of(data, request)
        text = kept_field.read(value)
        if cursor.dataset is None or text is None:
            return {ctx.notice: gr.skip()}
        # mypy: a **dict could fill remember()'s `flt`; the name is one of its text fields (wire() keeps no other)
        kept = remember(ctx.services.store(), cursor.dataset,
                        **{kept_field.name: text})  # type: ignore[arg-type]  # needs a by-name remember() in workbench
        stored = getattr(kept, kept_field.name)
        shown = {o.component: o.show(stored) if stored else o.default for o in others}
        return {ctx.notice: gr.skip(), **{c: v for c, v in shown.items() if v is not None}}

    return keep
