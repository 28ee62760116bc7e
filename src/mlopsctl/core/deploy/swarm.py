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
    source: dict[str, Any], labels: dict[str, str], images: dict[str, str], file: str
) -> dict[str, Any]:
    """What mlopsctl adds to the compose file, as a second file for ``docker stack deploy``
    (so paths in the first still resolve from its own folder): update and rollback policies
    where the file does not set them, the release's labels, and for a rollback the kept
    image IDs. A service without a health check is bad input."""
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
            added = {k: v for k, v in defaults.items() if k not in set_by_file}
            if added:
                deploy[key] = added
        override: dict[str, Any] = {"deploy": deploy, "labels": dict(labels)}
        if name in images:
            override["image"] = images[name]
        doc["services"][name] = override
    return doc


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


def services(client: Any, stack: str) -> list[Any]:
    found: list[Any] = client.services.list(filters={"label": f"{STACK_LABEL}={stack}"})
    return found


def _outcome(service: Any, started: float, version_label: str) -> ServiceOutcome:
    service.reload()
    attrs = service.attrs
    spec = attrs.get("Spec", {})
    replicas = (spec.get("Mode", {}).get("Replicated") or {}).get("Replicas", 1)
    tasks = service.tasks(filters={"desired-state": "running"})
    running = sum(1 for t in tasks if (t.get("Status") or {}).get("State") == "running")
    status = attrs.get("UpdateStatus") or {}
    state = str(status.get("State") or "created")
    if state != "created" and _since(status.get("StartedAt", "")) < started - 1:
        state = "completed"  # an earlier update's status: this deploy changed nothing
    image = (spec.get("TaskTemplate", {}).get("ContainerSpec") or {}).get("Image", "")
    return ServiceOutcome(
        name=spec.get("Name", service.name), state=state, message=str(status.get("Message", "")),
        running=running, desired=int(replicas), image=str(image).split("@", 1)[0],
        version=str((spec.get("Labels") or {}).get(version_label, "")),
    )  # fmt: skip


def _since(stamp: str) -> float:
    """Seconds since the epoch of an engine time stamp (RFC 3339 with nanoseconds)."""
    import calendar

    try:
        head = stamp.split(".", 1)[0].rstrip("Z")
        return float(calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S")))
    except ValueError:
        return 0.0


def wait(
    client: Any, stack: str, started: float, timeout: float, version_label: str,
    on_progress: Callable[[list[ServiceOutcome]], None] | None = None, poll: float = 0.5,
) -> Converged:  # fmt: skip
    """Wait until every service of ``stack`` has converged, and say how."""
    deadline = time.monotonic() + timeout
    while True:
        current = [_outcome(s, started, version_label) for s in services(client, stack)]
        if on_progress is not None:
            on_progress(current)
        back = [s for s in current if s.state == "rollback_completed"]
        moving = [
            s for s in current
            if s.state in ("updating", "rollback_started")
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
