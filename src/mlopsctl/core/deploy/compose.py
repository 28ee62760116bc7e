"""Docker Compose: which tool, which file, and waiting until services are healthy.

Works with ``docker compose`` (v2) and ``docker-compose`` (v1), detected once per process.
v1 has no ``up --wait``, so health is read from the engine with the Docker SDK.
"""

from __future__ import annotations

import functools
import re
import shutil
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core import proc
from mlopsctl.errors import BadInput, Missing

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"
_TARGET = re.compile(r"^[a-z0-9][a-z0-9-]*$")


OVERRIDE = "MLOPSCTL_COMPOSE"


@functools.cache
def command() -> tuple[str, ...]:
    """The compose command of this machine: ``$MLOPSCTL_COMPOSE`` when set (e.g.
    ``docker-compose`` or the path of a Compose v2 binary), else ``docker compose``, else
    ``docker-compose``."""
    import os
    import shlex

    chosen = os.environ.get(OVERRIDE, "").strip()
    if chosen:
        cmd = tuple(shlex.split(chosen))
        if not shutil.which(cmd[0]):
            raise Missing(f"{OVERRIDE}={chosen}: `{cmd[0]}` was not found; fix or unset it.")
        return cmd
    if shutil.which("docker"):
        probe = proc.run(["docker", "compose", "version"], check=False)
        if probe.returncode == 0:
            return ("docker", "compose")
    if shutil.which("docker-compose"):
        return ("docker-compose",)
    raise Missing(
        "Neither `docker compose` nor `docker-compose` is installed; install Docker Compose."
    )


NO_ENGINE = "No Docker engine answers; start it (systemctl start docker) or set DOCKER_HOST."
_client: Any = None


def client() -> Any:
    """The Docker SDK client of a reachable engine, made once (exit 4 with a hint otherwise)."""
    global _client
    if _client is None:
        try:
            import docker

            c = docker.from_env()
            c.ping()
        except Exception as exc:
            raise Missing(NO_ENGINE) from exc
        _client = c
    return _client


