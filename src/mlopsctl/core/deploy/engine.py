"""The Docker engine as the truth of a deploy: what is live, what to roll back to.

Nothing here lives in a checkout, so every clone and CI runner that talks to the same engine
sees the same state:

- **Traffic.** Each environment has a network ``<project>-<env>``. The live release's
  containers are on it *under their compose service names*; a router (or any client) on that
  network reaches ``http://<service>:<port>`` through Docker's DNS. A container can be on the
  network without its name (:func:`unname`): it answers the connections it already has but
  gets no new ones. That is how a colour drains: it leaves the names first, finishes its open
  requests, and only then leaves the network and stops.
- **Labels.** Containers that mlopsctl starts carry ``io.mlopsctl.*`` labels: project,
  environment, colour, version, commit, deployer, release id and time (and ``canary`` for a
  canary). The live release is read from the containers that hold the service names.
- **Images.** The image IDs of the last good releases (a retention count, default 5, most
  recent deploy first) are listed in an index container's label and tagged
  ``mlopsctl-keep/<project>-<env>:<image id>``, so a rollback starts the recorded image ID
  even after the version's own tag was moved or removed.

The deploy lock is :mod:`mlopsctl.core.deploy.lock`.
"""

from __future__ import annotations

import contextlib
import json
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

PREFIX = "io.mlopsctl"
PROJECT, ENVIRONMENT, COLOUR = f"{PREFIX}.project", f"{PREFIX}.environment", f"{PREFIX}.colour"
VERSION, RELEASE, COMMIT = f"{PREFIX}.version", f"{PREFIX}.release", f"{PREFIX}.commit"
DEPLOYER, DEPLOYED_AT = f"{PREFIX}.deployer", f"{PREFIX}.deployed-at"
CANARY = f"{PREFIX}.canary"  # on a canary's containers and services
PINNED = f"{PREFIX}.pinned-subnet"  # on an environment network whose IPs can be kept
SERVICE_LABEL = "com.docker.compose.service"
LOCK_IMAGE = "mlopsctl/lock:1"
KEEP_REPOSITORY = "mlopsctl-keep"
INDEX = f"{PREFIX}.releases"  # the label of the index of kept releases


def _containers(client: Any, filters: dict[str, Any]) -> list[Any]:
    from mlopsctl.core.deploy.compose import containers

    return containers(client, filters)


def network_name(project: str, environment: str) -> str:
    return f"{project}-{environment}"


def find_network(client: Any, project: str, environment: str) -> Any | None:
    name = network_name(project, environment)
    found = [n for n in client.networks.list(names=[name]) if n.name == name]
    return found[0] if found else None


def ensure_network(client: Any, project: str, environment: str) -> Any:
    """The environment's network, created (attachable, labelled) when missing.

    It is created on a subnet given explicitly (the one the engine would pick itself), since
    only then does the engine let a container rejoin it under the address it had: draining
    (:func:`unname`) needs that. A network an earlier mlopsctl made without it is made again
    the same way once nothing is on it.
    """
    name = network_name(project, environment)
    network = find_network(client, project, environment)
    if network is not None:
        network.reload()
        labels = network.attrs.get("Labels") or {}
        if labels.get(PINNED) or network.attrs.get("Containers"):
            return network
        with contextlib.suppress(Exception):
            network.remove()  # an older, unpinned one with nothing on it
    labels = {PROJECT: project, ENVIRONMENT: environment}
    try:
        return _create_pinned(client, name, labels)
    except Exception:  # another deploy created it meanwhile
        network = find_network(client, project, environment)
        if network is not None:
            return network
        raise


def _create_pinned(client: Any, name: str, labels: dict[str, str]) -> Any:
    """Create ``name`` on a subnet the engine picks, given back to it explicitly."""
    import docker.types

    for _ in range(3):
        probe = client.networks.create(f"{name}-probe-{uuid.uuid4().hex[:6]}", driver="bridge")
        try:
            probe.reload()
            config = (probe.attrs.get("IPAM") or {}).get("Config") or [{}]
            subnet, gateway = config[0].get("Subnet"), config[0].get("Gateway")
        finally:
            probe.remove()
        if not subnet:
            break
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=subnet, gateway=gateway)]
        )
        try:
            return client.networks.create(
                name, driver="bridge", attachable=True, ipam=ipam,
                labels={**labels, PINNED: subnet}, check_duplicate=True,
            )  # fmt: skip
        except Exception:
            if [n for n in client.networks.list(names=[name]) if n.name == name]:
                raise
    return client.networks.create(
        name, driver="bridge", attachable=True, labels=labels, check_duplicate=True
    )


def service_of(container: Any) -> str:
    return str((container.labels or {}).get(SERVICE_LABEL, container.name))


def endpoint(container: Any, network: Any) -> dict[str, Any] | None:
    """The container's endpoint on ``network`` (its address and aliases), None when off it."""
    nets = (container.attrs.get("NetworkSettings") or {}).get("Networks") or {}
    found = nets.get(network.name)
    return found if isinstance(found, dict) else None


