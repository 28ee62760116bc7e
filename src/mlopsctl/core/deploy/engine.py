"""The Docker engine as the truth of a deploy: what is live, who deploys, what to roll back to.

Nothing here lives in a checkout, so every clone and CI runner that talks to the same engine
sees the same state:

- **Traffic.** Each environment has a network ``<project>-<env>``. The live colour's
  containers are attached to it under their compose service names; a router (or any client)
  on that network reaches ``http://<service>:<port>`` through Docker's DNS. A switch attaches
  the new colour under those names, then detaches the old one, which drains and stops.
- **Labels.** Containers that mlopsctl starts carry ``io.mlopsctl.*`` labels: project,
  environment, colour, version, commit, deployer, release id and time. The live release is
  read from the containers attached to the environment's network.
- **Images.** The image IDs of the last good releases (a retention count, default 5, most
  recent deploy first) are listed in an index container's label and tagged
  ``mlopsctl-keep/<project>-<env>:<image id>``, so a rollback starts the recorded image ID
  even after the version's own tag was moved or removed.
- **Lock.** A deploy holds a container named ``mlopsctl-lock-<project>-<env>`` created from
  an empty image: the engine refuses a second container of that name, so exactly one
  process holds it. Its labels name the holder, its host (with the boot id) and process
  (with the process's start time), and a lease. A holder on the same host that died is seen
  at once (its process is gone); one on another host after its lease, which covers the
  deploy's own deadline (the holder stops before switching traffic past its lease).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from mlopsctl.errors import Conflict

PREFIX = "io.mlopsctl"
PROJECT, ENVIRONMENT, COLOUR = f"{PREFIX}.project", f"{PREFIX}.environment", f"{PREFIX}.colour"
VERSION, RELEASE, COMMIT = f"{PREFIX}.version", f"{PREFIX}.release", f"{PREFIX}.commit"
DEPLOYER, DEPLOYED_AT = f"{PREFIX}.deployer", f"{PREFIX}.deployed-at"
SERVICE_LABEL = "com.docker.compose.service"
LOCK_IMAGE = "mlopsctl/lock:1"
KEEP_REPOSITORY = "mlopsctl-keep"
INDEX = f"{PREFIX}.releases"  # the label of the index of kept releases


def network_name(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def ensure_network(client: Any, project: str, environment: str) -> Any:
    """The environment's network, created (attachable, labelled) when missing."""
    name = network_name(project, environment)
    found = [n for n in client.networks.list(names=[name]) if n.name == name]
    if found:
        return found[0]
    labels = {PROJECT: project, ENVIRONMENT: environment}
    try:
        return client.networks.create(
            name, driver="bridge", attachable=True, labels=labels, check_duplicate=True
        )
    except Exception:  # another deploy created it meanwhile
        found = [n for n in client.networks.list(names=[name]) if n.name == name]
        if found:
            return found[0]
        raise


@dataclass
class Live:
    """The release that serves an environment now, as the engine shows it."""

    colour: str
    version: str
    release: str
    containers: list[str] = field(default_factory=list)


def live(client: Any, project: str, environment: str) -> Live | None:
    """The colour attached to the environment's network (None: nothing serves)."""
    name = network_name(project, environment)
    nets = [n for n in client.networks.list(names=[name]) if n.name == name]
    if not nets:
        return None
    nets[0].reload()
    attached = list((nets[0].attrs.get("Containers") or {}).keys())
    if not attached:
        return None
    members = [
        c
        for c in client.containers.list(all=True, filters={"label": f"{PROJECT}={project}"})
        if c.id in attached and c.labels.get(ENVIRONMENT) == environment
    ]
    if not members:
        return None
    colours = {c.labels.get(COLOUR) for c in members}
    first = max(members, key=lambda c: c.labels.get(DEPLOYED_AT, ""))
    return Live(
        colour=str(first.labels.get(COLOUR)) if len(colours) == 1 else "mixed",
        version=str(first.labels.get(VERSION, "?")),
        release=str(first.labels.get(RELEASE, "")),
        containers=[c.name for c in members],
    )


def colour_containers(client: Any, compose_project: str) -> list[Any]:
    found: list[Any] = client.containers.list(
        all=True, filters={"label": f"com.docker.compose.project={compose_project}"}
    )
    return found


