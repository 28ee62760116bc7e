"""Deploy and rollback: what to do (:func:`plan`), then one attempt under the lock
(:func:`execute`), by one of the strategies, each a module of its own:

- :mod:`~mlopsctl.core.deploy.script`: the project's ``scripts/deploy/deploy_<env>.sh``;
- :mod:`~mlopsctl.core.deploy.bluegreen`: Docker Compose, two colours, health-gated switch;
- :mod:`~mlopsctl.core.deploy.stack`: Docker Swarm, the engine's rolling update;
- :mod:`~mlopsctl.core.deploy.canary`: either engine, the new version beside the live one
  while its metrics are sampled (:mod:`~mlopsctl.core.deploy.analysis`).

Every attempt holds the environment's lock (:mod:`~mlopsctl.core.deploy.lock`; a held lock is
exit 3 and no row), writes one release row before anything changes and completes it after, and
notifies once. The exit code tells what the engine did: 0 only when it serves the new version
and that version stayed healthy through the bake.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core import proc
from mlopsctl.core.config import Config
from mlopsctl.core.deploy import compose, engine, history, notify, swarm
from mlopsctl.core.deploy.lock import DeployLock, EngineLock, current_user, nesting_pid
from mlopsctl.errors import BadInput, Missing

DRAIN_DEFAULT = 3.0  # seconds the old colour keeps its open connections after it left the names
RETAIN_DEFAULT = 5  # releases whose images are kept for rollback
BAKE_INTERVALS = 3  # default bake: this many health intervals of the slowest service...
BAKE_MAX = 60.0  # ...at most this long
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")  # matched whole (fullmatch)
ENV_NAME = re.compile(r"[a-z][a-z0-9-]*")
COLOURS = ("blue", "green")
STRATEGIES = ("auto", "script", "blue-green", "canary")
SCRIPT_LEASE = 6 * 3600.0  # a script's deploy may take long; only another host waits this


@dataclass
class Plan:
    environment: str
    version: str
    action: str  # deploy or rollback
    strategy: str  # script, blue-green, swarm or canary
    engine: str = "compose"  # compose or swarm
    script: str | None = None
    compose_file: str | None = None
    live_colour: str | None = None
    new_colour: str | None = None
    live_version: str | None = None
    health_timeout: float = 60.0
    health_url: str | None = None
    confirm: bool = False
    drain: float = DRAIN_DEFAULT
    bake: float | None = None  # None: the default, from the services' health intervals
    retain: int = RETAIN_DEFAULT
    images: dict[str, str] = field(default_factory=dict)  # rollback: service -> image ID
    analysis: Any = None  # a canary's analysis.Analysis

    def steps(self) -> list[str]:
        """What the attempt does, in order (``--dry-run`` prints them)."""
        bake = "the default bake" if self.bake is None else f"a bake of {self.bake:g}s"
        if self.strategy == "script":
            return [f"run {self.script} {self.version} (its exit code decides)"]
        if self.strategy == "swarm":
            return [
                f"docker stack deploy {self.compose_file} with MLOPS_VERSION={self.version}",
                f"the engine updates each service start-first, watching it for {bake}, "
                "and rolls back a failed update (exit 1)",
            ]
        start = (
            f"start the {self.new_colour} colour with {self.version} beside "
            f"{self.live_version or 'nothing'} ({self.live_colour or 'none'})"
            if self.engine == "compose"
            else f"start a canary service per service with {self.version} beside "
            f"{self.live_version or 'nothing'}"
        )
        steps = [start, f"wait up to {self.health_timeout:g}s for every service to be healthy"]
        if self.strategy == "canary":
            a = self.analysis
            steps += [
                "put the canary under the service names beside the live version (the engine "
                "splits the traffic)",
                (f"wait {a.delay:g}s, then " if a.delay else "")
                + f"take {a.samples} samples {a.interval:g}s apart from {a.source}; abort after "
                f"{a.failure_limit + 1} failed",
                *[f"  {m}" for m in a.as_dict()["metrics"]],
                "promote: the live version leaves the names, drains and stops; or abort: the "
                "canary leaves the names, drains and is removed (exit 1)",
            ]
        else:
            steps.append(f"switch the service names to {self.new_colour}")
        steps.append(
            f"watch the new version for {bake} (a failure switches back, exit 1), let the "
            f"old one drain {self.drain:g}s, then stop it"
        )
        return steps

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "analysis"}
        out["analysis"] = self.analysis.as_dict() if self.analysis is not None else None
        out["steps"] = self.steps()
        return out


@dataclass
class Outcome:
    plan: Plan
    release: history.Release
    health: compose.Health | None = None
    warnings: list[str] = field(default_factory=list)
    converged: swarm.Converged | None = None  # a swarm deploy: how its services converged
    failures: list[str] = field(default_factory=list)  # an aborted canary: one per metric
    output: str = ""

    @property
    def ok(self) -> bool:
        return self.release.outcome == "success"

    @property
    def exit_code(self) -> int:
        if self.ok:
            return 0
        return 3 if self.release.outcome == "refused" else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "plan": self.plan.as_dict(),
            "release": self.release.as_dict(),
            "health": self.health.as_dict() if self.health else None,
            "swarm": self.converged.as_dict() if self.converged else None,
            "failures": self.failures,
            "warnings": self.warnings,
            "output": self.output,
        }


Progress = Callable[[list[compose.ServiceState]], None]


@dataclass
class Attempt:
    """What a strategy works with: the project, the plan, the outcome it fills in."""

    config: Config
    root: Path
    plan: Plan
    outcome: Outcome
    store: history.Store
    lock: EngineLock | None = None
    on_progress: Progress | None = None
    say: Callable[[str], None] | None = None  # progress lines (a canary's samples)

    @property
    def project(self) -> str:
        return compose.project_name(self.config.name)

    @property
    def release(self) -> history.Release:
        return self.outcome.release

    def check_lock(self) -> None:
        if self.lock is not None:
            self.lock.check()

    def tell(self, line: str) -> None:
        if self.say is not None:
            self.say(line)


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
    if strategy not in STRATEGIES:
        raise BadInput(f"--strategy '{strategy}' is not one of {', '.join(STRATEGIES)}.")
    settings = dict(config.section("environments").get(environment) or {})
    confirm = bool(settings.get("confirm", environment == "production"))
    script_name = "rollback.sh" if action == "rollback" else f"deploy_{environment}.sh"
    script = root / "scripts" / "deploy" / script_name
    p = Plan(environment, version, action, "script", confirm=confirm)
    p.engine = settings.get("engine", "compose")
    p.health_timeout = float(settings.get("health_timeout", 60))
    p.health_url = settings.get("health_url")
    if strategy == "script" and not script.is_file():
        raise BadInput(f"--strategy script: scripts/deploy/{script_name} does not exist.")
    inside_script = nesting_pid(environment) is not None
    if inside_script and strategy == "script":
        raise BadInput(
            f"scripts/deploy/{script_name} runs `mlopsctl deploy --strategy script` "
            "for its own environment: that would run it again; drop --strategy."
        )
    if script.is_file() and strategy in ("auto", "script") and not inside_script:
        # (the script's own `mlopsctl deploy` takes the environment's built-in strategy)
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
    wanted = strategy if strategy != "auto" else settings.get("strategy", "blue-green")
    if action == "rollback":
        wanted = "blue-green"  # back to a release that passed before: no analysis
    if wanted == "canary":
        from mlopsctl.core.deploy import analysis

        key = f"environments.{environment}.analysis"
        if not settings.get("analysis"):
            raise BadInput(
                f"A canary deploy of {environment} needs {key} in mlops.yaml (samples, "
                "interval and the metrics that judge it); see docs/deploy.md."
            )
        p.analysis = analysis.from_config(settings["analysis"], key)
        p.strategy = "canary"
    else:
        p.strategy = "swarm" if p.engine == "swarm" else "blue-green"
    p.compose_file = str(file.relative_to(root))
    p.drain = float(settings.get("drain", DRAIN_DEFAULT))
    p.bake = float(settings["bake"]) if "bake" in settings else None
    p.retain = int(settings.get("retain", RETAIN_DEFAULT))
    read_live(config, p)
    return p


def read_live(config: Config, p: Plan) -> None:
    """Fill the plan's live colour and version from the engine; the new colour is the other."""
    compose.require_engine()
    if p.engine == "swarm":
        c = compose.client()
        stack = swarm.stack_name(compose.project_name(config.name), p.environment)
        versions = {
            (s.attrs.get("Spec", {}).get("Labels") or {}).get(engine.VERSION)
            for s in swarm.services(c, stack, canaries=False)
        }
        p.live_version = versions.pop() if len(versions) == 1 else None
        p.live_colour = p.new_colour = None
        return
    live = engine.live(compose.client(), compose.project_name(config.name), p.environment)
    p.live_colour = live.colour if live and live.colour in COLOURS else None
    p.live_version = live.version if live else None
    p.new_colour = COLOURS[1] if p.live_colour == COLOURS[0] else COLOURS[0]


