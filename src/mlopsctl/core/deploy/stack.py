"""Docker Swarm: the environment's compose file as a stack, updated by the engine.

Swarm runs rolling updates gated on health checks and rolls back by itself; mlopsctl writes
what the compose file does not say (start-first updates that roll back on failure, a monitor
window that is the bake, the release's labels), deploys the stack, and waits for the update
*this* deploy started: each service's spec version and last update are read before
``docker stack deploy``, so an earlier update's status is never taken for this one. The outcome
is read from the engine: updated (and watched through the bake), rolled back by the engine
(exit 1, with its reason), or stuck (exit 1, with how to recover). A rollback redeploys the
whole stack on the image IDs kept for that release.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mlopsctl.core import proc
from mlopsctl.core.config import Config
from mlopsctl.core.deploy import compose, engine, history, swarm

if TYPE_CHECKING:
    from mlopsctl.core.deploy.rollout import Attempt, Plan, Progress

MOVING = ("updating", "rollback_started", "paused", "rollback_paused")


def bake_seconds(p: Plan, source: dict[str, Any]) -> float:
    from mlopsctl.core.deploy.rollout import BAKE_INTERVALS, BAKE_MAX

    if p.bake is not None:
        return p.bake
    interval = swarm.health_interval(source)
    return 5.0 if interval is None else min(BAKE_MAX, BAKE_INTERVALS * interval)


def deploy(attempt: Attempt, clean: bool = True) -> None:
    """The stack update (``clean``: first settle and remove what killed deploys left; a
    canary's promotion runs it with its canary still serving)."""
    from mlopsctl.core.deploy import canary
    from mlopsctl.core.yamlcache import load

    p, rel, root = attempt.plan, attempt.release, attempt.root
    assert p.compose_file is not None
    c = compose.client()
    stack = swarm.stack_name(attempt.project, p.environment)
    if clean:
        wait_still(c, stack, p.health_timeout)
        settle(attempt.config, p.environment, attempt.store, running=False)
        canary.remove_swarm_canaries(c, stack)  # what a killed canary deploy left
    rel.colour = None
    labels = engine.release_labels(attempt.project, p.environment, p.version, rel.release,
                                   rel.git_commit, rel.user)  # fmt: skip
    raw = load(root / p.compose_file)
    source = raw if isinstance(raw, dict) else {}
    bake = bake_seconds(p, source)
    doc = swarm.stack_override(source, labels, p.images, p.compose_file, monitor=bake,
                               monitor_wins=p.bake is not None)  # fmt: skip
    from mlopsctl.core.deploy.rollout import discard, write_temp_compose

    path = write_temp_compose(f"stack-{p.environment}-{rel.release}.yml", doc)
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    serving = p.live_version or "nothing"
    try:
        attempt.check_lock()
        before = swarm.snapshot(c, stack)
        done = proc.run(["docker", "stack", "deploy", "--resolve-image", "never", "--detach=true",
                         "-c", p.compose_file, "-c", str(path), stack],
                        cwd=root, env=env, check=False)  # fmt: skip
        if done.returncode != 0:
            lines = ((done.stderr or "") + (done.stdout or "")).strip().splitlines()
            rel.message = f"docker stack deploy failed: {lines[-1] if lines else done.returncode}"
            return
        attempt.tell(f"the engine updates {stack}, watching each task for {bake:g}s")
        result = swarm.wait(c, stack, before, p.health_timeout + bake + 60, engine.VERSION,
                            progress(attempt.on_progress))  # fmt: skip
        attempt.outcome.converged = result
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
        engine.keep_images(c, attempt.project, p.environment, p.version, rel.release, images,
                           p.retain)  # fmt: skip
        rel.outcome = "success"
    finally:
        discard(path)


def progress(
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


def wait_still(client: Any, stack: str, timeout: float) -> None:
    """Wait (a bounded time) until no update of the stack is moving, such as one a killed
    deploy left to the engine: its row is then settled by what the engine ended up serving."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = swarm.services(client, stack, canaries=False)
        if not any((s.attrs.get("UpdateStatus") or {}).get("State") in MOVING for s in found):
            return
        time.sleep(0.5)


def settle(config: Config, environment: str, store: history.Store, running: bool) -> None:
    """Settle rows left ``started`` by what the engine serves once no update is moving: the
    release on the services' specs (after an engine rollback, the spec it went back to)."""
    c = compose.client()
    stack = swarm.stack_name(compose.project_name(config.name), environment)
    found = swarm.services(c, stack, canaries=False)
    if any((s.attrs.get("UpdateStatus") or {}).get("State") in MOVING for s in found):
        return  # the engine is still at it: settle later
    releases = {(s.attrs.get("Spec", {}).get("Labels") or {}).get(engine.RELEASE) for s in found}
    store.reconcile(environment, releases.pop() if len(releases) == 1 else None, running)
