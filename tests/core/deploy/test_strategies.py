"""The strategies' decisions as pure logic: which colour keeps the names after a kill, what a
swarm update's status means, the bake's defaults, the plan's steps and the exit codes."""

from __future__ import annotations

from typing import Any

import pytest

from mlopsctl.core.deploy import bluegreen, engine, history, swarm
from mlopsctl.core.deploy.rollout import Outcome, Plan


class Box:
    def __init__(self, colour: str, at: str, canary: bool = False, health: str | None = None):
        self.labels = {engine.COLOUR: colour, engine.DEPLOYED_AT: at}
        if canary:
            self.labels[engine.CANARY] = "true"
        self.attrs = {"State": {"Health": {"Status": health}} if health else {}}


@pytest.mark.parametrize(
    ("holders", "keeper"),
    [
        ([Box("blue", "1"), Box("green", "2")], "green"),  # a switch killed midway
        ([Box("blue", "1"), Box("green", "2", canary=True)], "blue"),  # an analysis killed
        ([Box("blue", "1", canary=True), Box("green", "2", canary=True)], "blue"),  # promoted
        ([Box("blue", "1"), Box("green", "2", health="unhealthy")], "blue"),
        ([Box("blue", "2"), Box("green", "1")], "blue"),
    ],
)  # fmt: skip
def test_which_colour_keeps_the_names_after_a_kill(holders: list[Box], keeper: str) -> None:
    assert bluegreen._keeper(holders) == keeper


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1m30s", 90.0), ("500ms", 0.5), ("10s", 10.0), ("1h", 3600.0), (2, 2.0),
     ("soon", None), ("", None), (True, None)],
)  # fmt: skip
def test_compose_durations(text: Any, seconds: float | None) -> None:
    assert swarm.duration(text) == seconds


def test_the_swarm_bake_is_the_update_monitor() -> None:
    source = {"services": {
        "api": {"healthcheck": {"test": ["CMD", "true"], "interval": "2s"}},
        "worker": {"healthcheck": {"test": ["CMD", "true"]},
                   "deploy": {"update_config": {"monitor": "9s", "order": "stop-first"}}},
    }}  # fmt: skip
    assert swarm.health_interval(source) == 30.0  # worker's check has Docker's default
    doc = swarm.stack_override(source, {"l": "v"}, {"api": "sha256:1"}, "f.yml", monitor=3.0)
    api = doc["services"]["api"]
    assert api["deploy"]["update_config"]["monitor"] == "3000ms"
    assert api["image"] == "sha256:1" and api["labels"] == {"l": "v"}
    worker = doc["services"]["worker"]["deploy"]["update_config"]
    assert "monitor" not in worker and "order" not in worker  # what the file says stays
    forced = swarm.stack_override(source, {}, {}, "f.yml", monitor=3.0, monitor_wins=True)
    assert forced["services"]["worker"]["deploy"]["update_config"]["monitor"] == "3000ms"


class Service:
    def __init__(self, version: int, status: dict[str, Any] | None, running: int = 2) -> None:
        self.name = "s_api"
        self.attrs = {
            "Version": {"Index": version},
            "Spec": {"Name": "s_api", "Mode": {"Replicated": {"Replicas": 2}},
                     "Labels": {engine.VERSION: "v3"},
                     "TaskTemplate": {"ContainerSpec": {"Image": "app:v3@sha256:x"}}},
            "UpdateStatus": status,
        }  # fmt: skip
        self._running = running

    def reload(self) -> None:
        pass

    def tasks(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        return [{"Status": {"State": "running"}}] * self._running


BEFORE = {"s_api": swarm.Before(10, "2026-12-05T10:00:00Z")}


@pytest.mark.parametrize(
    ("service", "state"),
    [
        (Service(10, {"State": "rollback_completed", "StartedAt": "2026-12-05T10:00:00Z"}),
         "completed"),  # unchanged by this deploy: an earlier update's status is not ours
        (Service(11, {"State": "rollback_completed", "StartedAt": "2026-12-05T10:00:00Z"}),
         "pending"),  # changed, but the engine has not started the update yet
        (Service(11, {"State": "updating", "StartedAt": "2026-12-05T10:01:00Z"}), "updating"),
        (Service(12, {"State": "rollback_completed", "StartedAt": "2026-12-05T10:01:00Z"}),
         "rollback_completed"),
        (Service(11, None), "created"),
    ],
)  # fmt: skip
def test_a_swarm_update_is_read_against_the_spec_it_changed(service: Service, state: str) -> None:
    before = BEFORE if service.attrs["UpdateStatus"] is not None else {}
    out = swarm._outcome(service, before, engine.VERSION)
    assert out.state == state
    assert (out.running, out.desired, out.image, out.version) == (2, 2, "app:v3", "v3")


def release(outcome: str) -> history.Release:
    return history.Release("staging", "v2", "deploy", "blue-green", outcome, 0.0, 1.0, "me")


@pytest.mark.parametrize(
    ("outcome", "code"),
    [("success", 0), ("failed", 1), ("aborted", 1), ("rolled back", 1), ("refused", 3),
     ("interrupted", 1)],
)  # fmt: skip
def test_exit_codes_follow_the_outcome(outcome: str, code: int) -> None:
    assert (
        Outcome(Plan("staging", "v2", "deploy", "blue-green"), release(outcome)).exit_code == code
    )


def test_the_plans_steps() -> None:
    p = Plan("staging", "v2", "deploy", "blue-green", compose_file="d.yml", new_colour="green",
             live_colour="blue", live_version="v1", bake=4, drain=2)  # fmt: skip
    steps = p.steps()
    assert steps[0] == "start the green colour with v2 beside v1 (blue)"
    assert steps[-1].startswith("watch the new version for a bake of 4s")
    assert p.as_dict()["steps"] == steps and p.as_dict()["analysis"] is None
    script = Plan("staging", "v2", "deploy", "script", script="scripts/deploy/deploy_staging.sh")
    assert script.steps() == ["run scripts/deploy/deploy_staging.sh v2 (its exit code decides)"]


def test_the_swarm_canary_stack_joins_the_live_stacks_networks() -> None:
    from mlopsctl.core.deploy import analysis
    from mlopsctl.core.deploy.canary import canary_stack_doc

    a = analysis.from_config({"replicas": 2, "scrape": {"port": 8080}, "metrics": {
        "s": {"kind": "gauge", "selector": "m", "min": 0}}}, "k")  # fmt: skip
    rendered = {
        "services": {
            "api": {"image": "app:v4", "ports": [{"target": 8080, "published": 80}],
                    "networks": {"live": None},
                    "deploy": {"replicas": 4, "update_config": {"order": "start-first"}}},
            "worker": {"image": "app:v4"},
        },
        "networks": {"live": {"driver": "overlay", "attachable": True},
                     "ext": {"external": True, "name": "shared"}},
    }  # fmt: skip
    doc = canary_stack_doc(rendered, "demo-staging", {"io.mlopsctl.canary": "true"}, a)
    api, worker = doc["services"]["api"], doc["services"]["worker"]
    assert api["deploy"] == {"replicas": 2, "labels": {"io.mlopsctl.canary": "true"}}
    assert api["ports"] == [{"target": 8080, "mode": "host", "protocol": "tcp"}]
    assert worker["networks"] == {"default": None}
    assert doc["networks"] == {
        "default": {"external": True, "name": "demo-staging_default"},
        "live": {"external": True, "name": "demo-staging_live"},
    }
