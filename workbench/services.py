"""What the app needs from the outside world, made once per process and passed in (never a global).

The data directory holds the dataset store, the images, and ``served/``: the one folder the web
app lets browsers fetch from (thumbnails, display copies, Try-it sessions' files, export zips). Models
are shared by all sessions (loaded once, reused, behind :class:`~workbench.deployment.gate.GatedBackend`);
user data never is. The deployment's rules (:class:`~workbench.deployment.Deployment`) decide which
backends visitors may ask for and what a request may cost.

Disk is reclaimed: each process keeps its session folders under ``served/sessions/<instance>/`` and
removes, when it starts, the folders of instances whose process is gone (sessions live in
memory, so nobody can come back to those); a session's folder goes when the session ends
(:meth:`Services.drop_session_dir`); export folders beyond the newest few, or older than a
day, are removed when a new export starts (:meth:`Services.exports_dir`).

A data folder that cannot be written (read-only, or a full disk), or a dataset store file that cannot
be used (garbage, truncated or damaged pages, written by a newer version), does not stop the app:
:attr:`Services.storage_problem` says why (the page shows it), the store refuses with that reason,
the file is never written to, and Try it, geometry and parsing still work.

>>> import tempfile
>>> services = Services.create(tempfile.mkdtemp())
>>> services.session_dir("abc").relative_to(services.served_dir).parts[0], services.storage_problem is None
('sessions', True)
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.deployment import Deployment
from workbench.errors import StoreError
from workbench.served import ServedFiles
from workbench.store.datadir import DB_NAME, data_dir_note, resolve_data_dir
from workbench.store.faults import write_failure
from workbench.store.probe import store_problem

if TYPE_CHECKING:
    from workbench.backends.base import ModelBackend
    from workbench.batch.jobs import JobRunner
    from workbench.evaluate.jobs import EvalRunner
    from workbench.store import DatasetStore

__all__ = ["Services", "UnavailableStore", "MAX_SERVER_CLIENTS", "SERVER_REQUESTS_AT_ONCE"]

MAX_SERVER_CLIENTS = 4
SERVER_REQUESTS_AT_ONCE = 4
"""Requests one server gets from this app at a time (the local model takes one)."""
_OWNER = ".owner"


KEEPS_WORKING = "Try it, geometry and parsing still work."


def storage_problem(data_dir: Path) -> str | None:
    """Why the data folder cannot be written (a probe file is created, written and removed), or why its dataset
    store cannot be used (read back without writing: :func:`workbench.store.probe.store_problem`), or None."""
    problem = store_problem(data_dir / DB_NAME, thorough=True)
    if problem is not None:
        return (f"Saving is off: the dataset store cannot be used: {problem}. It was left as it is: move it aside "
                f"or restore a copy, then restart. {KEEPS_WORKING}")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=data_dir, prefix=".write-probe-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(b"\0" * 4096)
                out.flush()
                os.fsync(out.fileno())
        finally:
            os.unlink(probe)
    except OSError as exc:
        return f"Saving is off: {write_failure(exc)}. Viewing images and parsing model output still work."
    return None


class UnavailableStore:
    """Stands in for the dataset store when the data folder cannot be written.

    It lists no datasets; every other call raises :class:`StoreError` with the reason.

    >>> UnavailableStore("Saving is off: the data folder is read-only.").create_dataset("x")
    Traceback (most recent call last):
    ...
    workbench.errors.StoreError: Saving is off: the data folder is read-only.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def list_datasets(self, *, owner: str | None = "") -> list:
        return []

    @property
    def blobs(self) -> Any:
        raise StoreError(self.reason)

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise StoreError(self.reason)

        return refuse


