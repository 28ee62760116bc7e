"""Blue-green on Docker Compose, with the engine as the truth (:mod:`.engine`).

Under the engine-held lock:

1. the idle colour starts as its own compose project ``<project>-<env>-<colour>`` beside the
   live one (``MLOPS_VERSION`` set, every container labelled with the release) and must become
   healthy (and answer ``health_url``, if set); otherwise it is removed and exit 1;
2. it takes the service names on the environment's network, and the old colour leaves them:
   new connections reach only the new version, while the old colour stays on the network at
   its address to finish the requests it has;
3. the project's ``scripts/deploy/switch_traffic.sh <colour> <version>`` runs as a hook;
4. the bake: the new colour is watched ``bake`` seconds; a container that turns unhealthy,
   stops or restarts switches the names back (exit 1). Meanwhile the old colour drains;
5. a release that passed its bake is kept (its image IDs, for rollback), and the old colour
   leaves the network and stops.

A deploy killed at any point is settled by the next one (:func:`reconcile`).
"""

from __future__ import annotations

import os
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.core import proc
from mlopsctl.core.config import Config
from mlopsctl.core.deploy import compose, engine, history
from mlopsctl.errors import BadInput

if TYPE_CHECKING:
    from mlopsctl.core.deploy.rollout import Attempt, Plan

COLOURS = ("blue", "green")
SETTLE_SECONDS = 20.0
TRANSIENT = ("created", "restarting", "removing")
NO_CHECK_BAKE = 5.0  # the bake of services without a health check: seconds they must run


def deploy(attempt: Attempt) -> None:
    p, rel = attempt.plan, attempt.release
    live = reconcile(attempt)
    started = start_colour(attempt)
    if started is None:
        return
    new_project, health = started
    serving = f"{live.version} ({live.colour})" if live else "nothing"
    c = compose.client()
    attempt.check_lock()
    network = engine.ensure_network(c, attempt.project, p.environment)
    new = engine.colour_containers(c, new_project)
    old = _others(c, live, new)
    problem = switch(network, new, old)
    problem = problem or _switch_hook(attempt, new_project)
    if problem:
        switch_back(attempt, network, old, new, new_project)
        rel.message = f"{problem}; traffic went back to {serving}"
        return
    finish(attempt, network, new_project, new, old, health, serving, live)


def start_colour(
    attempt: Attempt, extra_labels: dict[str, str] | None = None, scale: int = 1
) -> tuple[str, compose.Health] | None:
    """Start the plan's new colour (``scale`` containers per service) and wait until it is
    healthy: (its compose project, its health), or None when it did not become healthy
    (removed; the release says why)."""
    p, rel = attempt.plan, attempt.release
    assert p.compose_file is not None
    base = compose.project_name(attempt.config.name, p.environment)
    new_project = f"{base}-{p.new_colour}"
    rel.colour = p.new_colour
    file = attempt.root / p.compose_file
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment,
           "MLOPS_COLOR": p.new_colour or ""}  # fmt: skip
    version_key, services = outline(file)
    override = _override(attempt, services, version_key, extra_labels or {})
    from mlopsctl.core.deploy.rollout import discard

    serving = f"{p.live_version} ({p.live_colour})" if p.live_version else "nothing"
    try:
        extra = [a for s in services for a in ("--scale", f"{s}={scale}")] if scale > 1 else []
        health = compose.up_and_wait(new_project, file, attempt.root, p.health_timeout, env,
                                     extra=extra, on_progress=attempt.on_progress,
                                     more=(override,))  # fmt: skip
    finally:
        discard(override)
    if health.ok and p.health_url:
        url = p.health_url.format(colour=p.new_colour, version=p.version)
        problem = _http_ok(url, p.health_timeout)
        if problem:
            health.ok, health.reason = False, problem
    attempt.outcome.health = health
    if not health.ok:
        compose.remove_project(new_project)  # never took traffic: no graceful stop
        rel.message = f"{health.reason}; the new colour was removed, {serving} still serves"
        return None
    return new_project, health


