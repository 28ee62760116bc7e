"""Options that several Typer commands share."""

from __future__ import annotations

import typer

JsonOpt = typer.Option(False, "--json", help="Print one JSON document instead of text.")
DryRunOpt = typer.Option(False, "--dry-run", help="Show the plan; change nothing.")
YesOpt = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation.")
