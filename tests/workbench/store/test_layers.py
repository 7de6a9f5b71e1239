"""The store, exporters and importers are application core: no Gradio, and no torch just to export."""

from __future__ import annotations

import subprocess
import sys


def test_store_export_import_do_not_import_gradio_or_torch():
    code = ("import sys, workbench.store, workbench.export, workbench.importers, workbench.cli.export; "
            "print(sorted(m for m in ('gradio', 'torch') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