def preflight(config: Config, p: Plan) -> None:
    """Refuse before anything starts or is recorded: no engine, or ports that clash."""
    root = config.require_root()
    if p.strategy == "script":
        assert p.script is not None
        text = (root / p.script).read_text(encoding="utf-8", errors="replace")
        if "docker" in text or "mlopsctl deploy" in text or "mlopsctl rollback" in text:
            compose.require_engine()  # the script needs the engine: exit 4 before it runs
        return
    assert p.compose_file is not None
    if p.engine == "swarm":
        from mlopsctl.core.yamlcache import load

        swarm.require_swarm(compose.client())
        source = load(root / p.compose_file)
        swarm.stack_override(source if isinstance(source, dict) else {}, {}, {}, p.compose_file)
        return
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


def lease_of(p: Plan) -> float:
    """How long the engine lock holds without its holder (for a holder on another host)."""
    analysis = p.analysis.interval * p.analysis.samples if p.analysis is not None else 0.0
    return p.health_timeout + p.drain + (p.bake or BAKE_MAX) + analysis + 300.0


def execute(
    config: Config, p: Plan, on_progress: Progress | None = None, stream: bool = True,
    say: Callable[[str], None] | None = None,
) -> Outcome:  # fmt: skip
    """Run the plan: one attempt, one release row (written before anything changes), one
    notification. A deploy that the project's deploy script runs (the script's own
    ``mlopsctl deploy``) is part of the script's attempt: the script's row and notification
    are the only ones, and it shares the script's lock."""
    root = config.require_root()
    preflight(config, p)
    store = history.Store(config.name)
    rel = history.Release(
        environment=p.environment, version=p.version, action=p.action, strategy=p.strategy,
        outcome="failed", started_at=time.time(), duration=0.0, user=current_user(),
        git_commit=_git_commit(root), colour=p.new_colour,
        release=engine.new_release_id(),  # in the row from its start: a kill is settled by it
    )  # fmt: skip
    outcome = Outcome(p, rel)
    attempt = Attempt(config, root, p, outcome, store, on_progress=on_progress, say=say)
    project = compose.project_name(config.name)
    what = f"{p.action} {p.version}"
    if p.strategy == "script":
        from mlopsctl.core.deploy import script

        with DeployLock(root, p.environment, what) as local:
            client = _client_if_any()
            with _maybe_engine_lock(client, project, p.environment, what) as lock:
                attempt.lock = lock
                outcome.warnings.extend(lock.warnings if lock is not None else [])
                _record(attempt, lambda: script.run(attempt, stream, local.fd))
        return outcome
    with EngineLock(compose.client(), project, p.environment, what, lease_of(p)) as lock:
        attempt.lock = lock
        outcome.warnings.extend(lock.warnings)
        work = _strategy(p)
        if nesting_pid(p.environment) is not None:  # inside the project's script: no row
            work(attempt)
            rel.duration = time.time() - rel.started_at
        else:
            _record(attempt, lambda: work(attempt))
    return outcome


