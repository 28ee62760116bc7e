"""``mlopsctl doctor``."""

from __future__ import annotations

import typer

from mlopsctl.cli.options import JsonOpt
from mlopsctl.cli.report import emit_json


def register(app: typer.Typer) -> None:
    @app.command("doctor")
    def doctor(
        fail_under: float | None = typer.Option(
            None, "--fail-under", help="Exit 1 when the score (percent) is under N."
        ),
        json_: bool = JsonOpt,
    ) -> None:
        """Production-readiness report: each check with pass, fail or skip, why, and the fix.

        The score is the share of passed checks among those that ran (skipped ones need a
        tool or git that is missing).
        """
        from mlopsctl.core import config
        from mlopsctl.core import doctor as doctor_mod
        from mlopsctl.errors import BadInput

        if fail_under is not None and not 0 <= fail_under <= 100:
            raise BadInput(f"--fail-under {fail_under:g} is outside 0-100; give a percentage.")
        report = doctor_mod.run(config.load_project())
        if json_:
            emit_json({**report.as_dict(), "fail_under": fail_under})
        else:
            from rich.table import Table

            from mlopsctl.cli.output import console

            marks = {"pass": "[green]pass[/]", "fail": "[bold red]fail[/]", "skip": "[dim]skip[/]"}
            table = Table(show_edge=False, pad_edge=False)
            for col in ("check", "status", "why", "fix"):
                table.add_column(col, overflow="fold")
            for c in report.checks:
                table.add_row(
                    c.title, marks[c.status], c.reason, c.fix if c.status != "pass" else ""
                )
            out = console()
            out.print(table)
            out.print(f"readiness: {report.score}%")
        if fail_under is not None and report.score < fail_under:
            raise typer.Exit(1)
