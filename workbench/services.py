"""What the app needs from the outside world, made once per process and passed in (never a global).

The data directory holds the dataset store, the images, and ``served/``: the one folder the web
app lets browsers fetch from (thumbnails, display copies, a session's drawn results, export zips).
Models are shared by all sessions (loaded once, reused); user data never is.

>>> import tempfile
>>> services = Services.create(tempfile.mkdtemp())
>>> services.session_dir("abc").relative_to(services.data_dir).as_posix()
'served/sessions/abc'
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.served import ServedFiles
from workbench.store.datadir import data_dir_note, resolve_data_dir

__all__ = ["Services"]


@dataclass
class Services:
    data_dir: Path
    backend_factory: Callable[..., Any] | None = None
    """``(kind, **options) -> ModelBackend``; defaults to :func:`workbench.backends.create_backend`."""
    public: bool = False
    """A public deployment (a Space, or ``WORKBENCH_PUBLIC=1``): each visitor owns their datasets."""
    _backends: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _store: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, data_dir: str | os.PathLike | None = None, **kwargs: Any) -> Services:
        path = resolve_data_dir(data_dir)  # argument, WORKBENCH_DATA_DIR, a Space's /data, or the user data folder
        path.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("public", _public_from_env())
        return cls(data_dir=path, **kwargs)

    @property
    def served_dir(self) -> Path:
        """The only folder of the data dir that browsers may fetch from."""
        return self.data_dir / "served"

    def served(self) -> ServedFiles:
        return ServedFiles(self.served_dir)

    def data_note(self) -> str:
        """What the page should say about where data lives ('' when nothing needs saying)."""
        return data_dir_note(self.data_dir)

    def session_dir(self, name: str | None = None) -> Path:
        """A fresh working folder for one browser session of the Try-it view (its uploads, drawn results)."""
        folder = self.served_dir / "sessions" / (name or uuid.uuid4().hex)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def drop_session_dir(self, folder: str | os.PathLike) -> None:
        folder = Path(folder)
        if folder.parent == self.served_dir / "sessions":
            shutil.rmtree(folder, ignore_errors=True)

    def download_dir(self) -> Path:
        """A fresh folder for one export made in the browser (its zip is downloaded from there)."""
        folder = self.served_dir / "exports" / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def store(self) -> Any:
        """The dataset store of this data folder (SQLite, WAL), opened once."""
        with self._lock:
            if self._store is None:
                from workbench.store import DatasetStore

                self._store = DatasetStore.open(self.data_dir)
            return self._store

    def exports_dir(self) -> Path:
        folder = self.data_dir / "exports"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def backend(self, kind: str, **options: Any) -> Any:
        """The backend for (kind, options), created on first use and reused.

        At most one local model is kept in memory: asking for another checkpoint releases the
        previous one (a GPU holds one model at a time). Server clients are light; the last few are kept.
        ``WORKBENCH_ALLOWED_MODELS`` / ``WORKBENCH_ALLOWED_BASE_URLS`` (comma-separated) restrict what a
        public deployment lets visitors choose.
        """
        _check_allowed(kind, options)
        key = (kind, tuple(sorted(options.items())))
        with self._lock:
            if key in self._backends:
                self._backends[key] = self._backends.pop(key)  # most recently used last
                return self._backends[key]
            if kind == "local":
                for old in [k for k in self._backends if k[0] == "local"]:
                    del self._backends[old]
                _release_memory()
            factory = self.backend_factory
            if factory is None:
                from workbench.backends import create_backend as factory
            self._backends[key] = factory(kind, **options)
            servers = [k for k in self._backends if k[0] != "local"]
            for old in servers[:-MAX_SERVER_CLIENTS]:
                del self._backends[old]
            return self._backends[key]


MAX_SERVER_CLIENTS = 4


def _public_from_env() -> bool:
    return bool(os.environ.get("SPACE_ID")) or os.environ.get("WORKBENCH_PUBLIC", "").lower() in {"1", "true", "yes"}


def _allowed(variable: str) -> list[str]:
    return [v.strip() for v in os.environ.get(variable, "").split(",") if v.strip()]


def _check_allowed(kind: str, options: dict[str, Any]) -> None:
    from workbench.errors import BackendError

    models = _allowed("WORKBENCH_ALLOWED_MODELS")
    if models and options.get("model") and options["model"] not in models:
        raise BackendError(f"model {options['model']!r} is not offered here; choose one of {', '.join(models)}")
    urls = _allowed("WORKBENCH_ALLOWED_BASE_URLS")
    if kind == "openai" and urls and not any(str(options.get("base_url") or "").startswith(u) for u in urls):
        raise BackendError(f"server {options.get('base_url')!r} is not allowed here; allowed: {', '.join(urls)}")


def _release_memory() -> None:
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