def _process_tag(pid: int) -> str:
    """``pid:start-time`` (Linux ``/proc``), so a later process that reuses the pid is not taken for the owner."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return f"{pid}:{stat.rsplit(')', 1)[1].split()[19]}"
    except (OSError, IndexError):
        return str(pid)


def _owner_alive(tag: str) -> bool:
    try:
        pid = int(tag.split(":", 1)[0])
    except ValueError:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
    return ":" not in tag or _process_tag(pid) == tag


@dataclass
class Services:
    data_dir: Path
    backend_factory: Callable[..., Any] | None = None
    """``(kind, **options) -> ModelBackend``; defaults to :func:`workbench.backends.create_backend`."""
    deployment: Deployment = field(default_factory=Deployment.from_env)
    storage_problem: str | None = None
    """Why saving is off (read-only data folder, full disk), or None when the store can be used."""
    sessions_root: Path | None = None
    """This process's session folders (``served/sessions/<instance>``, or a temporary folder)."""
    _backends: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _gates: dict[str, Any] = field(default_factory=dict, repr=False)
    _store: Any = field(default=None, repr=False)
    _jobs: Any = field(default=None, repr=False)
    _evaluations: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _clock: Callable[[], float] = field(default=time.time, repr=False)
    uploads: Any = field(default=None, repr=False)
    """The upload budget (:class:`workbench.deployment.uploads.UploadLedger`) on a public deployment, else None."""
    visitor_lookup: Callable[[], str | None] | None = field(default=None, repr=False)
    """Who the event being handled comes from, when the web layer can tell (:func:`current_visitor`)."""

    def __post_init__(self) -> None:
        if self.sessions_root is None:
            self.sessions_root = self._claim_sessions_root()

    @classmethod
    def create(cls, data_dir: str | os.PathLike | None = None, *, public: bool | None = None,
               **kwargs: Any) -> Services:
        path = resolve_data_dir(data_dir)  # argument, WORKBENCH_DATA_DIR, a Space's /data, or the user data folder
        kwargs.setdefault("storage_problem", storage_problem(path))
        if public is not None:
            kwargs.setdefault("deployment", Deployment.from_env(public=public))
        return cls(data_dir=path, **kwargs)

    @property
    def public(self) -> bool:
        """A public deployment: each visitor owns their datasets, and may use only the configured backends."""
        return self.deployment.public

    @property
    def served_dir(self) -> Path:
        """The only folder of the data dir that browsers may fetch from."""
        return self.data_dir / "served"

    def served(self, dataset: int | None = None) -> ServedFiles:
        """Thumbnails and display copies. On a public deployment those of a dataset live in a folder of its own
        whose name is a keyed hash (:meth:`served_folder`): only pages of the dataset's owner carry its URLs, so
        knowing an image's content hash reaches nothing."""
        if self.public and dataset is not None:
            return ServedFiles(self.served_folder(dataset))
        return ServedFiles(self.served_dir)

    def served_folder(self, dataset: int) -> Path:
        """``served/owned/<HMAC(browser secret, dataset)>``: a dataset's copies on a public deployment."""
        import hashlib
        import hmac

        token = hmac.new(self.browser_secret().encode(), f"served:{dataset}".encode(), hashlib.sha256).hexdigest()
        return self.served_dir / "owned" / token[:32]

    def forget_served(self, dataset: int) -> None:
        """Remove a deleted dataset's copies (public deployments keep them per dataset)."""
        if self.public:
            shutil.rmtree(self.served_folder(dataset), ignore_errors=True)

    def remove_shared_copies(self) -> None:
        """On a public deployment, remove copies an earlier version kept in the shared ``thumbs/`` and
        ``display/`` folders (reachable by anyone who knew an image's hash)."""
        for kind in ("thumbs", "display"):
            shutil.rmtree(self.served_dir / kind, ignore_errors=True)

    def static_paths(self) -> list[Path]:
        """Folders the web app serves: ``served/`` and this process's session folders (a temporary one when
        the data folder cannot be written)."""
        return [self.served_dir, self.sessions_root] if self.sessions_root else [self.served_dir]

    def data_note(self) -> str:
        """What the page should say about where data lives ('' when nothing needs saying)."""
        return data_dir_note(self.data_dir)

    # -- session folders ----------------------------------------------------------------------
    def _claim_sessions_root(self) -> Path:
        """``served/sessions/<instance>`` owned by this process; orphans of dead processes are removed first."""
        parent = self.served_dir / "sessions"
        if self.storage_problem is None:
            try:
                self.remove_orphan_sessions()
                root = parent / uuid.uuid4().hex[:12]
                root.mkdir(parents=True)
                (root / _OWNER).write_text(_process_tag(os.getpid()))
                return root
            except OSError:
                pass
        return Path(tempfile.mkdtemp(prefix="workbench-sessions-"))

    def remove_orphan_sessions(self) -> list[Path]:
        """Remove session folders no running process owns (left by a crash or a restart); return them."""
        parent = self.served_dir / "sessions"
        removed: list[Path] = []
        if not parent.is_dir():
            return removed
        for folder in parent.iterdir():
            if not folder.is_dir() or folder == self.sessions_root:
                continue
            try:
                owner = (folder / _OWNER).read_text().strip()
            except OSError:
                owner = ""  # an old-style session folder, or one whose owner file never got written
            if owner and _owner_alive(owner):
                continue
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        return removed

    def session_dir(self, name: str | None = None) -> Path:
        """A fresh working folder for one browser session of the Try-it view (its uploads, drawn results)."""
        root = self.sessions_root if self.sessions_root is not None else self._claim_sessions_root()
        folder = root / (name or uuid.uuid4().hex)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    @staticmethod
    def give_back_memory() -> None:
        """Return freed heap pages to the system (the app calls it now and then: a burst of requests leaves
        freed memory in many allocator arenas, held until trimmed)."""
        _trim_heap()

    def drop_session_dir(self, folder: str | os.PathLike) -> None:
        """Remove a session's folder (only one of this process's) and give freed heap memory back."""
        folder = Path(folder)
        if folder.parent == self.sessions_root and folder.name != _OWNER:
            shutil.rmtree(folder, ignore_errors=True)
            _trim_heap()

    # -- store and exports --------------------------------------------------------------------
    def store(self) -> DatasetStore:
        """The dataset store of this data folder (SQLite, WAL), opened once; an :class:`UnavailableStore`
        that says why when the data folder cannot be written (typed as the store it stands in for: every
        call either answers like an empty store or raises :class:`StoreError` in words)."""
        with self._lock:
            if self._store is None:
                if self.storage_problem is not None:
                    self._store = UnavailableStore(self.storage_problem)
                else:
                    from workbench.store import DatasetStore

                    try:
                        self._store = DatasetStore.open(self.data_dir)
                    except (StoreError, sqlite3.DatabaseError) as exc:  # a migration that could not finish
                        self.storage_problem = f"Saving is off: {exc}. {KEEPS_WORKING}"
                        self._store = UnavailableStore(self.storage_problem)
            return self._store

    def exports_dir(self) -> Path:
        """The folder of exports made in the browser, after removing old ones (beyond the newest few, or too old)."""
        folder = self.served_dir / "exports"
        if self.storage_problem is not None:
            folder = Path(tempfile.gettempdir()) / "workbench-exports-unavailable"
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError:
            return folder
        self.reclaim_exports(folder)
        return folder

    def reclaim_exports(self, folder: Path | None = None) -> list[Path]:
        """Remove export folders and files past :attr:`ResourceLimits.exports_kept` (newest kept) or older
        than :attr:`ResourceLimits.exports_max_age_s`; ``*.partial`` files of unfinished exports go when stale."""
        folder = folder or self.served_dir / "exports"
        limits = self.deployment.limits
        now = self._clock()
        entries = []
        for entry in folder.iterdir() if folder.is_dir() else ():
            try:
                entries.append((entry.stat().st_mtime, entry))
            except OSError:
                continue
        entries.sort(reverse=True)
        removed: list[Path] = []
        for rank, (mtime, entry) in enumerate(entries):
            old = bool(limits.exports_max_age_s) and now - mtime > limits.exports_max_age_s
            beyond = bool(limits.exports_kept) and rank >= limits.exports_kept
            if not (old or beyond):
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry)
        for partial in folder.glob("*/*.partial") if folder.is_dir() else ():
            try:
                if now - partial.stat().st_mtime > 600:  # an export writes continuously; 10 min silent = abandoned
                    partial.unlink()
                    removed.append(partial)
            except OSError:
                continue
        return removed

    def browser_secret(self) -> str:
        """The key the page's stored cursor is sealed with, kept in the data folder so that a restart (or
        tomorrow) still opens each browser's dataset and item; a random one when the folder cannot be written."""
        path = self.data_dir / ".browser-secret"
        try:
            return path.read_text(encoding="ascii").strip()
        except OSError:
            pass
        import secrets

        secret = secrets.token_urlsafe(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secret)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
        except OSError:
            pass
        return secret

    def jobs(self) -> JobRunner:
        """The batches this process runs for the app (:class:`~workbench.batch.jobs.JobRunner`), made on first
        use; jobs an earlier run of the app left running are marked interrupted then."""
        with self._lock:
            if self._jobs is None:
                from workbench.batch.jobs import JobRunner

                self._jobs = JobRunner(self.store, self.backend)
                first = True
            else:
                first = False
        if first and self.storage_problem is None:
            self.store().interrupt_running_jobs()
        return self._jobs

    def evaluations(self) -> EvalRunner:
        """The evaluations this process runs for the app (:class:`~workbench.evaluate.jobs.EvalRunner`), made on
        first use; cells an earlier run of the app left running are marked interrupted then."""
        self.jobs()  # marks jobs (evaluations' included) of an earlier run interrupted, once, before any starts
        with self._lock:
            first = self._evaluations is None
            if first:
                from workbench.evaluate.jobs import EvalRunner

                self._evaluations = EvalRunner(self.store, self.backend)
        if first and self.storage_problem is None:
            self.store().interrupt_running_evaluations()
        return self._evaluations

    def download_dir(self) -> Path:
        """A fresh folder for one export made in the browser (its zip is downloaded from there)."""
        folder = self.exports_dir() / uuid.uuid4().hex
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    # -- model backends -----------------------------------------------------------------------
    def current_visitor(self) -> str | None:
        """The visitor key of the request being handled: the one an API endpoint set
        (:data:`workbench.deployment.gate.visitor`), else :attr:`visitor_lookup`'s, else None."""
        from workbench.deployment.gate import visitor

        return visitor.get() or (self.visitor_lookup() if self.visitor_lookup is not None else None)

    def backend(self, kind: str, **options: Any) -> ModelBackend:
        """The backend for (kind, options), created on first use and reused, behind the deployment's gate.

        The deployment decides what may be asked (:meth:`Deployment.backend_options`: on a public
        deployment the configured server and model only). At most one local model is kept in
        memory: asking for another checkpoint releases the previous one (a GPU holds one model at a
        time). Server clients are light; the last few are kept.
        """
        from workbench.config import default_limits_style
        from workbench.deployment.gate import FairGate, GatedBackend

        options = self.deployment.backend_options(kind, options)
        if kind == "openai" and not options.get("limits_style"):
            options["limits_style"] = default_limits_style()  # part of the key: a client per style
        if kind == "local" and self.deployment.limits.request_s:
            options.setdefault("max_time_s", float(self.deployment.limits.request_s))
        key = (kind, tuple(sorted(options.items())))
        with self._lock:
            if key in self._backends:
                self._backends[key] = self._backends.pop(key)  # most recently used last
                return self._backends[key]
            if kind == "local":
                for old in [k for k in self._backends if k[0] == "local"]:
                    del self._backends[old]
                _release_memory()
            from workbench.backends import create_backend

            factory = self.backend_factory or create_backend
            gate_key = "local" if kind == "local" else f"server:{options.get('base_url')}"
            gate = self._gates.setdefault(gate_key, FairGate(1 if kind == "local" else SERVER_REQUESTS_AT_ONCE))
            self._backends[key] = GatedBackend(factory(kind, **options), gate, self.deployment.limits,
                                               who=self.current_visitor)
            servers = [k for k in self._backends if k[0] != "local"]
            for old in servers[:-MAX_SERVER_CLIENTS]:
                del self._backends[old]
            return self._backends[key]


def _trim_heap() -> None:
    """Give freed heap pages back to the system (glibc ``malloc_trim``; a no-op elsewhere)."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        if name:
            ctypes.CDLL(name).malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _release_memory() -> None:
    import gc
    import sys

    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()
