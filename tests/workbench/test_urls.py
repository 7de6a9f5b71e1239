"""Server URLs are compared by origin, never by prefix, and shown without their secrets."""

from __future__ import annotations

import pytest

from workbench.urls import (
    UrlError,
    has_userinfo,
    origin,
    redact_urls,
    same_server,
    shown_url,
)

ALLOWED = "http://allowed.example:8000/v1"


@pytest.mark.parametrize("url, same", [
    pytest.param("http://allowed.example:8000/v1", True, id="itself"),
    pytest.param("HTTP://ALLOWED.example:8000/other/path", True, id="case-and-path"),
    pytest.param("http://allowed.example@evil.example:8000/v1", False, id="userinfo-names-another-host"),
    pytest.param("http://allowed.example:8000@evil.example/v1", False, id="userinfo-with-port"),
    pytest.param("http://allowed.example.evil.example:8000/v1", False, id="longer-host"),
    pytest.param("http://allowed.example:8001/v1", False, id="other-port"),
    pytest.param("https://allowed.example:8000/v1", False, id="other-scheme"),
    pytest.param("http://allowed.example/v1", False, id="default-port-80"),
    pytest.param("ftp://allowed.example:8000/v1", False, id="not-http"),
    pytest.param("http://allowed.example:99999/v1", False, id="bad-port"),
])
def test_same_server_compares_scheme_host_and_port_exactly(url, same):
    assert same_server(url, ALLOWED) is same


def test_default_ports_are_filled_in():
    assert origin("https://h/v1").port == 443
    assert same_server("http://h:80/v1", "http://h/v1")


@pytest.mark.parametrize("url", ["", "file:///etc/passwd", "http:///v1", "http://h /v1", "http://h\\@evil/"])
def test_unusable_urls_are_refused_in_words(url):
    with pytest.raises(UrlError, match="server URL|no server"):
        origin(url)


def test_userinfo_is_seen_and_hidden():
    assert has_userinfo("http://bob:pw@h:1/v1") and has_userinfo("http://allowed@evil/")
    assert not has_userinfo("http://h:1/v1")
    assert shown_url("http://bob:pw@h:1/v1?api_key=sk-1#x") == "http://***@h:1/v1?***#***"
    assert shown_url(None) == "" and shown_url("http://h:1/v1") == "http://h:1/v1"


def test_urls_inside_messages_are_redacted():
    text = "cannot reach http://bob:pw@10.0.0.5:8000/v1?key=sk-123 (refused); see https://docs.example/x"
    shown = redact_urls(text)
    assert "pw" not in shown and "sk-123" not in shown
    assert "http://***@10.0.0.5:8000/v1?***" in shown and "https://docs.example/x" in shown
