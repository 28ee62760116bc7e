"""``mlopsctl doctor``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from mlopsctl.cli.plain import emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import Doctor


def doctor(o: Doctor) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.readiness import doctor as readiness
    from mlopsctl.errors import BadInput

    if o.fail_under is not None and not 0 <= o.fail_under <= 100:
        raise BadInput(f"--fail-under {o.fail_under:g} is outside 0-100; give a percentage.")
    cfg = config.load_project()
    if o.json or not sys.stderr.isatty():
        report = readiness.run(cfg)
    else:
        from rich.console import Console

        with Console(stderr=True).status("doctor: running the checks") as status:

            def progress(check: readiness.Check, done: int, total: int) -> None:
                status.update(f"doctor: {done}/{total} checks done ({check.title})")

            report = readiness.run(cfg, progress)
    if o.json:
        emit_json({**report.as_dict(), "fail_under": o.fail_under})
    else:
        from rich.markup import escape
        from rich.table import Table

        from mlopsctl.cli.tables import console

        marks = {"pass": "[green]pass[/]", "fail": "[bold red]fail[/]", "skip": "[dim]skip[/]"}
        table = Table(show_edge=False, pad_edge=False)
        for col in ("check", "status", "why", "fix"):
            table.add_column(col, overflow="fold")
        for c in report.checks:
            fix = escape(c.fix) if c.status != "pass" else ""
            table.add_row(c.title, marks[c.status], escape(c.reason), fix)
        out = console()
        out.print(table)
        out.print(f"readiness: {report.score}%")
    return 1 if o.fail_under is not None and report.score < o.fail_under else 0
