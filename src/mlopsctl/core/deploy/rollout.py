"""Deploy and rollback: the project's own script, or the built-in blue-green strategy.

Blue-green on ``docker/docker-compose.<env>.yml``, with the engine as the truth
(:mod:`mlopsctl.core.deploy.engine`): under the engine-held lock, the idle colour starts
beside the live one (``MLOPS_VERSION`` set, every container labelled with the release), and
only when all its services are healthy does it join the environment's network under the
service names; the old colour then leaves it, drains and stops. A project's
``scripts/deploy/switch_traffic.sh <colour> <version>`` runs as a hook after the switch; if it
fails, traffic goes back to the old colour before the command exits 1. An unhealthy new
colour is removed and the live one is never touched.
"""

from __future__ import annotations

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
from mlopsctl.core.deploy import compose, engine, history, notify, swarm
from mlopsctl.core.deploy.lock import NESTED_LOCK, DeployLock, current_user
from mlopsctl.errors import BadInput

DRAIN_DEFAULT = 3.0  # seconds the old colour keeps running after it left the network
RETAIN_DEFAULT = 5  # releases whose images are kept for rollback
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
    drain: float = DRAIN_DEFAULT
    retain: int = RETAIN_DEFAULT
    images: dict[str, str] = field(default_factory=dict)  # rollback: service -> image ID

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Outcome:
    plan: Plan
    release: history.Release
    health: compose.Health | None = None
    warnings: list[str] = field(default_factory=list)
    converged: swarm.Converged | None = None  # a swarm deploy: how its services converged
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
            "swarm": self.converged.as_dict() if self.converged else None,
            "warnings": self.warnings,
            "output": self.output,
        }


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
    p.strategy = "swarm" if settings.get("engine") == "swarm" else "blue-green"
    p.compose_file = str(file.relative_to(root))
    p.drain = float(settings.get("drain", DRAIN_DEFAULT))
    p.retain = int(settings.get("retain", RETAIN_DEFAULT))
    read_live(config, p)
    return p


def read_live(config: Config, p: Plan) -> engine.Live | None:
    """Fill the plan's live colour and version from the engine; the new colour is the other."""
    compose.require_engine()
    if p.strategy == "swarm":
        c = compose.client()
        stack = swarm.stack_name(compose.project_name(config.name), p.environment)
        versions = {
            (s.attrs.get("Spec", {}).get("Labels") or {}).get(engine.VERSION)
            for s in swarm.services(c, stack)
        }
        p.live_version = versions.pop() if len(versions) == 1 else None
        p.live_colour = p.new_colour = None
        return None
    live = engine.live(compose.client(), compose.project_name(config.name), p.environment)
    p.live_colour = live.colour if live and live.colour in COLOURS else None
    p.live_version = live.version if live else None
    p.new_colour = COLOURS[1] if p.live_colour == COLOURS[0] else COLOURS[0]
    return live


def preflight(config: Config, p: Plan) -> None:
    """Refuse before anything starts or is recorded: no engine, or ports that clash."""
    if p.strategy == "swarm":
        assert p.compose_file is not None
        swarm.require_swarm(compose.client())
        from mlopsctl.core.yamlcache import load

        source = load(config.require_root() / p.compose_file)
        swarm.stack_override(source if isinstance(source, dict) else {}, {}, {}, p.compose_file)
        return
    if p.strategy != "blue-green":
        assert p.script is not None
        text = (config.require_root() / p.script).read_text(encoding="utf-8", errors="replace")
        if "docker" in text or "mlopsctl deploy" in text or "mlopsctl rollback" in text:
            compose.require_engine()  # the script needs the engine: exit 4 before it runs
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
    """Run the plan: one attempt, one release row (written before anything changes), one
    notification. A blue-green deploy that the project's deploy script runs (the script's
    own ``mlopsctl deploy``) is part of the script's attempt: the script's row and
    notification are the only ones."""
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
    if p.strategy == "script":
        with DeployLock(root, p.environment, f"{p.action} {p.version}") as local:
            _attempt(config, store, outcome,
                     lambda: _run_script(root, p, outcome, stream, local.fd))  # fmt: skip
        return outcome
    inside_script = os.environ.get(NESTED_LOCK, "").startswith(f"{p.environment}:")
    lease = p.health_timeout + p.drain + 300.0
    with engine.EngineLock(compose.client(), compose.project_name(config.name), p.environment,
                           f"{p.action} {p.version}", lease) as lock:  # fmt: skip
        outcome.warnings.extend(lock.warnings)

        def work() -> None:
            if p.strategy == "swarm":
                settle(config, p.environment, store, running=False)
                _swarm(config, root, p, outcome, on_progress, lock)
            else:
                _blue_green(config, root, p, outcome, on_progress, store, lock)

        if inside_script:
            work()
            rel.duration = time.time() - rel.started_at
        else:
            _attempt(config, store, outcome, work)
    return outcome


