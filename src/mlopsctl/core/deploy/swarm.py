"""Deploys to Docker Swarm: the environment's compose file as a stack, updated by the engine.

Swarm already runs rolling updates gated on health checks and rolls back by itself; what its
client lacks, mlopsctl adds: ``docker stack deploy`` exits 0 after an automatic rollback
(docker/cli #6752), there is no stack-level rollback (docker/cli #595) and no history. So
mlopsctl writes the stack file with what the compose file does not say (start-first updates
that roll back on failure, a rollback policy, labels with the release), deploys it, waits for
every service to converge, and reads the outcome from the engine (``UpdateStatus`` and the
tasks): updated, rolled back by the engine (exit 1, with its reason), or stuck (exit 1, with how
to recover). A rollback redeploys the whole stack on the image IDs kept for that release.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.errors import BadInput, Missing

UPDATE_DEFAULTS = {
    "order": "start-first",
    "failure_action": "rollback",
    "monitor": "5s",
    "parallelism": 1,
    "delay": "0s",
}
ROLLBACK_DEFAULTS = {"order": "start-first", "parallelism": 1, "failure_action": "pause"}
STACK_LABEL = "com.docker.stack.namespace"


def stack_name(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def require_swarm(client: Any) -> None:
    swarm = client.info().get("Swarm") or {}
    if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
        raise Missing(
            "This environment deploys to Docker Swarm, but the engine is not a swarm manager; "
            "run `docker swarm init` (or point DOCKER_HOST at a manager)."
        )


def stack_override(
    source: dict[str, Any], labels: dict[str, str], images: dict[str, str], file: str,
    monitor: float | None = None, monitor_wins: bool = False,
) -> dict[str, Any]:  # fmt: skip
    """What mlopsctl adds to the compose file, as a second file for ``docker stack deploy``
    (so paths in the first still resolve from its own folder): update and rollback policies
    where the file does not set them, the release's labels, and for a rollback the kept
    image IDs. ``monitor`` (the bake) is how long the engine watches each updated task before
    it calls the update good; it rolls back when one fails meanwhile (``monitor_wins``: over
    what the file says). A service without a health check is bad input."""
    services = source.get("services")
    if not isinstance(services, dict) or not services:
        raise BadInput(f"{file} has no services; fix the compose file.")
    missing = [
        name for name, spec in services.items()
        if not isinstance(spec, dict) or not isinstance(spec.get("healthcheck"), dict)
        or spec["healthcheck"].get("disable")
    ]  # fmt: skip
    if missing:
        raise BadInput(
            f"{file}: service '{missing[0]}' has no healthcheck; a swarm update is gated on "
            "health, so give every service one. Nothing was changed."
        )
    doc: dict[str, Any] = {"services": {}}
    if source.get("version") is not None:
        doc["version"] = source["version"]
    for name, spec in services.items():
        given: dict[str, Any] = spec["deploy"] if isinstance(spec.get("deploy"), dict) else {}
        deploy: dict[str, Any] = {"labels": dict(labels)}
        for key, defaults in (("update_config", UPDATE_DEFAULTS),
                              ("rollback_config", ROLLBACK_DEFAULTS)):  # fmt: skip
            set_by_file: dict[str, Any] = given[key] if isinstance(given.get(key), dict) else {}
            wanted = dict(defaults)
            if key == "update_config" and monitor is not None:
                wanted["monitor"] = f"{int(monitor * 1000)}ms"
            added = {
                k: v for k, v in wanted.items()
                if k not in set_by_file or (k == "monitor" and monitor_wins and monitor is not None)
            }  # fmt: skip
            if added:
                deploy[key] = added
        override: dict[str, Any] = {"deploy": deploy, "labels": dict(labels)}
        if name in images:
            override["image"] = images[name]
        doc["services"][name] = override
    return doc


def duration(text: Any) -> float | None:
    """Seconds of a compose duration (``1m30s``, ``500ms``, ``10s``); None when unreadable."""
    import re

    if isinstance(text, (int, float)) and not isinstance(text, bool):
        return float(text)
    if not isinstance(text, str) or not re.fullmatch(r"(\d+(\.\d+)?(h|ms|m|s|us|ns))+", text):
        return None
    scale = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
    return sum(
        float(n) * scale[u] for n, _, u in re.findall(r"(\d+(\.\d+)?)(h|ms|m|s|us|ns)", text)
    )


def health_interval(source: dict[str, Any]) -> float | None:
    """The longest health-check interval of the compose file's services (30 s where a check
    sets none), None when none has one."""
    found = []
    for spec in (source.get("services") or {}).values():
        check = spec.get("healthcheck") if isinstance(spec, dict) else None
        if isinstance(check, dict) and not check.get("disable"):
            found.append(duration(check.get("interval", "30s")) or 30.0)
    return max(found) if found else None


@dataclass
class ServiceOutcome:
    name: str
    state: str  # created, completed, rollback_completed, paused, rollback_paused, updating
    message: str = ""
    running: int = 0
    desired: int = 0
    image: str = ""
    version: str = ""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Converged:
    ok: bool
    rolled_back: bool = False
    stuck: bool = False
    services: list[ServiceOutcome] = field(default_factory=list)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok, "rolled_back": self.rolled_back, "stuck": self.stuck,
            "reason": self.reason, "services": [s.as_dict() for s in self.services],
        }  # fmt: skip


def services(client: Any, stack: str, canaries: bool = True) -> list[Any]:
    """The stack's services (with ``canaries=False``, not the canary services mlopsctl adds
    beside them)."""
    found: list[Any] = client.services.list(filters={"label": f"{STACK_LABEL}={stack}"})
    if not canaries:
        found = [s for s in found if not ((s.attrs.get("Spec") or {}).get("Labels") or {})
                 .get(CANARY_LABEL)]  # fmt: skip
    return found


CANARY_LABEL = "io.mlopsctl.canary"


@dataclass(frozen=True)
class Before:
    """A service as it was before this deploy: its spec version and its last update's start."""

    version: int
    update_started: str