def attach(network: Any, containers: list[Any]) -> None:
    """Attach ``containers`` to ``network`` under their compose service names."""
    network.reload()
    attached = set((network.attrs.get("Containers") or {}).keys())
    for c in containers:
        if c.id in attached:
            continue
        service = c.labels.get(SERVICE_LABEL, c.name)
        network.connect(c, aliases=[service])


def detach(network: Any, containers: list[Any]) -> None:
    network.reload()
    attached = set((network.attrs.get("Containers") or {}).keys())
    for c in containers:
        if c.id in attached:
            network.disconnect(c)


def keep_images(
    client: Any, project: str, environment: str, version: str, release: str,
    images: dict[str, str], retain: int,
) -> None:  # fmt: skip
    """Keep the release's image IDs for rollback, and forget releases beyond the last
    ``retain`` (most recent deploy first, whenever each image was built).

    The list of kept releases is a label of an index container made from the empty lock
    image; a new index is created before the old one is removed, so a kill in between leaves
    two and readers take the newer. Each kept image ID is tagged (by its own ID) so that
    ``docker image prune`` leaves it; tags no release needs any more are removed.
    """
    _lock_image(client)
    entries = [e for e in _index(client, project, environment)[1] if e["version"] != version]
    entries = [{"version": version, "release": release, "images": images}, *entries][:retain]
    repo = f"{KEEP_REPOSITORY}/{project}-{environment}"
    wanted = {image_id for e in entries for image_id in e["images"].values() if image_id}
    for image_id in wanted:
        client.images.get(image_id).tag(repo, tag=image_id.split(":")[-1])
    old, _ = _index(client, project, environment)
    labels = {PROJECT: project, ENVIRONMENT: environment, INDEX: json.dumps(entries),
              DEPLOYED_AT: f"{time.time_ns():020d}"}  # fmt: skip
    name = f"mlopsctl-releases-{project}-{environment}-{release}"
    client.containers.create(LOCK_IMAGE, command="index", labels=labels, name=name)
    for container in old:
        with contextlib.suppress(Exception):
            container.remove(force=True)
    for image in client.images.list(name=repo):
        if image.id not in wanted:
            for tag in image.tags:
                if tag.startswith(repo + ":"):
                    client.images.remove(tag, noprune=True)


def _index(client: Any, project: str, environment: str) -> tuple[list[Any], list[dict[str, Any]]]:
    """The index containers of an environment, and the newest one's kept releases."""
    found = client.containers.list(all=True, filters={"label": [
        f"{PROJECT}={project}", f"{ENVIRONMENT}={environment}", INDEX,
    ]})  # fmt: skip
    newest = max(found, key=lambda c: c.labels.get(DEPLOYED_AT, ""), default=None)
    try:
        entries = json.loads(newest.labels[INDEX]) if newest is not None else []
    except (KeyError, ValueError):
        entries = []
    ok = [
        e for e in entries if isinstance(e, dict) and isinstance(e.get("version"), str)
        and isinstance(e.get("images"), dict)
    ]  # fmt: skip
    return found, ok


def kept(client: Any, project: str, environment: str) -> dict[str, dict[str, str]]:
    """Versions whose images are kept, most recent first: version -> {service: image ID}."""
    present = {image.id for image in client.images.list()}
    return {
        e["version"]: dict(e["images"])
        for e in _index(client, project, environment)[1]
        if all(image_id in present for image_id in e["images"].values())
    }


# --- the lock -----------------------------------------------------------------------------


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot), "" when it is gone or
    dead: a zombie (state Z, a killed process its parent has not reaped) holds nothing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return ""
    if len(fields) < 20 or fields[0] in ("Z", "X", "x"):
        return ""
    return fields[19]


def _lock_image(client: Any) -> None:
    """The empty image lock containers are made from (imported once, nothing to pull)."""
    try:
        client.images.get(LOCK_IMAGE)
        return
    except Exception:  # noqa: BLE001 - not there yet
        pass
    buffer = BytesIO()
    tarfile.open(fileobj=buffer, mode="w").close()
    client.api.import_image_from_data(buffer.getvalue(), repository=LOCK_IMAGE.split(":")[0],
                                      tag=LOCK_IMAGE.split(":")[1])  # fmt: skip


