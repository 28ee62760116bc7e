"""The engine's traffic primitives on a fake Docker client: which containers hold the service
names, and how a colour takes them or leaves them (keeping its address when it can)."""

from __future__ import annotations

from typing import Any

import pytest

from mlopsctl.core.deploy import engine


class Net:
    def __init__(self, name: str, pinned: bool) -> None:
        self.name = name
        self.attrs: dict[str, Any] = {"Labels": {engine.PINNED: "10.1.0.0/24"} if pinned else {},
                                      "Containers": {}}  # fmt: skip
        self.calls: list[tuple[str, str, Any, Any]] = []

    def reload(self) -> None:
        pass

    def connect(self, c: Any, aliases: list[str] | None = None, ipv4_address: Any = None) -> None:
        self.calls.append(("connect", c.name, aliases, ipv4_address))
        ip = ipv4_address or f"10.1.0.{len(self.calls) + 10}"
        c.nets[self.name] = {"IPAddress": ip, "Aliases": [*(aliases or []), c.id[:12]]}
        self.attrs["Containers"][c.id] = {}

    def disconnect(self, c: Any) -> None:
        self.calls.append(("disconnect", c.name, None, None))
        c.nets.pop(self.name, None)
        self.attrs["Containers"].pop(c.id, None)


class Box:
    def __init__(self, name: str, colour: str, at: str = "1") -> None:
        self.name, self.id = name, name * 8
        self.labels = {engine.SERVICE_LABEL: "api", engine.COLOUR: colour, engine.PROJECT: "p",
                       engine.ENVIRONMENT: "staging", engine.VERSION: f"v-{colour}",
                       engine.RELEASE: f"r-{colour}", engine.DEPLOYED_AT: at}  # fmt: skip
        self.nets: dict[str, dict[str, Any]] = {}

    @property
    def attrs(self) -> dict[str, Any]:
        return {"NetworkSettings": {"Networks": self.nets}}

    def reload(self) -> None:
        pass


class Client:
    def __init__(self, net: Net, boxes: list[Box]) -> None:
        self.net, self.boxes = net, boxes

        class Networks:
            def list(self, names: list[str]) -> list[Net]:
                return [net] if net.name in names else []

        class Containers:
            def list(self, all: bool, filters: dict[str, str], sparse: bool = False) -> list[Box]:
                return list(boxes)

        self.networks, self.containers = Networks(), Containers()


@pytest.mark.parametrize("pinned", [True, False])
def test_a_switch_takes_the_names_and_keeps_the_old_address_when_pinned(pinned: bool) -> None:
    net = Net("p-staging", pinned)
    blue, green = Box("b", "blue", "1"), Box("g", "green", "2")
    engine.name(net, [blue])
    address = blue.nets[net.name]["IPAddress"]
    assert engine.named(blue, net)
    engine.name(net, [green])
    engine.unname(net, [blue])
    assert engine.named(green, net) and not engine.named(blue, net)
    if pinned:  # still on the network, at the same address, without the name
        assert blue.nets[net.name]["IPAddress"] == address
        assert net.calls[-1] == ("connect", "b", None, address)
    else:  # a network that cannot keep addresses: it leaves
        assert net.name not in blue.nets
    live = engine.live(Client(net, [blue, green]), "p", "staging")
    assert live is not None and (live.colour, live.version) == ("green", "v-green")


def test_two_colours_under_the_names_read_as_mixed_and_nothing_as_none() -> None:
    net = Net("p-staging", True)
    blue, green = Box("b", "blue", "1"), Box("g", "green", "2")
    assert engine.live(Client(net, [blue, green]), "p", "staging") is None
    engine.name(net, [blue, green])
    live = engine.live(Client(net, [blue, green]), "p", "staging")
    assert live is not None and live.colour == "mixed" and live.release == "r-green"
    _, holders, without = engine.members(Client(net, [blue, green]), "p", "staging")
    assert {h.name for h in holders} == {"b", "g"} and without == []


def test_naming_twice_changes_nothing_and_detach_leaves() -> None:
    net = Net("p-staging", True)
    blue = Box("b", "blue")
    engine.name(net, [blue])
    calls = len(net.calls)
    engine.name(net, [blue])
    assert len(net.calls) == calls
    engine.detach(net, [blue])
    assert net.name not in blue.nets


def test_the_lock_image_is_the_same_bytes_every_time() -> None:
    assert engine.lock_image_tar() == engine.lock_image_tar()


def test_a_container_removed_while_listing_is_left_out() -> None:
    import docker.errors

    from mlopsctl.core.deploy.compose import containers

    class Gone(Box):
        def reload(self) -> None:
            raise docker.errors.NotFound("No such container")

    net = Net("p-staging", True)
    client = Client(net, [Box("a", "blue"), Gone("b", "green")])
    assert [c.name for c in containers(client, {"label": "x"})] == ["a"]
