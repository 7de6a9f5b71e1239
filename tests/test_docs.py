"""The documentation keeps up with the code: every command, export format, family and environment variable is
written down.

As sqlite-utils checks its CLI reference: a command, a format or a model family added without a line in the
README or ``docs/`` fails here, with the name of what is missing.
"""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from grounding import FAMILIES
from workbench.cli import app
from workbench.environment import VARIABLES
from workbench.export import FORMAT_NAMES
from workbench.limits import ResourceLimits

REPO = Path(__file__).resolve().parents[1]
DOCS = "\n".join(path.read_text(encoding="utf-8") for path in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


def _commands() -> list[str]:
    """``workbench X`` and ``workbench X Y`` for every command and subcommand."""
    root = typer.main.get_command(app)
    out = []
    for name, command in sorted(root.commands.items()):  # type: ignore[attr-defined]
        subcommands = getattr(command, "commands", None)
        if subcommands:
            out += [f"{name} {sub}" for sub in sorted(subcommands)]
        else:
            out.append(name)
    return out


def test_every_command_is_documented():
    missing = [c for c in _commands() if not re.search(rf"workbench {re.escape(c)}\b", DOCS)]
    assert missing == [], f"commands with no `workbench ...` line in README.md or docs/: {missing}"


def test_the_check_finds_an_undocumented_command():
    assert not re.search(r"workbench no-such-command\b", DOCS)


def test_every_export_format_is_documented():
    table = (REPO / "docs" / "store-and-export.md").read_text(encoding="utf-8")
    missing = [name for name in FORMAT_NAMES if f"`{name}`" not in table]
    assert missing == [], f"export formats missing from docs/store-and-export.md: {missing}"


def test_every_family_has_a_row_in_the_families_page():
    page = (REPO / "docs" / "families.md").read_text(encoding="utf-8")
    missing = [f.name for f in FAMILIES if f"`{f.name}`" not in page]
    assert missing == [], f"families missing from docs/families.md: {missing}"


def test_every_environment_variable_is_documented():
    variables = [*VARIABLES, *ResourceLimits().variables()]
    missing = [name for name in variables if f"`{name}`" not in DOCS]
    assert missing == [], f"environment variables with no `NAME` in README.md or docs/: {missing}"

