"""Start the app: used by ``app.py`` (Spaces) and ``workbench serve``.

Analytics are off unless the user turns them on; the data folder comes from the argument,
``WORKBENCH_DATA_DIR`` or the user data folder. ``public=True`` (``workbench serve --public``)
makes the deployment public as ``WORKBENCH_PUBLIC=1`` does (:mod:`workbench.deployment`).

What a long-running public app needs is set here, around the Blocks:

- Gradio's upload limit is the deployment's per-file byte limit (refused before our code runs);
- Gradio's temporary files are deleted after :data:`CACHE_AGE_S` (``delete_cache``), and on a
  public deployment those left by an earlier run are removed at start-up;
- on a public deployment, uploads are rationed per visitor and in total, and reclaimed after
  ``upload_keep_s`` (:class:`workbench.deployment.uploads.UploadLedger`, enforced by
  :class:`ui.guard.RequestGuard`, which also answers the API's argument errors in words);
- glibc keeps two malloc arenas, not eight per core (:func:`_few_malloc_arenas`; ``MALLOC_ARENA_MAX`` wins);
- every :data:`TRIM_EVERY_S` the sessions Gradio would keep for ever are dropped (a raw API call's after
  :data:`API_SESSION_IDLE_S`, a closed page's after ``closed_session_s``: :func:`sweep_sessions`) and freed
  heap memory is given back to the system (a burst of visitors otherwise leaves it held in the allocator's
  per-thread arenas);
- a browser session that closes keeps its state (and its working folder) for the deployment's
  ``closed_session_s`` only (``WORKBENCH_CLOSED_SESSION_SECONDS``, 120 s), instead of Gradio's
  hour, then its folder is removed and freed memory goes back to the system
  (:meth:`workbench.services.Services.drop_session_dir`).
"""

from __future__ import annotations

import datetime
import logging
import shutil
import threading
import time
from pathlib import Path

import gradio as gr
from gradio.utils import get_upload_folder

from ui.guard import OpenPages
from workbench.deployment.uploads import UploadLedger
from workbench.environment import listen_address, malloc_arenas_set, on_zero_gpu

__all__ = ["build_demo", "launch", "harden", "launch_options", "CACHE_AGE_S"]


def _few_malloc_arenas(arenas: int = 2) -> None:
    """Have glibc keep ``arenas`` malloc arenas instead of eight per core, before the server's threads start:
    each thread's own arena keeps what it freed, so a burst of visitors left the app 200 MB above its start;
    with two, the load benchmark's app returned within about 50 MB. ``MALLOC_ARENA_MAX`` set by the operator
    wins; elsewhere than glibc this does nothing."""
    if malloc_arenas_set():
        return
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        if name:
            ctypes.CDLL(name).mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):
        pass


CACHE_AGE_S = 3600
"""Gradio's uploads and temporary files older than this are deleted (checked every 10 minutes)."""


def _remove_stale_cache(folder: Path, age_s: float) -> int:
    """Files in Gradio's cache left by earlier runs (older than ``age_s``); returns how many went."""
    removed = 0
    now = time.time()
    if not folder.is_dir():
        return 0
    for entry in folder.iterdir():
        try:
            if now - entry.stat().st_mtime <= age_s:
                continue
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink()
            removed += 1
        except OSError:
            continue
    return removed


TRIM_EVERY_S = 15.0
"""How often freed heap memory is given back to the system (glibc keeps it in per-thread arenas)."""


API_SESSION_IDLE_S = 30.0
"""A session that never was a page (a raw API call gets a new one every time) is dropped after this idle time."""


def sweep_sessions(holder, *, closed_s: float, idle_api_s: float = API_SESSION_IDLE_S,
                   now: datetime.datetime | None = None, pages: OpenPages | None = None) -> int:
    """Drop the per-session state Gradio never drops: it keeps a copy of every component's config for each
    session (about 0.7 MB here) until 10 000 sessions exist, and every raw ``/call`` is a new session.

    With ``pages`` (which sessions have a page open: :class:`ui.guard.OpenPages`), a session that never was
    a page goes after ``idle_api_s`` idle, a page no longer open after ``closed_s``, an open page never.
    Without it, a session holding no state counts as an API call's and a page counts as closed when Gradio
    marked it so. The state's delete callbacks (a Try-it folder) run first. Returns how many went."""
    now = now or datetime.datetime.now()
    dropped = 0
    for session_id in list(holder.session_data):
        session = holder.session_data.get(session_id)
        used = holder.time_last_used.get(session_id)
        if session is None or used is None:
            continue
        idle = (now - used).total_seconds()
        if pages is not None:
            if pages.is_open(session_id):
                continue
            page = pages.was_page(session_id)
            api_only, closed = not page, page
        else:
            api_only, closed = not session.state_data, session.is_closed
        if (api_only and idle > idle_api_s) or (closed and idle > closed_s):
            holder.delete_state(session_id)  # the state's delete callbacks (a Try-it folder) run here
            with holder.lock:
                holder.session_data.pop(session_id, None)
                holder.time_last_used.pop(session_id, None)
            if pages is not None:
                pages.forget(session_id)
            dropped += 1
    return dropped


