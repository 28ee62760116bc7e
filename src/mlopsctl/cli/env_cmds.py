"""``mlopsctl env show|check``."""

from __future__ import annotations

import typer

from mlopsctl.cli.options import JsonOpt
from mlopsctl.cli.report import emit_json

EnvOpt = typer.Option(None, "--env", help="Also load .env.NAME over .env.")


def register(app: typer.Typer) -> None:
    env_app = typer.Typer(help="Show and check the project's .env files.")
    app.add_typer(env_app, name="env")

    @env_app.command("show")
    def show(env_name: str | None = EnvOpt, json_: bool = JsonOpt) -> None:
        """The merged environment (.env, then .env.NAME; real variables win), secrets masked."""
        from mlopsctl.core import config, envfiles

        root = config.load_project().require_root()
        merged = envfiles.load(root, env_name, required=env_name is not None)
        if json_:
            emit_json(merged.as_dict())
            return
        from rich.table import Table

        from mlopsctl.cli.output import console

        table = Table(show_edge=False, pad_edge=False)
        for col in ("key", "value", "from"):
            table.add_column(col, overflow="fold")
        for var in merged.variables.values():
            shown = var.shown()
            table.add_row(var.key, "[dim](no value)[/]" if shown is None else shown, var.source)
        out = console()
        if not merged.files:
            out.print("No .env files; copy .env.template to .env and fill it in.")
            return
        out.print(table)

    @env_app.command("check")
    def check(env_name: str | None = EnvOpt, json_: bool = JsonOpt) -> None:
        """Fail (exit 1) when a key of .env.template is unset or an .env file is tracked by git."""
        from mlopsctl.core import config, envfiles

        root = config.load_project().require_root()
        report = envfiles.check(root, env_name)
        if json_:
            emit_json(report.as_dict())
            raise typer.Exit(0 if report.ok else 1)
        if not report.template:
            typer.echo("error: .env.template is missing; it lists every key the project uses.")
        for key in report.missing:
            typer.echo(f"error: {key} is in .env.template but set by no .env file or variable")
        for name in report.tracked:
            typer.echo(
                f"error: {name} is tracked by git; run `git rm --cached {name}` (it holds secrets)"
            )
        for key in report.extra:
            typer.echo(f"warning: {key} is set but not listed in .env.template")
        if report.ok:
            typer.echo("env: ok" + (f" ({len(report.extra)} warnings)" if report.extra else ""))
        raise typer.Exit(0 if report.ok else 1)
