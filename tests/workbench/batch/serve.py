"""A ``transformers serve`` process on 127.0.0.1 that tests can start, kill and start again on the same port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from grounding import PixelLimits


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class TransformersServe:
    """``transformers serve --device cpu MODEL`` with, optionally, its own default pixel limits
    (``--chat-template-kwargs '{"processor_kwargs": {"size": ...}}'``: what the server uses when a
    request says nothing)."""

    def __init__(self, model: Path, folder: Path, *, limits: PixelLimits | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.model, self.folder, self.limits, self.extra_env = model, folder, limits, env or {}
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        (folder / "hub").mkdir(parents=True, exist_ok=True)
        self.log = folder / "serve.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> TransformersServe:
        env = os.environ | {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(self.folder / "hub"), "TRANSFORMERS_VERBOSITY": "warning"} | self.extra_env
        command = [sys.executable, "-m", "transformers.cli.transformers", "serve", "--host", "127.0.0.1",
                   "--port", str(self.port), "--device", "cpu"]
        if self.limits is not None:
            size = self.limits.as_processor_size()
            command += ["--chat-template-kwargs", json.dumps({"processor_kwargs": {"size": size}})]
        with self.log.open("a") as out:
            self.process = subprocess.Popen([*command, str(self.model)], stdout=out, stderr=subprocess.STDOUT, env=env)
        return self

    def wait_healthy(self, timeout: float = 180.0) -> TransformersServe:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"transformers serve exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url.removesuffix("/v1") + "/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"transformers serve did not become healthy in {timeout:.0f} s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL, as a crashed replica: open connections are cut."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
