"""``mlopsctl compose up|down|ps|logs|config [TARGET] [-- ARGS]``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mlopsctl.cli.plain import echo, emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import Compose
    from mlopsctl.core.deploy.compose import ServiceState

ACTIONS = ("up", "down", "ps", "logs", "config")


def progress_printer(enabled: bool) -> Callable[[list[ServiceState]], None]:
    """A callback that prints each change of the services' health on one line."""
    last: list[str] = []

    def show(services: list[ServiceState]) -> None:
        line = ", ".join(f"{s.service}: {s.health or s.state}" for s in services) or "starting"
        if enabled and (not last or last[-1] != line):
            echo(f"  {line}", err=True)
        last.append(line)

    return show


def print_logs(logs: dict[str, str]) -> None:
    for service, text in logs.items():
        echo(f"--- last log lines of {service} ---", err=True)
        echo(text.rstrip() or "(no output)", err=True)


def compose(o: Compose) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.deploy import compose as compose_mod
    from mlopsctl.errors import BadInput

    if o.action not in ACTIONS:
        raise BadInput(f"Unknown compose action '{o.action}'; use {', '.join(ACTIONS)}.")
    if not 0 < o.timeout <= 86400:  # also refuses nan and inf
        raise BadInput(f"--timeout {o.timeout:g} is not a number of seconds from 1 to 86400.")
    cfg = config.load_project()
    root = cfg.require_root()
    name, file = compose_mod.resolve_target(root, o.target)
    project = compose_mod.project_name(cfg.name, name)
    if o.action != "config":
        compose_mod.require_engine()
    if o.action in ("ps", "logs", "down"):  # an environment: its live colour's project
        from mlopsctl.core.deploy import engine

        live = engine.live(compose_mod.client(), compose_mod.project_name(cfg.name), name)
        if live is not None and live.colour in ("blue", "green"):
            project = f"{project}-{live.colour}"
    if o.action != "up":
        compose_mod.run(project, file, [o.action, *o.extra], root, capture=False)
        return 0
    if not o.json:
        echo(f"starting {project} from {file.relative_to(root)}", err=True)
    health = compose_mod.up_and_wait(
        project,
        file,
        root,
        o.timeout,
        extra=list(o.extra),
        on_progress=progress_printer(not o.json),
    )
    if o.json:
        emit_json({"project": project, "file": str(file.relative_to(root)), **health.as_dict()})
    elif health.ok:
        echo(f"{project}: all {len(health.services)} services healthy")
    else:
        print_logs(health.logs)
        echo(
            f"mlopsctl: error: services did not become healthy ({health.reason}); "
            "see their logs above.",
            err=True,
        )
    return 0 if health.ok else 1
