"""Typer faces of the hook commands; the work is in :mod:`mlopsctl.cli.checks`."""

from __future__ import annotations

from typing import Optional

import typer

from mlopsctl.cli import checks

FormatOpt = typer.Option("text", "--format", help="text, json or github (workflow annotations).")
JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")


def _fmt(fmt: str, json_: bool) -> str:
    if fmt not in checks.FORMATS:
        raise typer.BadParameter(f"'{fmt}' is not one of {', '.join(checks.FORMATS)}.")
    return "json" if json_ else fmt


def register(app: typer.Typer) -> None:
    @app.command("check-names")
    def check_names(
        paths: Optional[list[str]] = typer.Argument(  # noqa: UP045 - Typer needs Optional
            None, help="Files to check; default: every file git tracks or would track."
        ),
        json_: bool = JsonOpt,
        fmt: str = FormatOpt,
    ) -> None:
        """Check file names and places against the naming rules (exit 1 on violations)."""
        raise typer.Exit(checks.check_names(paths or [], _fmt(fmt, json_)))