def _keep_memory(demo, services, every_s: float) -> None:
    while True:
        time.sleep(every_s)
        holder = getattr(demo, "state_holder", None)
        if holder is not None:
            try:
                sweep_sessions(holder, closed_s=services.deployment.limits.closed_session_s,
                               pages=getattr(demo, "workbench_pages", None))
            except Exception:  # a session changing under us: the next round will see it
                logging.getLogger(__name__).exception("sweeping sessions failed")
        services.give_back_memory()


def harden(demo, services) -> None:
    """Cache deletion, a short grace for closed sessions, memory given back: see the module docstring."""
    if services.deployment.public:  # the container's cache is the app's own; locally other Gradio apps share it
        _remove_stale_cache(Path(get_upload_folder()), CACHE_AGE_S)
        services.remove_shared_copies()  # copies now live per dataset (Services.served)
    demo.delete_cache = (600, CACHE_AGE_S)
    threading.Thread(target=_keep_memory, args=(demo, services, TRIM_EVERY_S), daemon=True,
                     name="memory-keeper").start()

    def _closed(request: gr.Request) -> None:
        # Gradio keeps a closed session's state for an hour (SessionState.STATE_TTL_WHEN_CLOSED); the
        # state's delete_callback removes the working folder when it expires, so shorten the wait.
        holder = getattr(demo, "state_holder", None)
        session = holder.session_data.get(request.session_hash) if holder is not None else None
        if session is not None:
            session.STATE_TTL_WHEN_CLOSED = services.deployment.limits.closed_session_s

    with demo:
        demo.unload(_closed)


def build_demo(data_dir: str | None = None, *, public: bool | None = None):
    _few_malloc_arenas()  # before the server's threads start
    from ui.app import create_app
    from workbench.services import Services

    services = Services.create(data_dir, public=True if public else None)  # --public, else the environment's
    if on_zero_gpu():
        # ZeroGPU wants the model loaded (and moved to "cuda") when the Space starts, not inside a request.
        services.backend("local").load()  # type: ignore[attr-defined]  # the local backend loads (behind its gate)
    services.uploads = upload_ledger(services)
    demo = create_app(services)
    # the launcher's own state rides on the Blocks it returns (launch_options, the session sweeper and the tests read
    # it back); a Blocks subclass would declare them, but Gradio names a block's frontend after its class
    demo.workbench_services = services  # type: ignore[attr-defined]  # see above
    demo.workbench_pages = OpenPages()  # type: ignore[attr-defined]  # see above
    harden(demo, services)
    return demo


def upload_ledger(services) -> UploadLedger | None:
    """The upload budget of a public deployment (None locally: one person's own uploads are not rationed)."""
    limits = services.deployment.limits
    if not services.deployment.public:
        return None
    return UploadLedger(visitor_bytes=limits.visitor_upload_bytes, total_bytes=limits.uploads_total_bytes,
                        keep_s=limits.upload_keep_s)


def launch_options(demo) -> dict:
    """Keyword arguments of ``launch`` that the deployment decides: the upload size limit, and the request
    guard (upload quotas, API arguments answered in words: :mod:`ui.guard`)."""
    from starlette.middleware import Middleware

    from ui.endpoints import API_NAMES
    from ui.guard import RequestGuard

    services = getattr(demo, "workbench_services", None)
    limits = services.deployment.limits if services is not None else None
    ledger = services.uploads if services is not None else None
    guard = Middleware(RequestGuard, blocks=demo, api_names=set(API_NAMES), ledger=ledger,
                       proxy_hops=services.deployment.proxy_hops if services is not None else 0,
                       pages=getattr(demo, "workbench_pages", None))
    return {"max_file_size": limits.upload_bytes if limits and limits.upload_bytes else None,
            "app_kwargs": {"middleware": [guard]}}


def launch(host: str | None = None, port: int | None = None, data_dir: str | None = None, share: bool = False,
           demo=None, public: bool | None = None) -> None:
    demo = demo or build_demo(data_dir, public=public)
    listen_host, listen_port = listen_address()
    demo.queue(default_concurrency_limit=4).launch(
        server_name=host or listen_host,
        server_port=port or listen_port,
        share=share,
        **launch_options(demo),
    )

