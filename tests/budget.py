"""How many cases a property or fuzz test draws: all of them in a full run, a tenth in the fast tier.

``pytest -m "not slow"`` is the everyday tier; the full run (CI, ``make test``) draws every case.
``tests/conftest.py`` sets :data:`FAST` before any test module is collected::

    @settings(max_examples=examples(3000), deadline=None)
"""

from __future__ import annotations

FAST = False


def examples(full: int) -> int:
    """``full`` in a full run; a tenth of it (at least 50) in the fast tier."""
    return max(50, full // 10) if FAST else full