@dataclass
class Holder:
    what: str
    user: str
    host: str
    boot: str
    pid: int
    started: str
    since: float
    lease_until: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"{self.user} on {self.host} (pid {self.pid}) since {when}: {self.what}"

    def alive(self) -> bool:
        if self.boot and self.boot == _boot_id():  # this machine: ask the process table
            return bool(self.started) and process_start(self.pid) == self.started
        return time.time() < self.lease_until


class EngineLock:
    """``with EngineLock(client, project, env, what, lease):`` one deploy per environment."""

    def __init__(self, client: Any, project: str, environment: str, what: str, lease: float):
        self.client = client
        self.name = f"mlopsctl-lock-{project}-{environment}"
        self.project, self.environment = project, environment
        self.what, self.lease = what, lease
        self.container: Any = None
        self.deadline = 0.0
        self.warnings: list[str] = []

    def _labels(self) -> dict[str, str]:
        from mlopsctl.core.deploy.lock import current_user

        now = time.time()
        self.deadline = now + self.lease
        holder = {
            "what": self.what, "user": current_user(), "host": socket.gethostname(),
            "boot": _boot_id(), "pid": os.getpid(), "started": process_start(os.getpid()),
            "since": now, "lease_until": self.deadline,
        }  # fmt: skip
        return {f"{PREFIX}.lock": json.dumps(holder), PROJECT: self.project,
                ENVIRONMENT: self.environment}  # fmt: skip

    def holder(self, container: Any) -> Holder | None:
        try:
            return Holder(**json.loads(container.labels.get(f"{PREFIX}.lock", "")))
        except (TypeError, ValueError):
            return None

    def acquire(self) -> None:
        import docker.errors

        _lock_image(self.client)
        last: Holder | None = None
        for _ in range(5):
            try:
                self.container = self.client.containers.create(
                    LOCK_IMAGE, command="lock", name=self.name, labels=self._labels()
                )
                return
            except docker.errors.NotFound:
                # created, then removed before the SDK read it back (a stale-lock takeover
                # by another deploy in the same instant), or the lock image was removed:
                # not ours, try again
                _lock_image(self.client)
                continue
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
            try:
                current = self.client.containers.get(self.name)
            except docker.errors.NotFound:
                continue  # released meanwhile: try again
            holder = self.holder(current)
            last = holder or last
            if holder is not None and holder.alive():
                raise Conflict(
                    f"A deploy to {self.environment} is already running, held by "
                    f"{holder.describe()}; wait for it to finish."
                )
            gone = holder.describe() if holder else "an unreadable lock"
            with contextlib.suppress(docker.errors.NotFound):
                current.remove(force=True)  # by id: only that stale lock, never a new one
            self.warnings.append(f"took over the lock of a deploy that is gone ({gone})")
        held = f", held by {last.describe()}" if last is not None else ""
        raise Conflict(
            f"A deploy to {self.environment} is already running{held} (the lock "
            f"{self.name} changed hands while this deploy asked for it); wait and try again."
        )

    def check(self) -> None:
        """Before changing traffic: the lock is still ours and its lease still runs."""
        import docker.errors

        try:
            current = self.client.containers.get(self.name)
        except docker.errors.NotFound:
            current = None
        if current is None or self.container is None or current.id != self.container.id:
            raise Conflict(f"The deploy lock {self.name} was taken over; nothing was switched.")
        if time.time() >= self.deadline:
            raise Conflict(
                f"The deploy ran past its lock's lease ({self.lease:g}s); not switching."
            )

    def release(self) -> None:
        import docker.errors

        if self.container is not None:
            with contextlib.suppress(docker.errors.NotFound):
                self.container.remove(force=True)
            self.container = None

    def __enter__(self) -> EngineLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def release_labels(
    project: str, environment: str, version: str, release: str, commit: str | None,
    deployer: str, colour: str | None = None,
) -> dict[str, str]:  # fmt: skip
    """The labels that name a release on everything it starts."""
    now = time.time_ns()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now // 10**9))
    labels = {
        PROJECT: project, ENVIRONMENT: environment, VERSION: version, RELEASE: release,
        COMMIT: commit or "", DEPLOYER: deployer, DEPLOYED_AT: f"{stamp}.{now % 10**9:09d}Z",
    }  # fmt: skip
    if colour is not None:
        labels[COLOUR] = colour
    return labels


def new_release_id() -> str:
    return uuid.uuid4().hex[:12]
