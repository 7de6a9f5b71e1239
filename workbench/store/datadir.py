"""Where the store keeps its database and images: an argument, else ``WORKBENCH_DATA_DIR``.

>>> resolve_data_dir("some/dir", env={})
PosixPath('some/dir')
>>> resolve_data_dir(None, env={"WORKBENCH_DATA_DIR": "/srv/wb"})
PosixPath('/srv/wb')
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

__all__ = ["DATA_DIR_ENV", "DB_NAME", "default_data_dir", "resolve_data_dir"]

DATA_DIR_ENV = "WORKBENCH_DATA_DIR"
DB_NAME = "workbench.sqlite3"


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/grounding-workbench`` (``~/.local/share/grounding-workbench``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "grounding-workbench"


def resolve_data_dir(data_dir: str | os.PathLike | None, env: Mapping[str, str] | None = None) -> Path:
    """The data dir the user chose: the argument, the environment variable, or the default."""
    env = os.environ if env is None else env
    if data_dir is not None:
        return Path(data_dir)
    if env.get(DATA_DIR_ENV):
        return Path(env[DATA_DIR_ENV])
    return default_data_dir()
