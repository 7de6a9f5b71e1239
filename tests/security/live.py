"""A live app in its own process (its own environment: public or not, a configured server with a
password, an API key) and loopback servers that record every connection they get.

Attacks go in over HTTP as a stranger would send them: through gradio_client, or as raw JSON to
``/gradio_api/call/<name>`` (what gradio_client would otherwise turn into uploads).
Fixtures built on these are in ``conftest.py``; browser tests use them from ``tests/ui``.
"""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import REPO
from tests.security import small_fs
from tests.ui.conftest import free_port

PASSWORD = "pa55-w0rd-7c1"
API_KEY = "sk-space-key-4f2"
BODY_SECRET = "internal-body-9e3"


@dataclass
class Seen:
    client: tuple
    method: str = ""
    path: str = ""
    headers: dict = field(default_factory=dict)
    """Header names in lower case."""
    auth: list = field(default_factory=list)
    """Every Authorization header value sent."""


class Recorder(http.server.ThreadingHTTPServer):
    """A loopback HTTP server that records every connection and request.

    ``mode``: ``"500"`` answers every request 500 with a body holding :data:`BODY_SECRET`;
    ``"redirect"`` answers 307 to ``location``; ``"ok"`` streams a chat completion that says ``[]``.
    """

    daemon_threads = True

    def __init__(self, mode: str = "500", location: str = "") -> None:
        self.mode, self.location = mode, location
        self.connections: list[tuple] = []
        self.requests: list[Seen] = []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def verify_request(self, request, client_address) -> bool:
        self.connections.append(client_address)
        return True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def close(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(http.server.BaseHTTPRequestHandler):
    def _answer(self) -> None:
        server: Recorder = self.server  # type: ignore[assignment]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(min(length, 50_000_000))
        server.requests.append(Seen(self.client_address, self.command, self.path,
                                    {k.lower(): v for k, v in self.headers.items()},
                                    list(self.headers.get_all("authorization") or [])))
        if server.mode == "redirect":
            self.send_response(307)
            self.send_header("Location", server.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if server.mode == "ok":  # one streamed chat completion chunk answering "[]"
            chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "m",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "[]"}, "finish_reason": "stop"}]}
            body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        else:
            body = json.dumps({"error": {"message": f"{BODY_SECRET} at /srv/models/secret.bin"}}).encode()
            self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args) -> None:
        pass