def switch(network: Any, new: list[Any], old: list[Any]) -> str | None:
    """The new containers take the service names, the old ones leave them (and stay on the
    network to finish their open requests). A problem when the new ones do not hold the
    names afterwards."""
    engine.name(network, new)
    engine.unname(network, old)
    if not all(engine.named(x, network) for x in new):  # a killed deploy's request may have won
        engine.name(network, new)
    if not new or not all(engine.named(x, network) for x in new):
        return f"the new containers do not hold the service names on {network.name}"
    return None


def switch_back(
    attempt: Attempt, network: Any, old: list[Any], new: list[Any], new_project: str
) -> None:
    """The old containers take the names again, the new ones drain and are removed."""
    engine.name(network, old)
    engine.unname(network, new)
    _pause(attempt.plan.drain)
    engine.detach(network, new)
    compose.remove_project(new_project)


def finish(
    attempt: Attempt, network: Any, new_project: str, new: list[Any], old: list[Any],
    health: compose.Health, serving: str, live: engine.Live | None,
) -> None:  # fmt: skip
    """The bake, while the old colour drains; then keep the release and stop the old colour
    (or, when the bake fails, switch back)."""
    p, rel = attempt.plan, attempt.release
    bake = bake_seconds(p, new_project)
    started = time.monotonic()
    attempt.tell(f"baking {p.version} for {bake:g}s")
    problem = compose.watch(new_project, bake)
    if problem:
        switch_back(attempt, network, old, new, new_project)
        rel.message = f"{problem} during the bake ({bake:g}s); traffic went back to {serving}"
        return
    images = {s.service: s.image for s in health.services if s.image}
    rel.image_ids = sorted(set(images.values()))
    engine.keep_images(compose.client(), attempt.project, p.environment, p.version,
                       rel.release, images, p.retain)  # fmt: skip
    rel.outcome = "success"
    _pause(p.drain - (time.monotonic() - started))
    engine.detach(network, old)
    if live and live.colour in COLOURS and live.colour != p.new_colour:
        base = compose.project_name(attempt.config.name, p.environment)
        compose.remove_project(f"{base}-{live.colour}")


def bake_seconds(p: Plan, project: str) -> float:
    """``environments.<env>.bake``, else a few health intervals of the slowest service."""
    from mlopsctl.core.deploy.rollout import BAKE_INTERVALS, BAKE_MAX

    if p.bake is not None:
        return p.bake
    interval = compose.health_interval(project)
    return NO_CHECK_BAKE if interval is None else min(BAKE_MAX, BAKE_INTERVALS * interval)


def _pause(seconds: float) -> None:
    if seconds > 0:
        time.sleep(seconds)


def _others(client: Any, live: engine.Live | None, new: list[Any]) -> list[Any]:
    ids = {x.id for x in new}
    return [
        x for x in (client.containers.get(name) for name in (live.containers if live else []))
        if x.id not in ids  # never take the names from what is switched to
    ]  # fmt: skip


def _override(
    attempt: Attempt, services: list[str], version_key: Any, extra: dict[str, str]
) -> Path:
    """A compose file that labels every service with the release (and, for a rollback, pins
    each service to its kept image ID)."""
    from mlopsctl.core.deploy.rollout import write_temp_compose

    p, rel = attempt.plan, attempt.release
    labels = engine.release_labels(attempt.project, p.environment, p.version, rel.release,
                                   rel.git_commit, rel.user, p.new_colour or "")  # fmt: skip
    labels.update(extra)
    doc: dict[str, Any] = {"services": {}}
    if version_key is not None:
        doc["version"] = version_key
    for service in services:
        spec: dict[str, Any] = {"labels": dict(labels)}
        if service in p.images:
            spec["image"] = p.images[service]
        doc["services"][service] = spec
    return write_temp_compose(f"compose-{p.environment}-{rel.release}.yml", doc)


