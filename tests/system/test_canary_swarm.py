"""Canary deploys on a one-node Docker Swarm: a canary stack whose services join the live
stack's overlay network under the same service names (DNS round robin across the live tasks
and the canary's), its metrics scraped through a port the canary publishes on its node."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.deploys import new_project, rows
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import IMAGE
from tests.system.test_canary import ANALYSIS
from tests.system.test_swarm import SERVICE, StackClient, a_swarm, deploy
from tests.system.test_traffic import docker

pytestmark = pytest.mark.docker
__all__ = ["a_swarm"]  # the fixture, shared with test_swarm.py


@pytest.fixture
def swarm_canary(
    tmp_path: Path, images: str, a_swarm: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    monkeypatch.setenv("MLOPSCTL_DEBUG", "1")  # a traceback, should anything unexpected happen
    compose = (
        f'version: "3.8"\nservices:\n{SERVICE.format(name="api", image=IMAGE)}'
        "networks:\n  live:\n    driver: overlay\n    attachable: true\n"
    )
    settings = "  staging:\n    engine: swarm\n    health_timeout: 90\n    strategy: canary\n"
    root = new_project(tmp_path, compose, settings + ANALYSIS, prefix="s")
    yield root
    remove_test_objects(root.name)


def test_a_swarm_canary_is_promoted_and_a_bad_one_aborted(swarm_canary: Path) -> None:
    first = deploy(swarm_canary, "deploy", "staging", "--version", "v1")
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    client = StackClient(swarm_canary)
    try:
        client.settle()
        before = len(client.lines())
        good = deploy(swarm_canary, "deploy", "staging", "--version", "v4")
        assert good.returncode == 0, good.stdout + good.stderr[-3000:]
        during = client.lines()[before:]
        assert "ok v1" in during[during.index("ok v4") :], "both versions answer during analysis"
        assert client.settle(30)[-20:] == ["ok v4"] * 20
        release = json.loads(good.stdout)["release"]
        assert [s["ok"] for s in release["samples"]] == [True] * 4
        bad = deploy(swarm_canary, "deploy", "staging", "--version", "v5")
        assert bad.returncode == 1, bad.stdout + bad.stderr[-3000:]
        (line,) = json.loads(bad.stdout)["failures"]
        assert line.startswith("error-rate = 0.3333, above max 0.05"), line
        assert client.settle(30)[-20:] == ["ok v4"] * 20
        lines = client.lines()
        assert "fail" not in lines, lines.count("fail")
        print(f"\nSwarm canaries: {len(lines)} requests without retries, 0 failed")
    finally:
        client.stop()
    assert [r["outcome"] for r in rows(swarm_canary)] == ["success", "success", "aborted"]
    stacks = docker("stack", "ls", "--format", "{{.Name}}").split()
    assert f"{swarm_canary.name}-staging-canary" not in stacks  # no canary is left