def named(container: Any, network: Any) -> bool:
    """Whether ``container`` answers under its service name on ``network``."""
    ep = endpoint(container, network)
    return ep is not None and service_of(container) in (ep.get("Aliases") or [])


@dataclass
class Live:
    """The release that serves an environment now, as the engine shows it."""

    colour: str
    version: str
    release: str
    containers: list[str] = field(default_factory=list)


def members(client: Any, project: str, environment: str) -> tuple[Any, list[Any], list[Any]]:
    """The environment's network and mlopsctl's containers on it: (network, with their
    service names, without them). The network is None when there is none yet."""
    net = find_network(client, project, environment)
    if net is None:
        return None, [], []
    net.reload()
    attached = set((net.attrs.get("Containers") or {}).keys())
    if not attached:
        return net, [], []
    ours = [
        c for c in _containers(client, {"label": f"{PROJECT}={project}"})
        if c.id in attached and c.labels.get(ENVIRONMENT) == environment
    ]  # fmt: skip
    with_names: list[Any] = []
    without: list[Any] = []
    for c in ours:  # read whole by the listing
        (with_names if named(c, net) else without).append(c)
    return net, with_names, without


def live(client: Any, project: str, environment: str) -> Live | None:
    """The colour that holds the service names on the environment's network (None: nothing
    serves; colour ``mixed`` when a killed deploy left two)."""
    _, holders, _ = members(client, project, environment)
    if not holders:
        return None
    colours = {c.labels.get(COLOUR) for c in holders}
    first = max(holders, key=lambda c: c.labels.get(DEPLOYED_AT, ""))
    return Live(
        colour=str(first.labels.get(COLOUR)) if len(colours) == 1 else "mixed",
        version=str(first.labels.get(VERSION, "?")),
        release=str(first.labels.get(RELEASE, "")),
        containers=[c.name for c in holders],
    )


def colour_containers(client: Any, compose_project: str) -> list[Any]:
    return _containers(client, {"label": f"com.docker.compose.project={compose_project}"})


def _rejoin(network: Any, container: Any, aliases: list[str] | None) -> None:
    """Leave ``network`` and join it again at once under the same address (so that the
    connections the container has go on) with other names."""
    ep = endpoint(container, network) or {}
    address = ep.get("IPAddress") or None
    pinned = bool((network.attrs.get("Labels") or {}).get(PINNED))
    network.disconnect(container)
    if aliases is None and not pinned:
        container.reload()
        return  # no address to keep: leaving is all that can be done
    network.connect(container, aliases=aliases or None,
                    ipv4_address=address if pinned else None)  # fmt: skip
    container.reload()


def name(network: Any, containers: list[Any]) -> None:
    """Put ``containers`` on ``network`` under their service names (new connections reach
    them through Docker's DNS)."""
    network.reload()
    for c in containers:
        c.reload()
        if named(c, network):
            continue
        if endpoint(c, network) is not None:
            _rejoin(network, c, [service_of(c)])
        else:
            network.connect(c, aliases=[service_of(c)])
            c.reload()


def unname(network: Any, containers: list[Any]) -> None:
    """Take the service names from ``containers``: they get no new connections but stay on
    the network (same address) to finish the ones they have. On a network that cannot keep
    addresses (made by an earlier mlopsctl) they leave it."""
    network.reload()
    for c in containers:
        c.reload()
        if named(c, network):
            _rejoin(network, c, None)


def detach(network: Any, containers: list[Any]) -> None:
    network.reload()
    for c in containers:
        with contextlib.suppress(Exception):
            c.reload()
        if endpoint(c, network) is not None:
            with contextlib.suppress(Exception):
                network.disconnect(c)


def lock_image(client: Any) -> None:
    """The empty image lock and index containers are made from (loaded once, nothing to
    pull). It is always the same image (a fixed config and one empty layer, so the same ID):
    two deploys that load it at once leave one image, never a dangling copy."""
    try:
        client.images.get(LOCK_IMAGE)
        return
    except Exception:  # noqa: BLE001 - not there yet
        pass
    client.images.load(lock_image_tar())


def lock_image_tar() -> bytes:
    """``docker save`` of the lock image: deterministic bytes, so a deterministic image ID."""
    import hashlib

    def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = len(data), 0, 0o644
        tar.addfile(info, BytesIO(data))

    layer = BytesIO()
    tarfile.open(fileobj=layer, mode="w", format=tarfile.USTAR_FORMAT).close()
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
        "config": {"Labels": {PREFIX: "lock"}},
        "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "mlopsctl"}],
    }, sort_keys=True).encode()  # fmt: skip
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps(
        [{"Config": config_name, "RepoTags": [LOCK_IMAGE], "Layers": ["layer/layer.tar"]}]
    ).encode()
    out = BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        add(tar, config_name, config)
        add(tar, "layer/layer.tar", layer_bytes)
        add(tar, "manifest.json", manifest)
    return out.getvalue()


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
    lock_image(client)
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
    found = _containers(client, {"label": [
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