class LiveApp:
    """``ui.launch.launch()`` in a subprocess with the given environment; its output goes to ``log``."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log = folder / "app.log"
        self.upload_dir = folder / "gradio-tmp"
        full = {k: v for k, v in os.environ.items() if not k.startswith(("WORKBENCH_", "SPACE_ID", "OPENAI_"))}
        full |= {"WORKBENCH_DATA_DIR": str(folder / "data"), "GRADIO_TEMP_DIR": str(self.upload_dir),
                 "GRADIO_SERVER_PORT": str(self.port), "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
                 "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]), **env}
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, "-c", "from ui.launch import launch; launch()"],
                                            cwd=REPO, env=full, stdout=out, stderr=subprocess.STDOUT)
        self._wait_up()

    def _wait_up(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError(f"the app did not answer in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def get(self, path: str) -> str:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return response.read().decode("utf-8", "replace")

    def call(self, api_name: str, data: list, timeout: float = 120.0) -> tuple[str, object]:
        return call(self.url, api_name, data, timeout)

    def upload(self, path: Path) -> dict:
        return upload(self.url, path)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


def call(url: str, api_name: str, data: list, timeout: float = 120.0) -> tuple[str, object]:
    """Raw ``/gradio_api/call``: (``complete`` or ``error``, the decoded payload)."""
    request = urllib.request.Request(url + f"gradio_api/call/{api_name}", data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        event_id = json.load(response)["event_id"]
    with urllib.request.urlopen(url + f"gradio_api/call/{api_name}/{event_id}", timeout=timeout) as response:
        text = response.read().decode()
    event = data_line = None
    for line in text.splitlines():
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event in ("complete", "error"):
            data_line = line[6:]
    payload = json.loads(data_line) if data_line else None
    return event or "", payload


def upload(url: str, path: Path) -> dict:
    """Upload a file as the browser does; the FileData of the upload."""
    boundary = "----workbench-test"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(url + "gradio_api/upload", data=body,
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(request, timeout=60) as response:
        server_path = json.load(response)[0]
    return {"path": server_path, "orig_name": path.name, "meta": {"_type": "gradio.FileData"}}


def error_text(outcome: tuple[str, object]) -> str:
    """The words of an error answer (fails the test when the call did not fail, or failed without words)."""
    event, payload = outcome
    assert event == "error", f"expected a refusal, got {event}: {payload}"
    assert isinstance(payload, dict) and payload.get("error"), f"an error without words: {payload}"
    return str(payload["error"])


class NamespacedApp:
    """The app (``ui.launch.launch``) with its data folder on a small tmpfs, possibly read-only.

    ``setup`` is a shell step run after the mount (``{mount}`` is the tmpfs folder).
    """

    def __init__(self, folder, *, size: str, setup: str = "", read_only: bool = False) -> None:
        self.mount = folder / "disk"
        self.mount.mkdir(parents=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        env = small_fs.env() | {"WORKBENCH_DATA_DIR": str(self.mount / "data"), "GRADIO_SERVER_PORT": str(self.port),
                                "GRADIO_TEMP_DIR": str(folder / "gradio")}
        command = small_fs.shell_command(self.mount, size, small_fs.python_command(
            "from ui.launch import launch; launch()"), setup=setup.format(mount=self.mount), read_only=read_only)
        self.log = folder / "app.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url, timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise AssertionError(f"the app did not start:\n{self.log.read_text()[-3000:]}")

    def config(self) -> str:
        with urllib.request.urlopen(self.url + "config", timeout=30) as response:
            return response.read().decode()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)


OAUTH_SECRET = "oauth-client-secret-5d1"
OAUTH_ENV = {"SYSTEM": "spaces", "SPACE_ID": "someone/workbench", "OAUTH_CLIENT_ID": "client-id-0b7",
             "OAUTH_CLIENT_SECRET": OAUTH_SECRET, "OAUTH_SCOPES": "openid profile",
             "OPENID_PROVIDER_URL": "https://hf.invalid"}
"""What a Space with ``hf_oauth: true`` runs with (``SYSTEM=spaces`` makes Gradio use its real OAuth routes)."""


def signed_session(user: str, *, expires_in: float = 3600.0, secret: str = OAUTH_SECRET) -> str:
    """The ``session`` cookie Gradio's OAuth callback sets after a sign-in: Starlette's SessionMiddleware
    signs base64(JSON) with itsdangerous under sha256(OAUTH_CLIENT_SECRET + "-v4")."""
    import base64
    import hashlib

    from itsdangerous import TimestampSigner

    session = {"oauth_info": {"userinfo": {"preferred_username": user, "name": user.title()},
                              "access_token": "hf_oauth_token", "scope": "openid profile",
                              "expires_at": int(time.time() + expires_in)}}
    key = hashlib.sha256((secret + "-v4").encode()).hexdigest()
    return TimestampSigner(key).sign(base64.b64encode(json.dumps(session).encode())).decode()


def call_as(url: str, api_name: str, data: list, *, source: str = "127.0.0.1", cookie: str | None = None,
            timeout: float = 120.0) -> tuple[str, object]:
    """A raw ``/gradio_api/call`` from a chosen loopback source address (another client), with a session cookie."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    headers = {"Content-Type": "application/json", **({"Cookie": f"session={cookie}"} if cookie else {})}

    def request(method: str, path: str, body: bytes | None = None) -> str:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout, source_address=(source, 0))
        try:
            conn.request(method, path, body=body, headers=headers)
            return conn.getresponse().read().decode()
        finally:
            conn.close()

    event_id = json.loads(request("POST", f"/gradio_api/call/{api_name}", json.dumps({"data": data}).encode()))
    text = request("GET", f"/gradio_api/call/{api_name}/{event_id['event_id']}")
    event = data_line = None
    for line in text.splitlines():
        if line.startswith("event: "):
            event = line[7:].strip()
        elif line.startswith("data: ") and event in ("complete", "error"):
            data_line = line[6:]
    return event or "", json.loads(data_line) if data_line else None


def upload_as(url: str, path: Path, *, source: str = "127.0.0.1") -> tuple[int, object]:
    """Upload a file as the browser does, from a chosen loopback address: (HTTP status, the paths or the refusal's
    words)."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    boundary = "----workbench-test"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"{path.name}\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    body = head + path.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120, source_address=(source, 0))
    try:
        conn.request("POST", "/gradio_api/upload", body=body,
                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
        response = conn.getresponse()
        text = response.read().decode()
        return response.status, json.loads(text) if response.status == 200 else text
    finally:
        conn.close()


def post_json(url: str, path: str, payload: object) -> tuple[int, object]:
    """A raw JSON POST: (HTTP status, decoded answer)."""
    import urllib.error

    request = urllib.request.Request(url + path, data=json.dumps(payload).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")
