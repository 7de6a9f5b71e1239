"""Where the app runs and what its visitors may do: the one home of the deployment rules.

A deployment is *public* on a Hugging Face Space (``SPACE_ID`` is set), with
``WORKBENCH_PUBLIC=1``, or with ``workbench serve --public``. There, visitors use the
configured server (``WORKBENCH_BASE_URL``) and model (``WORKBENCH_MODEL``) only, plus what the
operator lists in ``WORKBENCH_ALLOWED_BASE_URLS`` / ``WORKBENCH_ALLOWED_MODELS`` (comma
separated); a local folder is never loaded as a model for them. Locally (one user, the
operator) any server and model may be chosen unless an allowlist is set.

Servers are compared by origin (scheme, host, port; :mod:`workbench.urls`), never by prefix,
and a URL the visitor gives is never used as written where an allowlist applies: the matching
configured entry is. The configured API key (``WORKBENCH_API_KEY`` / ``OPENAI_API_KEY``) goes
to the configured server only. Server error bodies are echoed to the local user, never to
public visitors.

===============================  ========================================================
variable                         meaning
===============================  ========================================================
``SPACE_ID``                     set by Hugging Face Spaces: the deployment is public
``WORKBENCH_PUBLIC``             ``1``/``true``/``yes``: public anywhere else
``WORKBENCH_ALLOWED_BASE_URLS``  more servers visitors may use (comma separated URLs)
``WORKBENCH_ALLOWED_MODELS``     more models visitors may use (comma separated names)
===============================  ========================================================

The resource limits (:class:`ResourceLimits`) have their own variables, listed there.

>>> local = Deployment.from_env({})
>>> local.public, local.server_for("http://127.0.0.1:8000/v1")
(False, 'http://127.0.0.1:8000/v1')
>>> space = Deployment.from_env({"SPACE_ID": "me/app", "WORKBENCH_BASE_URL": "http://u:pw@10.0.0.2:8000/v1"})
>>> space.public, space.server_for(""), space.shown_base_url
(True, 'http://u:pw@10.0.0.2:8000/v1', 'http://***@10.0.0.2:8000/v1')
>>> space.server_for("http://10.0.0.2.evil.example:8000/v1")
Traceback (most recent call last):
...
workbench.errors.BackendError: this app uses its own server (http://***@10.0.0.2:8000/v1); other servers are not offered here
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.config import default_api_key, default_base_url, default_model
from workbench.environment import PUBLIC, on_space, process_env
from workbench.errors import BackendError
from workbench.limits import ResourceLimits
from workbench.urls import (
    UrlError,
    has_userinfo,
    key_for,
    origin,
    same_server,
    shown_url,
)

__all__ = ["Deployment", "ResourceLimits", "PUBLIC_ENV", "is_public"]

PUBLIC_ENV = PUBLIC
_TRUE = {"1", "true", "yes", "on"}


def is_public(env: Mapping[str, str] | None = None) -> bool:
    """On a Space (``SPACE_ID``) or with ``WORKBENCH_PUBLIC`` set to 1/true/yes.

    >>> is_public({}), is_public({"SPACE_ID": "me/app"}), is_public({"WORKBENCH_PUBLIC": "0"})
    (False, True, False)
    """
    env = process_env() if env is None else env
    return on_space(env) or env.get(PUBLIC_ENV, "").strip().lower() in _TRUE


def _listed(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip() for v in env.get(name, "").split(",") if v.strip())


@dataclass(frozen=True)
class Deployment:
    """The deployment's rules, read once from the environment (:meth:`from_env`)."""

    public: bool = False
    base_url: str | None = field(default=None, repr=False)
    """The configured server (may hold a password: never shown; see :attr:`shown_base_url`)."""
    model: str = field(default_factory=default_model)
    allowed_models: tuple[str, ...] = ()
    allowed_base_urls: tuple[str, ...] = field(default=(), repr=False)
    api_key: str = field(default="EMPTY", repr=False)
    limits: ResourceLimits = field(default_factory=ResourceLimits)
    proxy_hops: int = 0
    """Proxies in front of the app whose ``X-Forwarded-For`` names the client (a Space has one):
    ``WORKBENCH_PROXY_HOPS``, default 1 on a Space, else 0 (the socket's peer is the client)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, public: bool | None = None) -> Deployment:
        env = process_env() if env is None else env
        hops = env.get("WORKBENCH_PROXY_HOPS", "").strip()
        return cls(
            proxy_hops=int(hops) if hops.isdigit() else (1 if on_space(env) else 0),
            public=is_public(env) if public is None else public,
            base_url=default_base_url(env),
            model=default_model(env),
            allowed_models=_listed(env, "WORKBENCH_ALLOWED_MODELS"),
            allowed_base_urls=_listed(env, "WORKBENCH_ALLOWED_BASE_URLS"),
            api_key=default_api_key(env),
            limits=ResourceLimits.from_env(env),
        )

    # -- what is shown -----------------------------------------------------------------------
    @property
    def shown_base_url(self) -> str:
        """The configured server without password or query: safe for pages, messages and logs."""
        return shown_url(self.base_url)

    def describe(self) -> str:
        """One line for the page: public or not, and what visitors may use.

        >>> Deployment(public=True, model="m").describe()
        'Public deployment: the model m only; no server backend.'
        """
        if not self.public:
            return "Local deployment: any model and server you choose."
        models = ", ".join(dict.fromkeys((self.model, *self.allowed_models)))
        servers = ", ".join(shown_url(u) for u in self._servers())
        server_text = f"the server {servers}" if servers else "no server backend"
        return f"Public deployment: the model {models} only; {server_text}."

    # -- what visitors may use ---------------------------------------------------------------
    def _servers(self) -> tuple[str, ...]:
        return tuple(u for u in ((self.base_url,) if self.base_url else ()) + self.allowed_base_urls)

    @property
    def restricts_servers(self) -> bool:
        return self.public or bool(self.allowed_base_urls)

    def server_for(self, url: str | None) -> str:
        """The server URL to call for what a visitor asked (``""``: the configured one).

        Where servers are restricted, the URL returned is the configured or listed entry of the
        same origin (never the visitor's own string); a URL with a user name or password is
        refused. Raises :class:`BackendError` in words.
        """
        asked = (url or "").strip()
        if not asked or (self.base_url and asked in (self.base_url, self.shown_base_url)):
            if not self.base_url:
                raise BackendError("no server URL: give one, or set WORKBENCH_BASE_URL (e.g. http://127.0.0.1:8000/v1)"
                                   if not self.public else "this app has no server backend; use the local model")
            return self.base_url
        try:
            origin(asked)
        except UrlError as exc:
            raise BackendError(f"server URL refused: {exc}") from None
        if not self.restricts_servers:
            return asked
        if has_userinfo(asked):
            raise BackendError("server URL refused: a URL with a user name or password is not accepted here")
        for entry in self._servers():
            if same_server(asked, entry):
                return entry
        if self.public and not self.allowed_base_urls:
            if self.base_url:
                raise BackendError(f"this app uses its own server ({self.shown_base_url}); other servers are not "
                                   "offered here")
            raise BackendError("this app has no server backend; use the local model")
        offered = ", ".join(shown_url(u) for u in self._servers())
        raise BackendError(f"server {shown_url(asked)} is not offered here; choose one of: {offered}")

    def model_for(self, kind: str, model: str | None) -> str:
        """The model name to use (``""``: the configured one); raise :class:`BackendError` when not offered."""
        asked = (model or "").strip()
        if not asked:
            return self.model
        if len(asked) > 300 or any(ord(c) < 32 for c in asked):
            raise BackendError("model name refused: at most 300 characters, no control characters")
        offered = (self.model, *self.allowed_models)
        if asked in offered:
            return asked
        if self.public or self.allowed_models:
            local_folder = kind == "local" and _is_path(asked)
            what = "a folder on the server" if local_folder else f"model {asked!r}"
            raise BackendError(f"{what} is not offered here; choose one of: {', '.join(dict.fromkeys(offered))}")
        return asked

    def api_key_for(self, url: str) -> str:
        """The configured key for the configured server; ``EMPTY`` for any other.

        Locally, with no server configured, the key goes where the user points it (they own it).

        >>> d = Deployment(base_url="http://10.0.0.2:8000/v1", api_key="sk-secret")
        >>> d.api_key_for("http://10.0.0.2:8000/v1"), d.api_key_for("http://10.0.0.3:8000/v1")
        ('sk-secret', 'EMPTY')
        """
        return key_for(url, self.base_url, self.api_key, public=self.public)

    def backend_options(self, kind: str, options: Mapping[str, Any]) -> dict[str, Any]:
        """Validated constructor options for :func:`workbench.backends.create_backend`.

        Server and model are resolved with :meth:`server_for` / :meth:`model_for`; the request
        bounds (timeouts, retries) come from :attr:`limits`; a public deployment does not echo
        server error bodies.
        """
        options = dict(options)
        if kind not in ("local", "openai"):
            raise BackendError(f"unknown backend {kind!r}; expected local or openai")
        options["model"] = self.model_for(kind, options.get("model"))
        if kind == "openai":
            options["base_url"] = self.server_for(options.get("base_url"))
            options.setdefault("timeout", float(self.limits.server_timeout_s or 600))
            options.setdefault("max_retries", self.limits.server_retries)
            options.setdefault("deadline_s", float(self.limits.request_s) or None)
            options.setdefault("max_answer_bytes", self.limits.answer_bytes)
            options.setdefault("echo_errors", not self.public)
            if not options.get("api_key"):  # blank: the configured key, for the configured server only
                options["api_key"] = self.api_key_for(options["base_url"])
        elif "base_url" in options:
            raise BackendError("the local backend takes no server URL")
        return options


def _is_path(name: str) -> bool:
    try:
        return name.startswith((".", "/", "~")) or "\\" in name or Path(name).exists()
    except OSError:
        return True
