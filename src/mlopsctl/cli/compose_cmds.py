"""``mlopsctl compose up|down|ps|logs|config [TARGET] [-- ARGS]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from mlopsctl.cli.report import emit_json

if TYPE_CHECKING:
    from mlopsctl.core.compose import ServiceState

ACTIONS = ("up", "down", "ps", "logs", "config")


def progress_printer(enabled: bool) -> Callable[[list[ServiceState]], None]:
    """A callback that prints each change of the services' health on one line."""
    last: list[str] = []

    def show(services: list[ServiceState]) -> None:
        line = ", ".join(f"{s.service}: {s.health or s.state}" for s in services) or "starting"
        if enabled and (not last or last[-1] != line):
            typer.echo(f"  {line}", err=True)
        last.append(line)

    return show


def print_logs(logs: dict[str, str]) -> None:
    for service, text in logs.items():
        typer.echo(f"--- last log lines of {service} ---", err=True)
        typer.echo(text.rstrip() or "(no output)", err=True)


def register(app: typer.Typer) -> None:
    @app.command(
        "compose", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
    )
    def compose_cmd(
        ctx: typer.Context,
        action: str = typer.Argument(..., help="up, down, ps, logs or config."),
        target: str | None = typer.Argument(
            None,
            help="main (default), stage-5 or 5, monitoring, production ... "
            "(docker/docker-compose.<target>.yml).",
        ),
        timeout: float = typer.Option(120.0, "--timeout", help="up: seconds to wait for health."),
        json_: bool = typer.Option(False, "--json", help="up: print one JSON document."),
    ) -> None:
        """Run Docker Compose on a target's file; `up` waits until every service is healthy.

        Works with `docker compose` (v2) and `docker-compose` (v1). On a timeout or an
        unhealthy service, `up` prints that service's last log lines and exits 1.
        Arguments after -- go to compose.
        """
        from mlopsctl.core import compose, config
        from mlopsctl.errors import BadInput

        if action not in ACTIONS:
            raise BadInput(f"Unknown compose action '{action}'; use {', '.join(ACTIONS)}.")
        cfg = config.load_project()
        root = cfg.require_root()
        name, file = compose.resolve_target(root, target)
        project = compose.project_name(cfg.name, name)
        extra = list(ctx.args)
        if action != "config":
            compose.require_engine()
        if action != "up":
            compose.run(project, file, [action, *extra], root, capture=False)
            return
        if not json_:
            typer.echo(f"starting {project} from {file.relative_to(root)}", err=True)
        health = compose.up_and_wait(
            project,
            file,
            root,
            timeout,
            extra=extra,
            on_progress=progress_printer(not json_),
        )
        if json_:
            emit_json({"project": project, "file": str(file.relative_to(root)), **health.as_dict()})
        elif health.ok:
            typer.echo(f"{project}: all {len(health.services)} services healthy")
        else:
            print_logs(health.logs)
        compose.require_ok(health)
