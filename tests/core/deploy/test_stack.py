"""The swarm strategy's settling and bake on a fake engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.deploy import compose, engine, stack
from mlopsctl.core.deploy.history import Release, Store
from mlopsctl.core.deploy.rollout import Plan


class Svc:
    def __init__(self, release: str, state: str | None) -> None:
        self.attrs = {"Spec": {"Labels": {engine.RELEASE: release}},
                      "UpdateStatus": {"State": state} if state else None}  # fmt: skip


class Client:
    def __init__(self, services: list[Svc]) -> None:
        outer = self

        class Services:
            def list(self, filters: dict[str, str]) -> list[Svc]:
                return outer.found

        self.found = services
        self.services = Services()


class Config:
    name = "demo"


def started(store: Store, release: str) -> None:
    """A row as a killed deploy leaves it: started, by a process that is gone."""
    import sqlite3

    store.start(Release("staging", "v2", "deploy", "swarm", "started", 0.0, 0.0, "me",
                        release=release))  # fmt: skip
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE releases SET pid = ?", (2**22 + 7,))  # no process has it


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store("demo", tmp_path / "h.db")


def test_a_killed_row_is_settled_by_the_release_the_engine_serves(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(store, "r2")
    monkeypatch.setattr(compose, "client", lambda: Client([Svc("r2", "completed")] * 2))
    stack.settle(Config(), "staging", store, running=False)  # type: ignore[arg-type]
    assert store.rows()[-1].outcome == "success"


def test_nothing_is_settled_while_an_update_moves(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    started(store, "r2")
    monkeypatch.setattr(compose, "client", lambda: Client([Svc("r1", "updating")]))
    stack.settle(Config(), "staging", store, running=False)  # type: ignore[arg-type]
    assert store.rows()[-1].outcome == "started"
    monkeypatch.setattr(compose, "client", lambda: Client([Svc("r1", "rollback_completed")]))
    stack.settle(Config(), "staging", store, running=False)  # type: ignore[arg-type]
    assert store.rows()[-1].outcome == "interrupted"  # the engine went back to r1


@pytest.mark.parametrize(
    ("bake", "interval", "seconds"),
    [(4.0, "1s", 4.0), (None, "2s", 6.0), (None, "1m", 60.0), (None, None, 5.0)],
)
def test_the_bake_defaults_to_three_health_intervals(
    bake: float | None, interval: str | None, seconds: float
) -> None:
    p = Plan("staging", "v2", "deploy", "swarm", bake=bake)
    spec: dict[str, Any] = {"image": "x"}
    if interval:
        spec["healthcheck"] = {"test": ["CMD", "true"], "interval": interval}
    assert stack.bake_seconds(p, {"services": {"api": spec}}) == seconds


def test_progress_shows_running_tasks() -> None:
    from mlopsctl.core.deploy.swarm import ServiceOutcome

    seen: list[Any] = []
    show = stack.progress(seen.append)
    assert show is not None and stack.progress(None) is None
    show([ServiceOutcome("s_api", "updating", running=1, desired=2)])
    assert seen[0][0].state == "1/2 running" and seen[0][0].health == "updating"
