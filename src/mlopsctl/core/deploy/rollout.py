"""Deploy and rollback: the project's own script, or the built-in blue-green strategy.

Blue-green on ``docker/docker-compose.<env>.yml``: the idle colour starts beside the live one
with ``MLOPS_VERSION`` set; only when every service of it is healthy does traffic switch
(``scripts/deploy/switch_traffic.sh <colour> <version>`` when the project has one) and the old
colour stop. An unhealthy new colour is removed and the live one is left untouched.
"""

from __future__ import annotations

import json
import os
import re
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core import proc
from mlopsctl.core.config import Config
from mlopsctl.core.deploy import compose, history, notify
from mlopsctl.core.deploy.lock import NESTED_LOCK, DeployLock, current_user
from mlopsctl.core.fs import atomic_write
from mlopsctl.errors import BadInput

STATE_DIR = ".mlops/state/deploy"
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")  # matched whole (fullmatch)
ENV_NAME = re.compile(r"[a-z][a-z0-9-]*")
COLOURS = ("blue", "green")


@dataclass
class Plan:
    environment: str
    version: str
    action: str  # deploy or rollback
    strategy: str  # script or blue-green
    script: str | None = None
    compose_file: str | None = None
    live_colour: str | None = None
    new_colour: str | None = None
    live_version: str | None = None
    health_timeout: float = 60.0
    health_url: str | None = None
    confirm: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Outcome:
    plan: Plan
    release: history.Release
    health: compose.Health | None = None
    warnings: list[str] = field(default_factory=list)
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.release.outcome == "success"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "plan": self.plan.as_dict(),
            "release": self.release.as_dict(),
            "health": self.health.as_dict() if self.health else None,
            "warnings": self.warnings,
            "output": self.output,
        }


def _state_path(root: Path, environment: str) -> Path:
    return root / STATE_DIR / f"{environment}.json"


def live_state(root: Path, environment: str) -> dict[str, str]:
    try:
        data = json.loads(_state_path(root, environment).read_text())
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


STRATEGIES = ("auto", "script", "blue-green")


def plan(
    config: Config, environment: str, version: str, action: str = "deploy", strategy: str = "auto"
) -> Plan:
    root = config.require_root()
    if not ENV_NAME.fullmatch(environment):
        raise BadInput(f"Environment '{environment}' is not a lower-case name; e.g. staging.")
    if not VERSION.fullmatch(version):
        raise BadInput(
            f"Version '{version}' may hold letters, digits, '.', '_', '+' and '-'; e.g. v1.2.0."
        )
    settings = dict(config.section("environments").get(environment) or {})
    confirm = bool(settings.get("confirm", environment == "production"))
    script_name = "rollback.sh" if action == "rollback" else f"deploy_{environment}.sh"
    script = root / "scripts" / "deploy" / script_name
    p = Plan(environment, version, action, "script", confirm=confirm)
    p.health_timeout = float(settings.get("health_timeout", 60))
    p.health_url = settings.get("health_url")
    if strategy not in STRATEGIES:
        raise BadInput(f"--strategy '{strategy}' is not one of {', '.join(STRATEGIES)}.")
    if strategy == "script" and not script.is_file():
        raise BadInput(f"--strategy script: scripts/deploy/{script_name} does not exist.")
    if script.is_file() and strategy != "blue-green":
        p.script = str(script.relative_to(root))
        return p
    file = root / settings.get("compose_file", f"docker/docker-compose.{environment}.yml")
    if not file.is_file():
        known = sorted(
            {f.stem.removeprefix("deploy_") for f in (root / "scripts/deploy").glob("deploy_*.sh")}
            | set(compose.targets(root)) - {"main"}
        )
        raise BadInput(
            f"Nothing deploys '{environment}': add scripts/deploy/{script_name} or "
            f"{file.relative_to(root)} (known: {', '.join(known) or 'none'})."
        )
    state = live_state(root, environment)
    live = state.get("colour")
    p.strategy = "blue-green"
    p.compose_file = str(file.relative_to(root))
    p.live_colour = live
    p.live_version = state.get("version")
    p.new_colour = COLOURS[1] if live == COLOURS[0] else COLOURS[0]
    return p


def preflight(config: Config, p: Plan) -> None:
    """Refuse before anything starts or is recorded: no engine, or ports that clash."""
    if p.strategy != "blue-green":
        return
    root = config.require_root()
    assert p.compose_file is not None
    compose.require_engine()
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    project = compose.project_name(config.name, p.environment, p.new_colour or "")
    file = root / p.compose_file
    fixed = (
        compose.fixed_ports(compose.config(project, file, root, env))
        if compose.declares_ports(file)
        else []
    )
    if fixed:
        service, port = fixed[0]
        raise BadInput(
            f"{p.compose_file}: service '{service}' publishes fixed host port {port}, so two "
            "colours cannot run side by side; publish it through a proxy that "
            "scripts/deploy/switch_traffic.sh points at the live colour, or give the port "
            "without a host part. Nothing was started."
        )


