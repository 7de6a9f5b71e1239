"""Where the store keeps its database and images: an argument, else ``WORKBENCH_DATA_DIR``, else a default.

On a Hugging Face Space the default is the persistent storage folder ``/data`` when the Space has
one (it survives restarts); without it, data lives in the container and is lost on restart, which
:func:`data_dir_note` says in words for the page to show.

>>> resolve_data_dir("some/dir", env={})
PosixPath('some/dir')
>>> resolve_data_dir(None, env={"WORKBENCH_DATA_DIR": "/srv/wb"})
PosixPath('/srv/wb')
>>> data_dir_note(Path("/srv/wb"), env={})
''
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from workbench.environment import DATA_DIR, on_space, process_env

__all__ = ["DATA_DIR_ENV", "DB_NAME", "SPACE_STORAGE", "data_dir_note", "default_data_dir", "resolve_data_dir"]

DATA_DIR_ENV = DATA_DIR
DB_NAME = "workbench.sqlite3"
SPACE_STORAGE = Path("/data")
"""Where a Space's persistent storage is mounted when the Space has it."""


def default_data_dir(env: Mapping[str, str] | None = None) -> Path:
    """A Space's persistent storage when mounted, else ``$XDG_DATA_HOME/grounding-workbench``."""
    env = process_env() if env is None else env
    if on_space(env) and SPACE_STORAGE.is_dir() and os.access(SPACE_STORAGE, os.W_OK):
        return SPACE_STORAGE / "grounding-workbench"
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "grounding-workbench"


def resolve_data_dir(data_dir: str | os.PathLike | None, env: Mapping[str, str] | None = None) -> Path:
    """The data dir the user chose: the argument, the environment variable, or the default."""
    env = process_env() if env is None else env
    if data_dir is not None:
        return Path(data_dir)
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV])
    return default_data_dir(env)


def data_dir_note(data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """A warning for the page when datasets will not survive a restart ('' when they will)."""
    env = process_env() if env is None else env
    if not on_space(env):
        return ""
    try:
        Path(data_dir).resolve().relative_to(SPACE_STORAGE)
        return ""
    except ValueError:
        return ("This Space has no persistent storage: datasets are lost when it restarts. Export what you want to "
                "keep, or enable persistent storage in the Space settings (it is used automatically).")