def outline(file: Path) -> tuple[Any, list[str]]:
    """The compose file's ``version`` key and service names (read without running compose:
    names are not interpolated)."""
    from mlopsctl.core.yamlcache import load

    data = load(file)
    if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
        raise BadInput(f"{file.name} has no services mapping; fix the compose file.")
    return data.get("version"), sorted(str(k) for k in data["services"])


def _switch_hook(attempt: Attempt, new_project: str) -> str | None:
    """The project's optional ``switch_traffic.sh``; a failure is returned, not raised."""
    p, root = attempt.plan, attempt.root
    switch_file = root / "scripts" / "deploy" / "switch_traffic.sh"
    if not switch_file.is_file():
        return None
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment,
           "MLOPS_COLOR": p.new_colour or ""}  # fmt: skip
    done = proc.run(["bash", str(switch_file.relative_to(root)), p.new_colour or "", p.version],
                    cwd=root, env=env, check=False)  # fmt: skip
    attempt.outcome.output += (done.stdout or "") + (done.stderr or "")
    if done.returncode != 0:
        return f"switch_traffic.sh exited with {done.returncode}"
    return None


def settle(config: Config, environment: str, store: history.Store, running: bool) -> None:
    """Settle the rows interrupted deploys left ``started``, against the release that holds
    the service names."""
    live = engine.live(compose.client(), compose.project_name(config.name), environment)
    store.reconcile(environment, live.release if live else None, running)


def reconcile(attempt: Attempt) -> engine.Live | None:
    """Under the lock, before a deploy: settle what an interrupted deploy left.

    Two colours under the names (killed between the switch's two steps): a canary that was
    never promoted leaves them, else the newer healthy colour keeps them; the other drains
    and stops. Containers of the idle colour are removed. Rows left ``started`` are settled.
    """
    p = attempt.plan
    c = compose.client()
    base = compose.project_name(attempt.config.name, p.environment)
    _wait_settled(c, base)
    live = engine.live(c, attempt.project, p.environment)
    if live is not None and live.colour == "mixed":
        network = engine.ensure_network(c, attempt.project, p.environment)
        holders = [c.containers.get(n) for n in live.containers]
        keep = _keeper(holders)
        engine.unname(network, [m for m in holders if m.labels.get(engine.COLOUR) != keep])
        _pause(p.drain)
        live = engine.live(c, attempt.project, p.environment)
    p.live_colour = live.colour if live else None
    p.live_version = live.version if live else None
    p.new_colour = COLOURS[1] if p.live_colour == COLOURS[0] else COLOURS[0]
    idle = f"{base}-{p.new_colour}"
    if engine.colour_containers(c, idle):
        network = engine.find_network(c, attempt.project, p.environment)
        if network is not None:
            engine.detach(network, engine.colour_containers(c, idle))
        compose.remove_project(idle)
    settle(attempt.config, p.environment, attempt.store, running=False)
    return live


def _keeper(holders: list[Any]) -> str | None:
    """The colour that keeps the names when a killed deploy left two under them. The newer
    colour came from that deploy: a canary whose analysis never ended (promotion is the
    older colour leaving the names, which did not happen) gives them back; a blue-green
    colour, which passed its health gate before it took them, keeps them while healthy."""

    def healthy(m: Any) -> bool:
        return ((m.attrs.get("State") or {}).get("Health") or {}).get("Status") in (
            None, "healthy",
        )  # fmt: skip

    newest = max(holders, key=lambda m: m.labels.get(engine.DEPLOYED_AT, ""))
    colour = newest.labels.get(engine.COLOUR)
    mine = [m for m in holders if m.labels.get(engine.COLOUR) == colour]
    others = [m for m in holders if m.labels.get(engine.COLOUR) != colour]
    if others and (newest.labels.get(engine.CANARY) == "true" or not all(map(healthy, mine))):
        other = others[0].labels.get(engine.COLOUR)
        return str(other) if other else None
    return str(colour) if colour else None


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
