"""A demo dataset in a real store, built once per test module."""

from __future__ import annotations

import pytest

from tests.workbench.store_data import build_demo
from workbench.store import DatasetStore


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("store")
    with DatasetStore(root / "data" / "workbench.sqlite3") as store:
        build_demo(store, root / "sources")
        yield store
