"""The deploy locks' logic: a dead holder (a zombie included) holds nothing; the engine lock's
races end in exit 3 naming the holder. The Docker client is a fake: the real engine is in the
system tests."""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pytest

from mlopsctl.core.deploy import history, lock
from mlopsctl.errors import Conflict


@pytest.fixture
def zombie() -> Any:
    """A child that has exited and that nobody has reaped yet."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    for _ in range(200):  # until the kernel shows it as a zombie (no timing is asserted)
        with open(f"/proc/{pid}/stat") as fh:
            if fh.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    yield pid
    os.waitpid(pid, 0)


def test_a_zombie_holds_nothing(zombie: int) -> None:
    assert os.path.exists(f"/proc/{zombie}")  # still in the process table
    assert lock.process_start(zombie) == ""
    assert not history._alive(zombie)
    holder = lock.Holder("deploy v1", "me", "host", lock.boot_id(), zombie, "123", 0.0, 9e99)
    assert not holder.alive()


def test_a_running_process_holds_its_lock() -> None:
    me = os.getpid()
    assert lock.process_start(me)
    assert history._alive(me)
    holder = lock.Holder("x", "me", "h", lock.boot_id(), me, lock.process_start(me), 0, 0)
    assert holder.alive()
    gone = lock.Holder("x", "me", "h", lock.boot_id(), me, "1", 0, 0)  # pid reused
    assert not gone.alive()


class FakeContainer:
    def __init__(self, labels: dict[str, str], cid: str) -> None:
        self.labels, self.id, self.removed = labels, cid, False

    def remove(self, force: bool = False) -> None:
        self.removed = True


class FakeContainers:
    """create() answers from a script of outcomes; get() returns the current holder."""

    def __init__(self, script: list[str], holder: dict[str, Any] | None) -> None:
        self.script, self.holder, self.created = script, holder, 0

    def create(self, image: str, command: str, name: str, labels: dict[str, str]) -> Any:
        import docker.errors

        step = self.script.pop(0) if self.script else "ok"
        if step == "404":
            raise docker.errors.NotFound("No such container")
        if step == "409":
            raise docker.errors.APIError("Conflict", response=FakeResponse(409))
        self.created += 1
        return FakeContainer(labels, f"c{self.created}")

    def get(self, name: str) -> Any:
        import docker.errors

        if self.holder is None:
            raise docker.errors.NotFound("gone")
        return FakeContainer({lock.LABEL: json.dumps(self.holder)}, "other")


class FakeResponse:
    def __init__(self, status: int) -> None:
        self.status_code, self.reason, self.url = status, "Conflict", "x"


class FakeClient:
    def __init__(self, containers: FakeContainers) -> None:
        self.containers = containers

        class Images:
            def get(self, name: str) -> None:
                return None

        self.images = Images()


def live_holder() -> dict[str, Any]:
    me = os.getpid()
    return {"what": "deploy v2", "user": "ana", "host": "ci-7", "boot": lock.boot_id(),
            "pid": me, "started": lock.process_start(me), "since": 0.0, "lease_until": 9e99}  # fmt: skip


def test_a_container_removed_before_the_sdk_read_it_back_is_retried() -> None:
    client = FakeClient(FakeContainers(["404"], None))
    held = lock.EngineLock(client, "demo", "staging", "deploy v3", 60)
    held.acquire()
    assert held.container is not None


def test_a_live_holder_is_named() -> None:
    client = FakeClient(FakeContainers(["409"], live_holder()))
    held = lock.EngineLock(client, "demo", "staging", "deploy v3", 60)
    with pytest.raises(Conflict, match=r"held by ana on ci-7 .*deploy v2"):
        held.acquire()


def test_a_lock_that_keeps_changing_hands_still_names_the_holder() -> None:
    dead = {**live_holder(), "started": "1"}  # a pid whose process is another now
    client = FakeClient(FakeContainers(["409"] * 10, dead))
    held = lock.EngineLock(client, "demo", "staging", "deploy v3", 60)
    held.pause = lambda seconds: None  # type: ignore[assignment]
    with pytest.raises(Conflict, match=r"held by ana on ci-7"):
        held.acquire()
    assert any("took over" in w for w in held.warnings)


class SlowCreation(FakeContainers):
    """The holder's container is being created: its name is taken (409), but reading it
    answers 404 for a while, as the engine does while it creates the container's file system."""

    def __init__(self, unreadable: int, holder: dict[str, Any]) -> None:
        super().__init__(["409"] * (unreadable + 1), holder)
        self.unreadable = unreadable

    def get(self, name: str) -> Any:
        import docker.errors

        if self.unreadable:
            self.unreadable -= 1
            raise docker.errors.NotFound("No such container")
        return super().get(name)


def test_a_lock_whose_name_is_taken_before_it_can_be_read_names_its_holder() -> None:
    held = lock.EngineLock(FakeClient(SlowCreation(12, live_holder())), "demo", "staging",
                           "deploy v3", 60)  # fmt: skip
    waited: list[float] = []
    held.pause = waited.append  # type: ignore[assignment]
    with pytest.raises(Conflict, match=r"held by ana on ci-7 .*deploy v2"):
        held.acquire()
    assert held.warnings == [] and len(waited) == 12 and max(waited) <= 0.5


def test_a_deploy_run_by_the_holders_script_shares_the_engine_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    holder = live_holder()  # this process holds it
    monkeypatch.setenv(lock.NESTED_LOCK, f"staging:{os.getpid()}")
    containers = FakeContainers(["409"], holder)
    nested = lock.EngineLock(FakeClient(containers), "demo", "staging", "deploy v2", 60)
    nested.acquire()
    assert nested.nested and nested.container is not None
    shared = nested.container
    nested.release()
    assert not shared.removed  # the holder's lock stays
    monkeypatch.setenv(lock.NESTED_LOCK, "production:1")
    other = lock.EngineLock(FakeClient(FakeContainers(["409"], holder)), "demo", "staging",
                            "deploy v3", 60)  # fmt: skip
    with pytest.raises(Conflict, match="held by ana"):
        other.acquire()
