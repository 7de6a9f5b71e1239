"""Every handler that names a ``request`` gets one from Gradio.

Gradio injects ``gr.Request`` only into a parameter whose resolved annotation is ``gr.Request`` or
``Optional[gr.Request]`` (``gradio.helpers.special_args``), and it resolves annotations all at once: one that
cannot be resolved (a name imported only for type checking, say) makes it see none, and the handler silently gets
``None`` — on a public deployment, a visitor with no owner key. Checked here on the public app as built.
"""

from __future__ import annotations

import inspect
from typing import Optional

import gradio as gr
from gradio import utils

from ui.app import create_app
from workbench.services import Services

INJECTED = (gr.Request, Optional[gr.Request])  # noqa: UP045 (the spelling Gradio compares with)


def _handlers_with_a_request(demo: gr.Blocks) -> list[tuple[str, object]]:
    found = []
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None:
            continue
        try:
            names = list(inspect.signature(fn).parameters)
        except (TypeError, ValueError):
            continue
        if "request" in names:
            found.append((getattr(fn, "__qualname__", repr(fn)), utils.get_type_hints(fn).get("request")))
    return found


def test_gradio_injects_the_request_into_every_handler_that_names_one(tmp_path):
    demo = create_app(Services.create(tmp_path / "data", public=True))
    handlers = _handlers_with_a_request(demo)
    assert len(handlers) > 40  # the pages' handlers were found
    assert [name for name, hint in handlers if hint not in INJECTED] == []


def test_the_check_sees_an_annotation_gradio_would_not_inject():
    def unresolvable(data: object, request: "NotImported" = None):  # noqa: F821, UP037 (the point: it cannot resolve)
        return data

    assert utils.get_type_hints(unresolvable).get("request") not in INJECTED