Progress = Callable[[list[compose.ServiceState]], None]


def execute(
    config: Config, p: Plan, on_progress: Progress | None = None, stream: bool = True
) -> Outcome:
    root = config.require_root()
    preflight(config, p)
    with DeployLock(root, p.environment, f"{p.action} {p.version}") as lock:
        started = time.time()
        rel = history.Release(
            environment=p.environment, version=p.version, action=p.action, strategy=p.strategy,
            outcome="failed", started_at=started, duration=0.0, user=current_user(),
            git_commit=_git_commit(root), colour=p.new_colour,
        )  # fmt: skip
        outcome = Outcome(p, rel, warnings=list(lock.warnings))
        try:
            if p.strategy == "script":
                _run_script(root, p, outcome, stream, lock.fd)
            else:
                _blue_green(config, root, p, outcome, on_progress)
        finally:
            rel.duration = time.time() - started
            history.record(root, rel)
            url = notify.webhook_url(config)
            if url:
                warning = notify.send(url, notify.message(config.name, rel))
                if warning:
                    outcome.warnings.append(warning)
    return outcome


def rollback_plan(
    config: Config, version: str | None, environment: str | None, strategy: str = "auto"
) -> Plan:
    root = config.require_root()
    rows = history.history(root)
    env = environment or (rows[-1].environment if rows else None)
    if env is None:
        raise BadInput("No releases recorded yet; name the environment with --env.")
    if version is None:
        target = history.previous_good(root, env)
        if target is None:
            raise BadInput(f"No earlier successful release of {env} to return to; name a version.")
        version = target.version
    return plan(config, env, version, action="rollback", strategy=strategy)


def _run_script(root: Path, p: Plan, outcome: Outcome, stream: bool, lock_fd: int | None) -> None:
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    env[NESTED_LOCK] = f"{p.environment}:{os.getpid()}"  # a nested deploy shares our lock
    assert p.script is not None
    done = proc.start(
        ["bash", p.script, p.version], cwd=root, env=env, capture=not stream,
        pass_fds=() if lock_fd is None else (lock_fd,),
    ).finish(check=False)  # fmt: skip
    outcome.output = (done.stdout or "") + (done.stderr or "")
    if done.returncode == 0:
        outcome.release.outcome = "success"
    else:
        outcome.release.message = f"{p.script} exited with {done.returncode}"


def _blue_green(
    config: Config, root: Path, p: Plan, outcome: Outcome,
    on_progress: Callable[[list[compose.ServiceState]], None] | None,
) -> None:  # fmt: skip
    assert p.compose_file is not None and p.new_colour is not None
    file = root / p.compose_file
    base = compose.project_name(config.name, p.environment)
    new_project = f"{base}-{p.new_colour}"
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment,
           "MLOPS_COLOR": p.new_colour}  # fmt: skip
    health = compose.up_and_wait(
        new_project, file, root, p.health_timeout, env, on_progress=on_progress
    )
    if health.ok and p.health_url:
        url = p.health_url.format(colour=p.new_colour, version=p.version)
        problem = _http_ok(url, p.health_timeout)
        if problem:
            health.ok, health.reason = False, problem
    outcome.health = health
    if health.ok:
        switch = root / "scripts" / "deploy" / "switch_traffic.sh"
        if switch.is_file():
            done = proc.run(["bash", str(switch.relative_to(root)), p.new_colour, p.version],
                            cwd=root, env=env, check=False)  # fmt: skip
            outcome.output += (done.stdout or "") + (done.stderr or "")
            if done.returncode != 0:
                health.ok, health.reason = False, f"switch_traffic.sh exited with {done.returncode}"
    if not health.ok:
        # never took traffic: no need for a graceful stop
        compose.run(new_project, file, ["down", "--remove-orphans", "-t", "2"], root, env)
        live = f"{p.live_version} ({p.live_colour})" if p.live_colour else "nothing"
        outcome.release.message = (
            f"{health.reason}; the new colour was removed, {live} still serves"
        )
        return
    outcome.release.image_ids = sorted({s.image for s in health.services if s.image})
    atomic_write(
        _state_path(root, p.environment),
        json.dumps({"colour": p.new_colour, "version": p.version, "project": new_project}).encode(),
    )
    outcome.release.outcome = "success"
    if p.live_colour:
        compose.remove_project(f"{base}-{p.live_colour}")


def _http_ok(url: str, timeout: float) -> str | None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if 200 <= response.status < 300:
                    return None
                last = f"HTTP {response.status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    return f"health URL {url} did not answer 2xx within {timeout:g}s ({last})"


def _git_commit(root: Path) -> str | None:
    done = proc.run(["git", "rev-parse", "HEAD"], cwd=root, check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None
