"""Rich consoles and tables for human output (never on the hook path)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console

    from mlopsctl.core.scaffold.plan import Plan

ACTION_STYLES = {
    "create": "green",
    "overwrite": "yellow",
    "conflict": "bold red",
    "identical": "dim",
    "keep": "cyan",
    "update": "yellow",
    "merge": "yellow",
    "conflicted": "bold red",
    "unresolved": "bold red",
    "modified": "cyan",
    "deleted": "dim",
    "remove": "magenta",
    "orphan": "cyan",
}


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    tty = (sys.stderr if stderr else sys.stdout).isatty()
    return Console(
        stderr=stderr,
        no_color=bool(os.environ.get("NO_COLOR")),
        highlight=False,
        emoji=False,  # no :codes: in our output; spares loading Rich's emoji table
        # logs and pipes have no width: do not squeeze tables into 80 columns there
        width=None if tty or os.environ.get("COLUMNS") else 200,
    )


def plan_table(plan: Plan, title: str) -> Any:
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("action")
    table.add_column("path", overflow="fold")
    for a in plan.actions:
        table.add_row(Text(a.action, style=ACTION_STYLES.get(a.action, "")), Text(a.path))
    return table


def counts_line(counts: dict[str, int]) -> str:
    order = [
        "create", "update", "merge", "overwrite", "remove", "identical", "keep", "modified",
        "deleted", "orphan", "conflicted", "unresolved", "conflict",
    ]  # fmt: skip
    parts = [f"{counts[k]} {k}" for k in order if counts.get(k)]
    return ", ".join(parts) or "nothing to do"
