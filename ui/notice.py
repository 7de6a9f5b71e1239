"""Messages for the person, shown in the page's notice area (never only in the server log).

Gradio 6 drops ``gr.Warning``/``gr.Error`` raised by handlers that skip the queue, and shows
unexpected errors as a red badge without words. Every handler of this app therefore returns its
message as HTML for one notice component, and :func:`speaks` turns any exception into such a
message: words the person can act on for our own errors, the error's type and text (and a
traceback in the log) for a bug. Each new message replaces the last one, so a warning from an
earlier action never sits beside a new error. All text is escaped.

>>> say("error", "no dataset '<b>x</b>'")
'<div class="wb-notice wb-error" role="alert">no dataset &#x27;&lt;b&gt;x&lt;/b&gt;&#x27;</div>'
>>> say("info", "")
''
"""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Sequence
from typing import Any

from workbench.errors import USER_ERRORS

__all__ = ["USER_ERRORS", "say", "speaks"]

log = logging.getLogger("grounding-workbench")

_KINDS = {"info": "wb-info", "ok": "wb-ok", "warning": "wb-warning", "error": "wb-error"}


def say(kind: str, text: str, details: Sequence[str] = (), *, folded: str = "",
        folded_title: str = "The model's reasoning") -> str:
    """One message as HTML: ``kind`` is info, ok, warning or error; ``details`` become a list under it;
    ``folded`` (a model's reasoning) goes under a closed ``<details>`` titled ``folded_title``.

    >>> message = say("ok", "Read 1 box.", folded="It is <left>.")
    >>> "<details class='wb-folded'><summary>The model&#x27;s reasoning</summary>" in message, "&lt;left&gt;" in message
    (True, True)
    """
    if not text and not details:
        return ""
    body = html.escape(text)
    if details:
        body += "<ul>" + "".join(f"<li>{html.escape(d)}</li>" for d in details) + "</ul>"
    if folded:
        body += (f"<details class='wb-folded'><summary>{html.escape(folded_title)}</summary>"
                 f"<pre>{html.escape(folded)}</pre></details>")
    role = ' role="alert"' if kind == "error" else ""
    return f'<div class="wb-notice {_KINDS[kind]}"{role}>{body}</div>'


def speaks(notice: Any) -> Callable[[Callable[..., dict]], Callable[..., dict]]:
    """Decorate a handler that returns ``{component: value}``: an exception becomes ``{notice: message}``."""

    def wrap(fn: Callable[..., dict]) -> Callable[..., dict]:
        @functools.wraps(fn)
        def handler(*args: Any, **kwargs: Any) -> dict:
            try:
                return fn(*args, **kwargs)
            except USER_ERRORS as exc:
                return {notice: say("error", str(exc))}
            except Exception as exc:  # a bug: say so in the page, keep the traceback in the log
                log.exception("unexpected error in %s", fn.__name__)
                return {notice: say("error", f"Something went wrong ({type(exc).__name__}: {exc}). Nothing was "
                                             "lost; the details are in the server log.")}

        return handler

    return wrap