def snapshot(client: Any, stack: str) -> dict[str, Before]:
    """Each service's spec version and last update, read just before ``docker stack deploy``:
    the update this deploy starts is told from an earlier one by them, never by the clock."""
    out = {}
    for s in services(client, stack, canaries=False):
        s.reload()
        attrs = s.attrs
        name = (attrs.get("Spec") or {}).get("Name", s.name)
        version = int((attrs.get("Version") or {}).get("Index") or 0)
        out[name] = Before(version, str((attrs.get("UpdateStatus") or {}).get("StartedAt") or ""))
    return out


def _outcome(service: Any, before: dict[str, Before], version_label: str) -> ServiceOutcome:
    service.reload()
    attrs = service.attrs
    spec = attrs.get("Spec", {})
    name = spec.get("Name", service.name)
    replicas = (spec.get("Mode", {}).get("Replicated") or {}).get("Replicas", 1)
    tasks = service.tasks(filters={"desired-state": "running"})
    running = sum(1 for t in tasks if (t.get("Status") or {}).get("State") == "running")
    status = attrs.get("UpdateStatus") or {}
    state = str(status.get("State") or "created")
    was = before.get(name)
    version = int((attrs.get("Version") or {}).get("Index") or 0)
    if was is not None:
        if version == was.version:
            state = "completed"  # this deploy did not change it
        elif str(status.get("StartedAt") or "") == was.update_started:
            state = "pending"  # changed, but the engine has not started its update yet
    image = (spec.get("TaskTemplate", {}).get("ContainerSpec") or {}).get("Image", "")
    return ServiceOutcome(
        name=name, state=state, message=str(status.get("Message", "")),
        running=running, desired=int(replicas), image=str(image).split("@", 1)[0],
        version=str((spec.get("Labels") or {}).get(version_label, "")),
    )  # fmt: skip


def wait(
    client: Any, stack: str, before: dict[str, Before], timeout: float, version_label: str,
    on_progress: Callable[[list[ServiceOutcome]], None] | None = None, poll: float = 0.5,
) -> Converged:  # fmt: skip
    """Wait until every service of ``stack`` has converged after the update this deploy
    started (``before``: :func:`snapshot`), and say how."""
    deadline = time.monotonic() + timeout
    while True:
        current = [_outcome(s, before, version_label)
                   for s in services(client, stack, canaries=False)]  # fmt: skip
        if on_progress is not None:
            on_progress(current)
        back = [s for s in current if s.state == "rollback_completed"]
        moving = [
            s for s in current
            if s.state in ("pending", "updating", "rollback_started")
            or (s.state in ("created", "completed") and s.running < s.desired)
        ]  # fmt: skip
        paused = [s for s in current if s.state in ("paused", "rollback_paused")]
        if current and not moving and not paused:
            if back:
                why = back[0].message or "its update failed"
                reason = f"the engine rolled {back[0].name} back ({why})"
                return Converged(False, rolled_back=True, services=current, reason=reason)
            return Converged(True, services=current)
        if paused:
            s = paused[0]
            return Converged(False, stuck=True, services=current, reason=(
                f"the update of {s.name} is {s.state.replace('_', ' ')} ({s.message}); "
                f"recover with `docker service rollback {s.name}` or fix it and deploy again"
            ))  # fmt: skip
        if time.monotonic() >= deadline:
            names = ", ".join(s.name for s in moving) or "the stack"
            return Converged(False, stuck=True, services=current, reason=(
                f"{names} did not converge within {timeout:g}s; see `docker stack ps {stack}`, "
                f"then `docker service rollback` or deploy again"
            ))  # fmt: skip
        time.sleep(poll)
