"""``mlopsctl deploy``, ``rollback`` and ``releases``."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from mlopsctl.cli.compose import Progress, print_logs
from mlopsctl.cli.plain import echo, emit_json
from mlopsctl.errors import MlopsError

if TYPE_CHECKING:
    from mlopsctl.cli.commands import Deploy, Releases, Rollback
    from mlopsctl.core.config import Config
    from mlopsctl.core.deploy.rollout import Outcome, Plan


def _confirmed(p: Plan, yes: bool) -> bool:
    from mlopsctl.errors import BadInput

    if not p.confirm or yes:
        return True
    if not sys.stdin.isatty():
        raise BadInput(
            f"Deploying to {p.environment} needs confirmation; pass --yes (no terminal to ask)."
        )
    import typer

    return bool(typer.confirm(f"Really {p.action} {p.version} to {p.environment}?", default=False))


VERDICTS = {"success": "succeeded", "aborted": "was aborted", "refused": "was refused",
            "rolled back": "was rolled back by the engine"}  # fmt: skip


def _report(outcome: Outcome, json_: bool) -> int:
    from mlopsctl.core.secrets import mask_text

    if json_:
        emit_json(outcome.as_dict())
    else:
        rel = outcome.release
        if outcome.health is not None and not outcome.health.ok:
            print_logs(outcome.health.logs)
        for warning in outcome.warnings:
            echo(f"warning: {mask_text(warning)}", err=True)
        for line in outcome.failures:
            echo(f"  {mask_text(line)}", err=True)
        colour = f" ({rel.colour})" if rel.colour in ("blue", "green") else ""
        verdict = VERDICTS.get(rel.outcome, "failed")
        if rel.outcome != "success":
            verdict += f": {mask_text(rel.message)}"
        echo(
            f"{rel.action} of {rel.version} to {rel.environment}{colour} {verdict} "
            f"in {rel.duration:.1f}s"
        )
    return outcome.exit_code


def _run(p: Plan, cfg: Config, yes: bool, dry_run: bool, json_: bool) -> int:
    from mlopsctl.core.deploy import rollout

    if dry_run:
        rollout.preflight(cfg, p)
        if json_:
            emit_json({"dry_run": True, "plan": p.as_dict()})
        else:
            echo(f"{p.action} {p.version} to {p.environment} ({p.strategy}, dry run):")
            for n, step in enumerate(p.steps(), 1):
                echo(f"  {step}" if step.startswith("  ") else f"{n}. {step}")
            echo("nothing was changed.")
        return 0
    if not _confirmed(p, yes):
        echo("not confirmed; nothing was changed.", err=True)
        return 1
    progress = Progress(not json_)
    try:
        outcome = rollout.execute(cfg, p, on_progress=progress, stream=not json_,
                                  say=None if json_ else progress.say)  # fmt: skip
    finally:
        progress.close()
    return _report(outcome, json_)


def deploy(o: Deploy) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.deploy import rollout

    cfg = config.load_project()
    plan = rollout.plan(cfg, o.environment, o.version, strategy=o.strategy)
    return _run(plan, cfg, o.yes, o.dry_run, o.json)


def rollback(o: Rollback) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.deploy import rollout

    cfg = config.load_project()
    plan = rollout.rollback_plan(cfg, o.version, o.environment, o.strategy)
    return _run(plan, cfg, o.yes, o.dry_run, o.json)


def releases(o: Releases) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.deploy import compose, history, rollout

    cfg = config.load_project()
    store = history.Store(cfg.name)
    if o.environment is not None:  # settle rows of interrupted deploys against the engine
        try:
            compose.require_engine()
            rollout.settle(cfg, o.environment, store, running=True)
        except MlopsError:
            pass  # no engine: nothing is known, nothing is settled
    rows = store.rows(o.environment)
    if o.json:
        emit_json({"releases": [r.as_dict() for r in rows]})
        return 0
    if not rows:
        echo("No releases recorded yet.")
        return 0
    from rich.markup import escape
    from rich.table import Table

    from mlopsctl.cli.tables import console

    table = Table(show_edge=False, pad_edge=False)
    for col in ("#", "when", "env", "version", "action", "strategy", "outcome", "took", "user",
                "commit"):  # fmt: skip
        table.add_column(col)
    for r in rows:
        style = "green" if r.outcome == "success" else "bold red"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.started_at))
        table.add_row(
            str(r.id), when, r.environment, escape(r.version), r.action, r.strategy,
            f"[{style}]{r.outcome}[/]", f"{r.duration:.1f}s", escape(r.user),
            (r.git_commit or "")[:8],
        )  # fmt: skip
    console().print(table)
    return 0
