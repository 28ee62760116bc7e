"""``init`` and ``new-stage`` without Typer: the work of both, and an argparse front end.

Scaffolding is the first thing a user times against cookiecutter or copier, and Typer's
import is a fifth of a ``new-stage`` run, so ``mlopsctl.main`` sends these commands here
(help, completion and the interactive name prompt of ``init`` still go through Typer, whose
commands of the same names call the functions below).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.cli.fastargs import NotFast, Parser
from mlopsctl.cli.report import emit_json
from mlopsctl.errors import BadInput

if TYPE_CHECKING:
    from mlopsctl.core.scaffold import Scaffold


def parse_sets(values: list[str]) -> dict[str, str]:
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set '{item}' is not KEY=VALUE; e.g. --set with_compose=true.")
        out[key.strip()] = value
    return out


def finish(
    sc: Scaffold, command: str, dry_run: bool, json_: bool, title: str,
    after: Callable[[], str] | None = None,
) -> None:  # fmt: skip
    """Show the plan, stop on conflicts or dry-run, else apply it (then run ``after``)."""
    from mlopsctl.core.plan import ensure_no_conflicts

    written: list[str] = []
    if not sc.plan.conflicts and not dry_run:
        written = sc.apply()
        if after is not None:
            sc.notes.append(after())
    if json_:
        emit_json({**sc.as_dict(), "dry_run": dry_run, "written": written})
    else:
        from mlopsctl.cli import output

        out = output.console()
        out.print(output.plan_table(sc.plan, title))
        verb = "stopped:" if sc.plan.conflicts else ("would" if dry_run else "done:")
        out.print(f"{verb} {output.counts_line(sc.plan.counts())}")
        for note in sc.notes:
            out.print(note)
    ensure_no_conflicts(sc.plan, command)


def init(
    directory: Path, name: str | None, package: str | None, no_git: bool, force: bool,
    dry_run: bool, json_: bool,
) -> None:  # fmt: skip
    from mlopsctl.core import scaffold

    sc = scaffold.plan_init(directory, name=name, package=package, force=force)
    after = None if no_git else (lambda: scaffold.init_git(directory))
    finish(sc, "mlopsctl init", dry_run, json_, f"init {directory}", after)


def new_stage(
    substage: str, feature: str | None, template: str | None, sets: list[str],
    with_compose: bool, source: str | None, force: bool, dry_run: bool, json_: bool,
) -> None:  # fmt: skip
    from mlopsctl.core import config, scaffold

    cfg = config.load_project()
    if source is not None:
        if template is not None or sets or with_compose:
            raise BadInput(
                "--from copies a substage; it takes no --template, --set or --with-compose."
            )
        from mlopsctl.core.clone import plan_clone

        sc = plan_clone(cfg, source, substage, feature, force)
    else:
        sc = scaffold.plan_new_stage(
            cfg, substage, feature, template or scaffold.STAGE_TEMPLATE, parse_sets(sets),
            with_compose, force,
        )  # fmt: skip
    finish(sc, f"mlopsctl new-stage {substage}", dry_run, json_, f"new-stage {substage}")


def would_prompt(name: str | None, json_: bool) -> bool:
    """``init`` asks for the project name only in a terminal, and only when not given."""
    return name is None and not json_ and sys.stdin.isatty() and sys.stdout.isatty()


def parser(command: str) -> Parser:
    p = Parser(command)
    if command == "init":
        p.add_argument("directory", nargs="?", type=Path, default=Path())
        p.add_argument("--name")
        p.add_argument("--package")
        p.add_argument("--no-git", action="store_true")
    else:
        p.add_argument("substage")
        p.add_argument("feature", nargs="?")
        p.add_argument("--template")
        p.add_argument("--set", dest="sets", action="append", default=[])
        p.add_argument("--with-compose", action="store_true")
        p.add_argument("--from", dest="source")
    p.add_argument("--force", action="store_true")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", action="store_true")
    return p


def main(args: list[str]) -> int:
    """``init`` or ``new-stage`` from raw arguments (no Typer)."""
    command, rest = args[0], args[1:]
    ns = parser(command).parse_args(rest)
    if command == "init":
        if would_prompt(ns.name, ns.json):
            raise NotFast("init asks for the project name")
        init(ns.directory, ns.name, ns.package, ns.no_git, ns.force, ns.dry_run, ns.json)
    else:
        new_stage(
            ns.substage, ns.feature, ns.template, ns.sets, ns.with_compose, ns.source,
            ns.force, ns.dry_run, ns.json,
        )  # fmt: skip
    return 0
