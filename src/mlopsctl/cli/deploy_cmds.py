"""``mlopsctl deploy``, ``rollback`` and ``releases``."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

import typer

from mlopsctl.cli.compose_cmds import print_logs, progress_printer
from mlopsctl.cli.options import DryRunOpt, JsonOpt, YesOpt
from mlopsctl.cli.report import emit_json

if TYPE_CHECKING:
    from mlopsctl.core.config import Config
    from mlopsctl.core.deploy import Outcome, Plan

StrategyOpt = typer.Option(
    "auto", "--strategy",
    help="auto (the project's script when present, else blue-green), script or blue-green.",
)  # fmt: skip


def _confirm(p: Plan, yes: bool) -> None:
    from mlopsctl.errors import BadInput

    if not p.confirm or yes:
        return
    if not sys.stdin.isatty():
        raise BadInput(
            f"Deploying to {p.environment} needs confirmation; pass --yes (no terminal to ask)."
        )
    if not typer.confirm(f"Really {p.action} {p.version} to {p.environment}?", default=False):
        raise typer.Exit(1)


def _report(outcome: Outcome, json_: bool) -> None:
    if json_:
        emit_json(outcome.as_dict())
    else:
        rel = outcome.release
        if outcome.health is not None and not outcome.health.ok:
            print_logs(outcome.health.logs)
        for warning in outcome.warnings:
            typer.echo(f"warning: {warning}", err=True)
        colour = f" ({rel.colour})" if rel.colour and rel.strategy == "blue-green" else ""
        verdict = "succeeded" if rel.outcome == "success" else f"failed: {rel.message}"
        typer.echo(
            f"{rel.action} of {rel.version} to {rel.environment}{colour} {verdict} "
            f"in {rel.duration:.1f}s"
        )
    if not outcome.ok:
        raise typer.Exit(1)


def _run(p: Plan, cfg: Config, yes: bool, dry_run: bool, json_: bool) -> None:
    from mlopsctl.core import deploy

    if dry_run:
        deploy.preflight(cfg, p)
        if json_:
            emit_json({"dry_run": True, "plan": p.as_dict()})
        else:
            for key, value in p.as_dict().items():
                if value is not None:
                    typer.echo(f"{key}: {value}")
        return
    _confirm(p, yes)
    outcome = deploy.execute(cfg, p, on_progress=progress_printer(not json_), stream=not json_)
    _report(outcome, json_)


def register(app: typer.Typer) -> None:
    @app.command("deploy")
    def deploy_cmd(
        environment: str = typer.Argument(..., help="staging, production, ..."),
        version: str = typer.Option(..., "--version", help="The version to deploy, e.g. v1.2.0."),
        yes: bool = YesOpt,
        dry_run: bool = DryRunOpt,
        strategy: str = StrategyOpt,
        json_: bool = JsonOpt,
    ) -> None:
        """Deploy a version: the project's scripts/deploy/deploy_<env>.sh, else blue-green.

        Blue-green starts the idle colour beside the live one and switches only when all its
        services are healthy; otherwise the new colour is removed, the live one keeps
        serving and the command exits 1. production asks for confirmation (--yes in CI).
        One deploy per environment at a time (exit 3 while locked). Every attempt is recorded.
        """
        from mlopsctl.core import config, deploy

        cfg = config.load_project()
        _run(deploy.plan(cfg, environment, version, strategy=strategy), cfg, yes, dry_run, json_)

    @app.command("rollback")
    def rollback_cmd(
        version: str | None = typer.Argument(
            None, help="Version to return to (default: the previous good one)."
        ),
        environment: str | None = typer.Option(
            None, "--env", help="Environment (default: the last one deployed)."
        ),
        yes: bool = YesOpt,
        dry_run: bool = DryRunOpt,
        strategy: str = StrategyOpt,
        json_: bool = JsonOpt,
    ) -> None:
        """Return an environment to a version: scripts/deploy/rollback.sh, else blue-green."""
        from mlopsctl.core import config, deploy

        cfg = config.load_project()
        plan = deploy.rollback_plan(cfg, version, environment, strategy)
        _run(plan, cfg, yes, dry_run, json_)

    @app.command("releases")
    def releases_cmd(
        environment: str | None = typer.Option(None, "--env", help="Only this environment."),
        json_: bool = JsonOpt,
    ) -> None:
        """List every recorded deploy and rollback, oldest first."""
        from mlopsctl.core import config, releases

        root = config.load_project().require_root()
        rows = releases.history(root, environment)
        if json_:
            emit_json({"releases": [r.as_dict() for r in rows]})
            return
        if not rows:
            typer.echo("No releases recorded yet.")
            return
        from rich.table import Table

        from mlopsctl.cli.output import console

        table = Table(show_edge=False, pad_edge=False)
        for col in (
            "#",
            "when",
            "env",
            "version",
            "action",
            "strategy",
            "outcome",
            "took",
            "user",
            "commit",
        ):
            table.add_column(col)
        for r in rows:
            style = "green" if r.outcome == "success" else "bold red"
            when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(r.started_at))
            table.add_row(
                str(r.id), when, r.environment, r.version, r.action, r.strategy,
                f"[{style}]{r.outcome}[/]", f"{r.duration:.1f}s", r.user, (r.git_commit or "")[:8],
            )  # fmt: skip
        console().print(table)
