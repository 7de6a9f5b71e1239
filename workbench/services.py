"""What the app needs from the outside world, made once per process and passed in (never a global).

The data directory holds the dataset store and per-session working folders. Models are shared
by all sessions (loaded once, reused); user data never is.

>>> import tempfile
>>> services = Services.create(tempfile.mkdtemp())
>>> services.session_dir("abc").name
'abc'
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

from workbench.store.datadir import resolve_data_dir

__all__ = ["Services"]


@dataclass
class Services:
    data_dir: Path
    backend_factory: Callable[..., Any] | None = None
    """``(kind, **options) -> ModelBackend``; defaults to :func:`workbench.backends.create_backend`."""
    _backends: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _store: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def create(cls, data_dir: str | os.PathLike | None = None, **kwargs: Any) -> Services:
        path = resolve_data_dir(data_dir)  # argument, WORKBENCH_DATA_DIR, or the user data folder
        path.mkdir(parents=True, exist_ok=True)
        return cls(data_dir=path, **kwargs)

    def session_dir(self, name: str | None = None) -> Path:
        """A fresh working folder for one browser session (display copies, drawn results)."""
        folder = self.data_dir / "sessions" / (name or uuid.uuid4().hex)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def drop_session_dir(self, folder: str | os.PathLike) -> None:
        folder = Path(folder)
        if folder.parent == self.data_dir / "sessions":
            shutil.rmtree(folder, ignore_errors=True)

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
        """One backend per (kind, options), created on first use and reused (a model loads once)."""
        key = (kind, tuple(sorted(options.items())))
        with self._lock:
            if key not in self._backends:
                factory = self.backend_factory
                if factory is None:
                    from workbench.backends import create_backend as factory
                self._backends[key] = factory(kind, **options)
            return self._backends[key]