def _attempt(
    config: Config, store: history.Store, outcome: Outcome, work: Callable[[], None]
) -> None:
    rel = outcome.release
    store.start(rel)
    rel.outcome = "failed"
    try:
        work()
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

    Blue-green and swarm start the image IDs the engine kept for that version, never a tag
    that may have moved since.
    """
    store = history.Store(config.name)
    env = environment or next((r.environment for r in reversed(store.rows())), None)
    if env is None:
        raise BadInput("No releases recorded yet; name the environment with --env.")
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
        raise BadInput(f"No kept images of {version} for {env} (kept: {have}); deploy it instead.")
    p = plan(config, env, version, action="rollback", strategy=strategy)
    p.images = dict(kept[version])
    return p


def _live_version(store: history.Store, environment: str) -> str | None:
    done = [r for r in store.rows(environment) if r.outcome == "success"]
    return done[-1].version if done else None


def _run_script(root: Path, p: Plan, outcome: Outcome, stream: bool, lock_fd: int | None) -> None:
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    env[NESTED_LOCK] = f"{p.environment}:{os.getpid()}"  # a nested deploy shares our lock
    assert p.script is not None
    # the script's own mlopsctl call must neither ask again nor lose the environment
    args = [p.version, "--yes"]
    if p.action == "rollback":
        args = [p.version, "--env", p.environment, "--yes"]
    done = proc.start(
        ["bash", p.script, *args], cwd=root, env=env, capture=not stream,
        pass_fds=() if lock_fd is None else (lock_fd,),
    ).finish(check=False)  # fmt: skip
    outcome.output = (done.stdout or "") + (done.stderr or "")
    if done.returncode == 0:
        outcome.release.outcome = "success"
    else:
        outcome.release.message = f"{p.script} exited with {done.returncode}"


def _override(
    p: Plan,
    project: str,
    rel: history.Release,
    services: list[str],
    version_key: Any,
) -> Path:
    """A compose file that labels every service with the release (and, for a rollback, pins
    each service to its kept image ID)."""

    labels = engine.release_labels(project, p.environment, p.version, rel.release,
                                   rel.git_commit, rel.user, p.new_colour or "")  # fmt: skip
    doc: dict[str, Any] = {"services": {}}
    if version_key is not None:
        doc["version"] = version_key
    for service in services:
        spec: dict[str, Any] = {"labels": dict(labels)}
        if service in p.images:
            spec["image"] = p.images[service]
        doc["services"][service] = spec
    return _write_temp_compose(f"compose-{p.environment}-{rel.release}.yml", doc)


def _write_temp_compose(name: str, doc: dict[str, Any]) -> Path:
    """A generated compose document in a temporary folder of its own, outside the project:
    compose resolves paths from the first file's folder, and nothing of a deploy is left in
    (or shares a folder with the staged files of) the checkout. Removed with ``_discard``."""
    import tempfile

    import yaml

    path = Path(tempfile.mkdtemp(prefix="mlopsctl-deploy-")) / name
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _discard(path: Path) -> None:
    import shutil

    shutil.rmtree(path.parent, ignore_errors=True)


def _blue_green(
    config: Config, root: Path, p: Plan, outcome: Outcome, on_progress: Progress | None,
    store: history.Store | None, lock: engine.EngineLock | None = None,
) -> None:  # fmt: skip
    assert p.compose_file is not None
    c = compose.client()
    base = compose.project_name(config.name, p.environment)
    live = reconcile(config, p, store)
    file = root / p.compose_file
    new_project = f"{base}-{p.new_colour}"
    outcome.release.colour = p.new_colour
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment,
           "MLOPS_COLOR": p.new_colour or ""}  # fmt: skip
    version_key, services = _outline(file)
    project = compose.project_name(config.name)
    override = _override(p, project, outcome.release, services, version_key)
    try:
        health = compose.up_and_wait(new_project, file, root, p.health_timeout, env,
                                     on_progress=on_progress, more=(override,))  # fmt: skip
        if health.ok and p.health_url:
            url = p.health_url.format(colour=p.new_colour, version=p.version)
            problem = _http_ok(url, p.health_timeout)
            if problem:
                health.ok, health.reason = False, problem
        outcome.health = health
        serving = f"{live.version} ({live.colour})" if live else "nothing"
        if not health.ok:
            compose.remove_project(new_project)  # never took traffic: no graceful stop
            outcome.release.message = (
                f"{health.reason}; the new colour was removed, {serving} still serves"
            )
            return
        if lock is not None:
            lock.check()
        network = engine.ensure_network(c, project, p.environment)
        new = engine.colour_containers(c, new_project)
        new_ids = {x.id for x in new}
        old_containers = [
            x for x in (c.containers.get(name) for name in (live.containers if live else []))
            if x.id not in new_ids  # never detach what is switched to
        ]  # fmt: skip
        engine.attach(network, new)
        engine.detach(network, old_containers)
        try:  # the hook, or anything after the switch, failing puts traffic back
            attached = _attached(network)
            if not new_ids <= attached:  # once more: a killed deploy's request may have won
                engine.attach(network, new)
                attached = _attached(network)
            problem = None
            if not new_ids or not new_ids <= attached:
                problem = f"the {p.new_colour} colour is not on {network.name} after the switch"
            problem = problem or _switch_hook(root, p, env, outcome)
            if problem is None:
                images = {s.service: s.image for s in health.services if s.image}
                outcome.release.image_ids = sorted(set(images.values()))
                engine.keep_images(c, project, p.environment, p.version,
                                   outcome.release.release, images, p.retain)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - reported in the release, as the hook's
            problem = f"{type(exc).__name__} after the switch: {exc}"
        if problem:
            engine.attach(network, old_containers)
            engine.detach(network, new)
            compose.remove_project(new_project)
            outcome.release.message = f"{problem}; traffic went back to {serving}"
            return
        outcome.release.outcome = "success"
        if live and live.colour in COLOURS:
            if p.drain > 0:
                time.sleep(p.drain)
            compose.remove_project(f"{base}-{live.colour}")
    finally:
        _discard(override)


def _attached(network: Any) -> set[str]:
    network.reload()
    return set((network.attrs.get("Containers") or {}).keys())


def _outline(file: Path) -> tuple[Any, list[str]]:
    """The compose file's ``version`` key and service names (read without running compose:
    names are not interpolated)."""
    from mlopsctl.core.yamlcache import load

    data = load(file)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise BadInput(f"{file.name} has no services mapping; fix the compose file.")
    return data.get("version"), sorted(str(k) for k in data["services"])


def _swarm(
    config: Config, root: Path, p: Plan, outcome: Outcome, on_progress: Progress | None,
    lock: engine.EngineLock,
) -> None:  # fmt: skip

    from mlopsctl.core.yamlcache import load

    assert p.compose_file is not None
    c = compose.client()
    project = compose.project_name(config.name)
    stack = swarm.stack_name(project, p.environment)
    rel = outcome.release
    rel.colour = None
    labels = engine.release_labels(project, p.environment, p.version, rel.release,
                                   rel.git_commit, rel.user)  # fmt: skip
    source = load(root / p.compose_file)
    doc = swarm.stack_override(source if isinstance(source, dict) else {}, labels, p.images,
                               p.compose_file)  # fmt: skip
    path = _write_temp_compose(f"stack-{p.environment}-{rel.release}.yml", doc)
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    serving = p.live_version or "nothing"
    try:
        lock.check()
        started = time.time()
        done = proc.run(["docker", "stack", "deploy", "--resolve-image", "never", "--detach=true",
                         "-c", p.compose_file, "-c", str(path), stack],
                        cwd=root, env=env, check=False)  # fmt: skip
        if done.returncode != 0:
            lines = ((done.stderr or "") + (done.stdout or "")).strip().splitlines()
            rel.message = f"docker stack deploy failed: {lines[-1] if lines else done.returncode}"
            return
        result = swarm.wait(c, stack, started, p.health_timeout + 60, engine.VERSION,
                            _swarm_progress(on_progress))  # fmt: skip
        outcome.converged = result
        if result.rolled_back:
            rel.outcome = "rolled back"
            rel.message = f"{result.reason}; {serving} still serves"
            return
        if not result.ok:
            rel.message = result.reason
            return
        images = {s.name.removeprefix(f"{stack}_"): c.images.get(s.image).id
                  for s in result.services}  # fmt: skip
        rel.image_ids = sorted(set(images.values()))
        engine.keep_images(c, project, p.environment, p.version, rel.release, images, p.retain)
        rel.outcome = "success"
    finally:
        _discard(path)


def _swarm_progress(
    on_progress: Progress | None,
) -> Callable[[list[swarm.ServiceOutcome]], None] | None:
    if on_progress is None:
        return None

    def show(services: list[swarm.ServiceOutcome]) -> None:
        on_progress([
            compose.ServiceState(s.name, s.name, f"{s.running}/{s.desired} running", s.state)
            for s in services
        ])  # fmt: skip

    return show


def _switch_hook(root: Path, p: Plan, env: dict[str, str], outcome: Outcome) -> str | None:
    """The project's optional ``switch_traffic.sh``; a failure is returned, not raised."""
    switch = root / "scripts" / "deploy" / "switch_traffic.sh"
    if not switch.is_file():
        return None
    done = proc.run(["bash", str(switch.relative_to(root)), p.new_colour or "", p.version],
                    cwd=root, env=env, check=False)  # fmt: skip
    outcome.output += (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        return f"switch_traffic.sh exited with {done.returncode}"
    return None


def settle(config: Config, environment: str, store: history.Store, running: bool) -> None:
    """Settle the history's rows that interrupted deploys left ``started``, against the
    release the engine serves (compose: the colour on the environment's network; swarm: the
    stack's services, once no update of theirs is still moving)."""
    c = compose.client()
    project = compose.project_name(config.name)
    settings = dict(config.section("environments").get(environment) or {})
    if settings.get("engine") != "swarm":
        live = engine.live(c, project, environment)
        store.reconcile(environment, live.release if live else None, running)
        return
    services = swarm.services(c, swarm.stack_name(project, environment))
    moving = ("updating", "rollback_started", "paused", "rollback_paused")
    if any((s.attrs.get("UpdateStatus") or {}).get("State") in moving for s in services):
        return  # the engine is still at it: settle later
    releases = {(s.attrs.get("Spec", {}).get("Labels") or {}).get(engine.RELEASE) for s in services}
    store.reconcile(environment, releases.pop() if len(releases) == 1 else None, running)


def reconcile(config: Config, p: Plan, store: history.Store | None) -> engine.Live | None:
    """Under the lock, before a deploy: settle what an interrupted deploy left.

    Two colours attached (killed between attach and detach): the newer one passed its health
    gate, so it keeps the traffic and the other leaves and stops. Containers of the idle
    colour that serve nothing are removed. Rows left ``started`` are settled.
    """
    c = compose.client()
    base = compose.project_name(config.name, p.environment)
    project = compose.project_name(config.name)
    _wait_settled(c, base)
    live = engine.live(c, project, p.environment)
    if live is not None and live.colour == "mixed":
        network = engine.ensure_network(c, project, p.environment)
        members = [c.containers.get(n) for n in live.containers]
        newest = max(members, key=lambda m: m.labels.get(engine.DEPLOYED_AT, ""))
        keep = newest.labels.get(engine.COLOUR)
        engine.detach(network, [m for m in members if m.labels.get(engine.COLOUR) != keep])
        for colour in COLOURS:
            if colour != keep:
                compose.remove_project(f"{base}-{colour}")
        live = engine.live(c, project, p.environment)
    p.live_colour = live.colour if live else None
    p.live_version = live.version if live else None
    p.new_colour = COLOURS[1] if p.live_colour == COLOURS[0] else COLOURS[0]
    if store is not None:
        settle(config, p.environment, store, running=False)
    return live


SETTLE_SECONDS = 20.0
TRANSIENT = ("created", "restarting", "removing")


def _wait_settled(client: Any, base: str) -> None:
    """A killed deploy's requests go on in the engine after it died (a container being
    started, stopped or removed): wait, a bounded time, until no container of either colour is
    between two states, so that what is live is read from settled state."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while time.monotonic() < deadline:
        busy = [
            x for colour in COLOURS
            for x in engine.colour_containers(client, f"{base}-{colour}")
            if x.status in TRANSIENT
        ]  # fmt: skip
        if not busy:
            return
        time.sleep(0.2)


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
