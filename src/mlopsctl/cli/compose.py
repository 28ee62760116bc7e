"""``mlopsctl compose up|down|ps|logs|config [TARGET] [-- ARGS]``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mlopsctl.cli.plain import echo, emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import Compose
    from mlopsctl.core.deploy.compose import ServiceState

ACTIONS = ("up", "down", "ps", "logs", "config")


class Progress:
    """Shows the services' health while mlopsctl waits: a Rich status line on a terminal,
    else one plain line per change (for CI logs). ``close()`` ends the status line."""

    def __init__(self, enabled: bool) -> None:
        import sys

        self.enabled, self.tty = enabled, sys.stderr.isatty()
        self.last = ""
        self.status: Any = None

    def __call__(self, services: list[ServiceState]) -> None:
        line = ", ".join(f"{s.service}: {s.health or s.state}" for s in services) or "starting"
        if not self.enabled or line == self.last:
            return
        self.last = line
        if not self.tty:
            echo(f"  {line}", err=True)
            return
        if self.status is None:
            from mlopsctl.cli.tables import console

            self.status = console(stderr=True).status(line)
            self.status.start()
        self.status.update(line)

    def say(self, line: str) -> None:
        """A line that stays (a canary's sample), printed above the status line."""
        if not self.enabled:
            return
        if self.status is not None:
            self.status.console.print(line, markup=False, highlight=False)
        else:
            echo(line, err=True)

    def close(self) -> None:
        if self.status is not None:
            self.status.stop()
            self.status = None


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
    settings = dict(cfg.section("environments").get(o.target or "") or {})
    if settings.get("engine") == "swarm" and o.action in ("ps", "logs"):
        return _swarm(cfg.name, str(o.target), o.action, list(o.extra))
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
    progress = Progress(not o.json)
    try:
        health = compose_mod.up_and_wait(
            project, file, root, o.timeout, extra=list(o.extra), on_progress=progress
        )
    finally:
        progress.close()
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


def _swarm(project: str, environment: str, action: str, extra: list[str]) -> int:
    """``ps``/``logs`` of a swarm environment: its stack's tasks (with their state and
    health), or every service's logs."""
    from mlopsctl.core import proc
    from mlopsctl.core.deploy import compose as compose_mod
    from mlopsctl.core.deploy import swarm

    compose_mod.require_engine()
    stack = swarm.stack_name(compose_mod.project_name(project), environment)
    if action == "ps":
        proc.run(["docker", "stack", "ps", stack, *extra], capture=False)
        return 0
    for service in swarm.services(compose_mod.client(), stack):
        echo(f"--- {service.name} ---", err=True)
        proc.run(["docker", "service", "logs", "--no-task-ids", *extra, service.name],
                 capture=False)  # fmt: skip
    return 0