def _strategy(p: Plan) -> Callable[[Attempt], None]:
    if p.strategy == "swarm":
        from mlopsctl.core.deploy import stack

        return stack.deploy
    if p.strategy == "canary":
        from mlopsctl.core.deploy import canary

        return canary.deploy_swarm if p.engine == "swarm" else canary.deploy_compose
    from mlopsctl.core.deploy import bluegreen

    return bluegreen.deploy


def _client_if_any() -> Any:
    try:
        compose.require_engine()
        return compose.client()
    except Missing:
        return None


class _NoLock:
    warnings: tuple[str, ...] = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _maybe_engine_lock(client: Any, project: str, environment: str, what: str) -> Any:
    """The engine lock when an engine answers (every clone and runner sees it), else none
    (the checkout's flock alone)."""
    if client is None:
        return _NoLock()
    return EngineLock(client, project, environment, what, SCRIPT_LEASE)


def _record(attempt: Attempt, work: Callable[[], None]) -> None:
    config, store, outcome = attempt.config, attempt.store, attempt.outcome
    rel = outcome.release
    store.start(rel)
    rel.outcome = "failed"
    try:
        work()
    except KeyboardInterrupt:
        rel.outcome = "interrupted"
        rel.message = rel.message or "interrupted (Ctrl-C); what is live was left serving"
        raise
    except Exception as exc:
        rel.message = rel.message or f"{type(exc).__name__}: {exc}"
        raise
    finally:
        rel.duration = time.time() - rel.started_at
        store.finish(rel)
        url = notify.webhook_url(config)
        if url:
            warning = notify.send(url, notify.message(config.name, rel))
            if warning:
                outcome.warnings.append(warning)


