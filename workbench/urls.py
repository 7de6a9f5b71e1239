"""Server URLs as the deployment rules see them: their origin, and a form safe to show.

An *origin* is (scheme, host, port), with the scheme's default port filled in; two URLs name
the same server only when their origins are equal, never because one string starts with the
other (``http://allowed@evil`` is the host ``evil``; ``http://allowed.evil`` and
``http://allowed:81`` are other servers). A URL is *shown* without its password, user name
and query (where API keys hide), so it can go to a page, a message or a log.

>>> origin("HTTP://Example.com/v1")
Origin(scheme='http', host='example.com', port=80)
>>> origin("http://allowed@evil:8000/v1").host
'evil'
>>> same_server("http://h:8000/v1", "http://h:8000/other"), same_server("http://h:8000", "http://h:8001")
(True, False)
>>> shown_url("https://user:s3cret@api.example.com/v1?key=abc")
'https://***@api.example.com/v1?***'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

__all__ = ["Origin", "UrlError", "origin", "same_server", "has_userinfo", "key_for", "shown_url", "redact_urls"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class UrlError(ValueError):
    """A server URL that cannot be used: not http(s), no host, a bad port."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def _split(url: str) -> SplitResult:
    if not isinstance(url, str) or not url.strip():
        raise UrlError("no server URL given")
    if any(ord(c) < 33 or c == "\\" for c in url.strip()):
        raise UrlError("a server URL has no spaces, control characters or backslashes")
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in _DEFAULT_PORTS:
        raise UrlError("a server URL starts with http:// or https://")
    if not parts.hostname:
        raise UrlError("the server URL names no host")
    return parts


def origin(url: str) -> Origin:
    """(scheme, host, port) of an http(s) URL; raise :class:`UrlError` when it is not one."""
    parts = _split(url)
    try:
        port = parts.port
    except ValueError:
        raise UrlError("the server URL has an invalid port") from None
    scheme = parts.scheme.lower()
    return Origin(scheme, (parts.hostname or "").lower(), port if port is not None else _DEFAULT_PORTS[scheme])


def same_server(a: str, b: str) -> bool:
    """Whether two URLs have the same origin (False when either is not a usable URL)."""
    try:
        return origin(a) == origin(b)
    except UrlError:
        return False


def key_for(url: str, configured_url: str | None, key: str, *, public: bool = False) -> str:
    """The API key to send to ``url``: the configured ``key`` goes to the configured server only (``EMPTY``,
    what vLLM and ``transformers serve`` accept, elsewhere); with no server configured, where the user points
    it locally, nowhere on a public deployment.

    >>> key_for("http://10.0.0.2:8000/v1", "http://10.0.0.2:8000/v1", "sk"), key_for("http://10.0.0.3/v1", "http://10.0.0.2:8000/v1", "sk")
    ('sk', 'EMPTY')
    >>> key_for("http://10.0.0.3/v1", None, "sk"), key_for("http://10.0.0.3/v1", None, "sk", public=True)
    ('sk', 'EMPTY')
    """
    if configured_url:
        try:
            return key if same_server(url, configured_url) else "EMPTY"
        except UrlError:
            return "EMPTY"
    return "EMPTY" if public else key


def has_userinfo(url: str) -> bool:
    """Whether the URL carries a user name or password (``http://user:pw@host``)."""
    try:
        return "@" in _split(url).netloc
    except UrlError:
        return "@" in str(url)


def shown_url(url: str | None) -> str:
    """The URL without user name, password, query or fragment (each replaced by ``***``)."""
    if not url:
        return ""
    try:
        parts = urlsplit(str(url).strip())
    except ValueError:
        return "(an invalid URL)"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    shown = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else f"{netloc}{parts.path}"
    if parts.query:
        shown += "?***"
    if parts.fragment:
        shown += "#***"
    return shown


_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+")


def redact_urls(text: str) -> str:
    """Every URL inside ``text`` in its :func:`shown_url` form.

    >>> redact_urls("cannot reach http://bob:pw@10.0.0.5:8000/v1 (refused)")
    'cannot reach http://***@10.0.0.5:8000/v1 (refused)'
    """
    return _URL_IN_TEXT.sub(lambda m: shown_url(m.group(0)), str(text))
