"""``mlopsctl env show|check``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mlopsctl.cli.plain import echo, emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import EnvCheck, EnvShow


def show(o: EnvShow) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.testing import envfiles

    root = config.load_project().require_root()
    merged = envfiles.load(root, o.env_name, required=o.env_name is not None)
    if o.json:
        emit_json(merged.as_dict())
        return 0
    from rich.markup import escape
    from rich.table import Table

    from mlopsctl.cli.tables import console

    out = console()
    if not merged.files:
        out.print("No .env files; copy .env.template to .env and fill it in.")
        return 0
    table = Table(show_edge=False, pad_edge=False)
    for col in ("key", "value", "from"):
        table.add_column(col, overflow="fold")
    for var in merged.variables.values():
        shown = var.shown()
        value = "[dim](no value)[/]" if shown is None else escape(shown)
        table.add_row(escape(var.key), value, var.source)
    out.print(table)
    return 0


def check(o: EnvCheck) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.testing import envfiles

    root = config.load_project().require_root()
    report = envfiles.check(root, o.env_name, ci=o.ci)
    if o.json:
        emit_json(report.as_dict())
        return 0 if report.ok else 1
    if not report.template:
        echo("error: .env.template is missing; it lists every key the project uses.")
    if report.template and report.missing and not report.files:
        count = len(report.missing)
        echo(
            f"error: no .env file: copy the template and fill in its {count} "
            f"key{'s' if count != 1 else ''} (`cp .env.template .env`)"
        )
    else:
        for key in report.missing:
            echo(f"error: {key} is in .env.template but set by no .env file or variable")
    for name in report.tracked:
        echo(f"error: {name} is tracked by git; run `git rm --cached {name}` (it holds secrets)")
    for where in report.leaks:
        echo(f"error: {where} holds a secret-shaped value; move it to .env (git-ignored)")
    for key in report.extra:
        echo(f"warning: {key} is set but not listed in .env.template")
    if report.ok and o.ci:
        echo("env: ok (--ci: template present, no tracked .env, no secret in tracked files)")
    elif report.ok:
        echo("env: ok" + (f" ({len(report.extra)} warnings)" if report.extra else ""))
    return 0 if report.ok else 1