def rollback_plan(
    config: Config, version: str | None, environment: str | None, strategy: str = "auto"
) -> Plan:
    """Return ``environment`` to ``version`` (default: the release before the live one).

    Blue-green and swarm start the image IDs the engine kept for that version (only releases
    that passed their bake are kept), never a tag that may have moved since.
    """
    store = history.Store(config.name)
    env = environment or next((r.environment for r in reversed(store.rows())), None)
    if env is None:
        raise BadInput("No releases recorded yet; name the environment with --env.")
    if strategy == "canary":
        raise BadInput("A rollback returns to a release that passed before: no --strategy canary.")
    probe = plan(config, env, version or "unknown", action="rollback", strategy=strategy)
    if probe.strategy == "script":
        if version is None:
            target = store.previous_good(env, _live_version(store, env))
            if target is None:
                raise BadInput(
                    f"No earlier successful release of {env} to return to; name a version."
                )
            version = target.version
        return plan(config, env, version, action="rollback", strategy=strategy)
    kept = engine.kept(compose.client(), compose.project_name(config.name), env)
    if version is None:
        previous = store.previous_good(env, probe.live_version)
        candidates = [previous.version] if previous and previous.version in kept else []
        candidates += [v for v in kept if v != probe.live_version and v not in candidates]
        if not candidates:
            raise BadInput(
                f"No earlier release of {env} with kept images to return to; name a version."
            )
        version = candidates[0]
    if version not in kept:
        have = ", ".join(sorted(kept)) or "none"
        raise BadInput(
            f"No kept images of {version} for {env} (kept: {have}; a release that failed, was "
            "aborted or did not pass its bake is never kept); deploy it instead."
        )
    p = plan(config, env, version, action="rollback", strategy=strategy)
    p.images = dict(kept[version])
    return p


def _live_version(store: history.Store, environment: str) -> str | None:
    done = [r for r in store.rows(environment) if r.outcome == "success"]
    return done[-1].version if done else None


def settle(config: Config, environment: str, store: history.Store, running: bool) -> None:
    """Settle the history's rows that interrupted deploys left ``started``, against the
    release the engine serves."""
    settings = dict(config.section("environments").get(environment) or {})
    if settings.get("engine") == "swarm":
        from mlopsctl.core.deploy import stack

        stack.settle(config, environment, store, running)
        return
    from mlopsctl.core.deploy import bluegreen

    bluegreen.settle(config, environment, store, running)


def write_temp_compose(name: str, doc: dict[str, Any]) -> Path:
    """A generated compose document in a temporary folder of its own, outside the project:
    compose resolves paths from the first file's folder, and nothing of a deploy is left in
    (or shares a folder with the staged files of) the checkout. Removed with :func:`discard`."""
    import tempfile

    import yaml

    path = Path(tempfile.mkdtemp(prefix="mlopsctl-deploy-")) / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def discard(path: Path) -> None:
    import shutil

    shutil.rmtree(path.parent, ignore_errors=True)


def _git_commit(root: Path) -> str | None:
    done = proc.run(["git", "rev-parse", "HEAD"], cwd=root, check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None