def require_engine() -> None:
    """Exit 4 unless an engine answers. A local socket is asked directly (a ping over a unix
    socket is far cheaper than importing the SDK, which then loads while compose works);
    any other DOCKER_HOST is asked through the SDK. Both follow DOCKER_HOST as the SDK does."""
    import os
    import socket

    host = os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"
    if _client is not None or not host.startswith("unix://"):
        client()
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(10)
            sock.connect(host.removeprefix("unix://"))
            sock.sendall(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
            status = sock.recv(32).split(b" ", 2)
    except OSError:
        status = []
    if len(status) < 2 or status[1] != b"200":
        raise Missing(NO_ENGINE)


def containers(c: Any, filters: dict[str, Any]) -> list[Any]:
    """The containers that match ``filters`` (all states), each read whole. A container that
    another process removes while this one lists them (a concurrent deploy's cleanup) is left
    out, never an error: the SDK's own listing reads each one after the list and fails then."""
    import docker.errors

    out = []
    for container in c.containers.list(all=True, filters=filters, sparse=True):
        try:
            container.reload()
        except docker.errors.NotFound:
            continue
        out.append(container)
    return out


def targets(root: Path) -> dict[str, Path]:
    """Known targets: ``docker/docker-compose.<target>.yml``."""
    folder = root / "docker"
    out = {}
    for path in sorted(folder.glob("docker-compose.*.yml")):
        out[path.name[len("docker-compose.") : -len(".yml")]] = path
    return out


def resolve_target(root: Path, target: str | None) -> tuple[str, Path]:
    name = target or "main"
    if name.isdigit():
        name = f"stage-{name}"
    known = targets(root)
    if not _TARGET.match(name) or name not in known:
        listing = ", ".join(known) or "none (add docker/docker-compose.<target>.yml)"
        raise BadInput(f"Unknown compose target '{target or 'main'}'; known targets: {listing}.")
    return name, known[name]


def project_name(*parts: str) -> str:
    """A compose project name: lower case letters, digits, '-' and '_'."""
    joined = "-".join(parts).lower()
    return re.sub(r"[^a-z0-9_-]+", "-", joined).strip("-_") or "mlops"


def base_args(project: str, file: Path, *more: Path) -> list[str]:
    files = [arg for f in (file, *more) for arg in ("-f", str(f))]
    return [*command(), "-p", project, *files]


def run(
    project: str, file: Path, args: list[str], cwd: Path,
    env: Mapping[str, str] | None = None, capture: bool = True, more: tuple[Path, ...] = (),
) -> Any:  # fmt: skip
    return proc.run([*base_args(project, file, *more), *args], cwd=cwd, env=env, capture=capture)


def config(
    project: str, file: Path, cwd: Path, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The resolved compose configuration (variables interpolated)."""
    import yaml

    out = run(project, file, ["config"], cwd, env)
    data = yaml.safe_load(out.stdout) or {}
    return data if isinstance(data, dict) else {}


def declares_ports(file: Path) -> bool:
    """Whether any service of the raw file lists ``ports`` (then ``config`` resolves them)."""
    from mlopsctl.core import yamlcache

    raw = yamlcache.load(file) or {}
    services = raw.get("services") if isinstance(raw, dict) else None
    return any(isinstance(s, dict) and "ports" in s for s in (services or {}).values())


def fixed_ports(resolved: dict[str, Any]) -> list[tuple[str, str]]:
    """(service, host port) pairs that publish a fixed host port."""
    found = []
    for name, service in (resolved.get("services") or {}).items():
        for port in (service or {}).get("ports") or []:
            if isinstance(port, dict):
                published = str(port.get("published") or "")
            else:
                parts = str(port).split("/")[0].split(":")
                published = parts[-2] if len(parts) >= 2 else ""
            if published and published != "0":
                found.append((name, published))
    return found


@dataclass
class ServiceState:
    service: str
    container: str
    state: str  # running, exited, ...
    health: str | None  # starting, healthy, unhealthy, or None without a healthcheck
    exit_code: int = 0
    image: str = ""

    @property
    def ready(self) -> bool:
        if self.health is not None:
            return self.health == "healthy"
        return self.state == "running" or (self.state == "exited" and self.exit_code == 0)

    @property
    def failed(self) -> bool:
        return self.health == "unhealthy" or (
            self.state in ("exited", "dead") and (self.exit_code != 0 or self.health is not None)
        )


@dataclass
class Health:
    ok: bool
    services: list[ServiceState] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reason": self.reason,
            "services": [
                {"service": s.service, "state": s.state, "health": s.health, "image": s.image}
                for s in self.services
            ],
            "logs": self.logs,
        }


def states(project: str) -> list[ServiceState]:
    out = []
    for c in containers(client(), {"label": f"{PROJECT_LABEL}={project}"}):
        st = c.attrs.get("State", {})
        health = (st.get("Health") or {}).get("Status")
        out.append(
            ServiceState(
                service=c.labels.get(SERVICE_LABEL, c.name),
                container=c.name,
                state=st.get("Status", "unknown"),
                health=health,
                exit_code=int(st.get("ExitCode") or 0),
                image=c.attrs.get("Image", ""),
            )
        )
    return sorted(out, key=lambda s: s.container)


def wait_healthy(
    project: str, timeout: float, on_progress: Callable[[list[ServiceState]], None] | None = None,
    poll: float = 0.25, log_lines: int = 20,
) -> Health:  # fmt: skip
    """Wait until every service of ``project`` is healthy (or running, without a healthcheck)."""
    deadline = time.monotonic() + timeout
    current: list[ServiceState] = []
    while True:
        current = states(project)
        if on_progress is not None:
            on_progress(current)
        bad = [s for s in current if s.failed]
        if bad:
            return _failure(project, current, bad, "unhealthy or exited", log_lines)
        if current and all(s.ready for s in current):
            return Health(True, current)
        if time.monotonic() >= deadline:
            waiting = [s for s in current if not s.ready]
            reason = f"not healthy within {timeout:g}s" if current else "no containers started"
            return _failure(project, current, waiting, reason, log_lines)
        time.sleep(poll)


def _failure(project: str, current: list[ServiceState], bad: list[ServiceState], reason: str,
             log_lines: int) -> Health:  # fmt: skip
    logs = {}
    c = client()
    for s in bad:
        try:
            logs[s.service] = (
                c.containers.get(s.container).logs(tail=log_lines).decode(errors="replace")
            )
        except Exception:  # noqa: BLE001 - logs are a courtesy; the failure stands without them
            logs[s.service] = ""
    names = ", ".join(s.service for s in bad) or project
    return Health(False, current, [s.service for s in bad], logs, f"{names}: {reason}")


def watch(project: str, seconds: float, poll: float = 0.25) -> str | None:
    """Watch ``project``'s containers for ``seconds`` (the bake): the first one that turns
    unhealthy, stops or restarts, said in a few words; None when all stayed well."""
    c = client()
    first = {x.id: int(x.attrs.get("RestartCount") or 0) for x in _containers(c, project)}
    if not first:
        return "has no containers"
    deadline = time.monotonic() + seconds
    while True:
        for x in _containers(c, project):
            state = x.attrs.get("State") or {}
            service = x.labels.get(SERVICE_LABEL, x.name)
            health = (state.get("Health") or {}).get("Status")
            if x.id not in first:
                return f"{service} was replaced (a new container appeared)"
            if health == "unhealthy":
                return f"{service} turned unhealthy"
            if state.get("Status") != "running":
                return f"{service} is {state.get('Status')} (exit code {state.get('ExitCode')})"
            if int(x.attrs.get("RestartCount") or 0) != first[x.id]:
                return f"{service} restarted"
        if len(_containers(c, project)) < len(first):
            return "a container was removed"
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll)


def _containers(c: Any, project: str) -> list[Any]:
    return containers(c, {"label": f"{PROJECT_LABEL}={project}"})


def health_interval(project: str) -> float | None:
    """The longest health-check interval of ``project``'s containers in seconds (Docker's
    default of 30 s where a check sets none); None when none has a health check."""
    intervals = []
    for x in _containers(client(), project):
        check = (x.attrs.get("Config") or {}).get("Healthcheck") or {}
        test = check.get("Test") or []
        if test and test[0] != "NONE":
            intervals.append((check.get("Interval") or 30 * 10**9) / 1e9)
    return max(intervals) if intervals else None


def remove_project(project: str) -> None:
    """What ``down`` does (without volumes), through the engine: stop and remove the
    project's containers in parallel, each with its own stop timeout, then its networks."""
    from concurrent.futures import ThreadPoolExecutor

    c = client()
    label = {"label": f"{PROJECT_LABEL}={project}"}
    found = containers(c, label)

    def stop(container: Any) -> None:
        import docker.errors

        timeout = container.attrs.get("Config", {}).get("StopTimeout") or 10
        try:
            container.stop(timeout=int(timeout))
            container.remove()
        except docker.errors.NotFound:
            pass  # removed meanwhile (a concurrent cleanup of the same project)

    with ThreadPoolExecutor(max_workers=max(1, len(found))) as pool:
        list(pool.map(stop, found))
    for network in c.networks.list(filters=label):
        network.remove()


def up_and_wait(
    project: str, file: Path, cwd: Path, timeout: float, env: Mapping[str, str] | None = None,
    extra: list[str] | None = None, on_progress: Callable[[list[ServiceState]], None] | None = None,
    more: tuple[Path, ...] = (),
) -> Health:  # fmt: skip
    """``up -d`` then wait for health; a failing ``up`` is an unhealthy result with its reason."""
    require_engine()  # no engine: exit 4 before anything starts
    cmd = [*base_args(project, file, *more), "up", "-d", *(extra or [])]
    # the SDK, needed to read health, loads while compose creates the containers
    running = proc.start(cmd, cwd=cwd, env=env)
    try:
        client()
    finally:
        done = running.finish(check=False)
    if done.returncode != 0:
        output = ((done.stderr or "") + (done.stdout or "")).strip().splitlines()
        reason = f"compose up failed: {output[-1] if output else f'exit {done.returncode}'}"
        return Health(False, states(project), reason=reason)
    return wait_healthy(project, timeout, on_progress)
