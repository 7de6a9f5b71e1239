"""Who is asking: the signed-in Hugging Face user, else the browser session, else the client's address.

Gradio's OAuth (``hf_oauth: true`` on a Space, a ``gr.LoginButton`` in the page) keeps the sign-in in a
signed session cookie (Starlette's ``SessionMiddleware``); on each request the decoded session is a
plain dict in the request's ASGI scope, ``scope["session"]["oauth_info"]["userinfo"]["preferred_username"]``.
``gr.Request.session`` is not that dict: Gradio turns it into an attribute object, which is why a
``dict`` check never saw a user. The scope is read here, as Gradio itself reads it for
``gr.OAuthProfile`` parameters, with the sign-in's expiry honoured.

A visitor key says whose turn a model request is (:mod:`workbench.deployment.gate`) and whose uploads
count against a quota (:mod:`ui.upload_quota`): ``hf:<user>`` when signed in; for the page's own events
the browser session (``session:<hash>``, one per page load); for the public API, whose every raw
``/call`` gets a new session hash, the client's address (``ip:<address>``; behind a proxy, the address
it forwarded, see :attr:`workbench.deployment.Deployment.proxy_hops`).

>>> class Scoped:  # what a gr.Request wraps: a Starlette request with its scope
...     scope = {"session": {"oauth_info": {"userinfo": {"preferred_username": "alice"}}}}
>>> class Wrapped:
...     request, session_hash, headers, client = Scoped(), "h1", {}, None
>>> signed_in_user(Wrapped()), visitor_key(Wrapped(), api=True)
('alice', 'hf:alice')
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

__all__ = ["client_address", "current_request", "session_of", "signed_in_user", "visitor_key"]


def session_of(request: Any) -> Mapping[str, Any]:
    """The request's decoded session cookie (empty when there is none, or no sign-in is configured)."""
    if request is None:
        return {}
    underlying = getattr(request, "request", None) or request
    scope = getattr(underlying, "scope", None)
    session = scope.get("session") if isinstance(scope, dict) else None
    return session if isinstance(session, Mapping) else {}


def signed_in_user(request: Any) -> str | None:
    """The Hugging Face user name a visitor signed in with, if the sign-in is present and not expired."""
    info = session_of(request).get("oauth_info")
    if not isinstance(info, Mapping):
        return None
    expires = info.get("expires_at")
    if isinstance(expires, (int, float)) and expires < time.time():
        return None
    user = info.get("userinfo")
    name = user.get("preferred_username") if isinstance(user, Mapping) else None
    return name if isinstance(name, str) and name else None


def client_address(request: Any, proxy_hops: int = 0) -> str | None:
    """The client's address: the socket's peer, or with ``proxy_hops`` proxies in front (a Space's), the
    address the outermost of them saw (counted from the right of ``X-Forwarded-For``, which a client can
    only prepend to)."""
    if request is None:
        return None
    if proxy_hops > 0:
        headers = getattr(request, "headers", None) or {}
        forwarded = headers.get("x-forwarded-for") if hasattr(headers, "get") else None
        hops = [h.strip() for h in str(forwarded or "").split(",") if h.strip()]
        if len(hops) >= proxy_hops:
            return hops[-proxy_hops]
    client = getattr(request, "client", None)
    host = getattr(client, "host", None)
    return str(host) if host else None


def visitor_key(request: Any, *, api: bool, proxy_hops: int = 0) -> str | None:
    """``hf:<user>``, else ``session:<hash>`` for the page's events, else ``ip:<address>`` (None: unknown)."""
    user = signed_in_user(request)
    if user:
        return f"hf:{user}"
    session_hash = getattr(request, "session_hash", None) if request is not None else None
    if not api and session_hash:
        return f"session:{session_hash}"
    address = client_address(request, proxy_hops)
    if address:
        return f"ip:{address}"
    return f"session:{session_hash}" if session_hash else None


def current_request() -> Any:
    """The ``gr.Request`` of the event this thread is handling (Gradio sets it around every handler call)."""
    from gradio.context import LocalContext

    return LocalContext.request.get(None)
