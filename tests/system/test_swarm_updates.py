"""Six failing Swarm updates in a row after healthy ones: each is exit 1 and a non-success
row, read from the update this deploy started (never an earlier update's status)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.system.test_swarm import StackClient, a_swarm, deploy, stack_project

pytestmark = pytest.mark.docker
__all__ = ["a_swarm", "stack_project"]  # the fixtures, shared with test_swarm.py

BAD_UPDATES = 6


def test_six_bad_updates_in_a_row_are_each_exit_1(stack_project: Path) -> None:
    for version in ("v1", "v3"):
        done = deploy(stack_project, "deploy", "staging", "--version", version)
        assert done.returncode == 0, done.stderr + done.stdout
    client = StackClient(stack_project)
    try:
        client.settle()
        for trial in range(BAD_UPDATES):
            bad = deploy(stack_project, "deploy", "staging", "--version", "v2")
            assert bad.returncode == 1, (trial, bad.stdout)
            release = json.loads(bad.stdout)["release"]
            assert release["outcome"] == "rolled back", (trial, release)
            assert "v3 still serves" in release["message"]
        lines = client.settle(30)
        assert lines[-20:] == ["ok v3"] * 20
        assert "fail" not in lines and "ok v2" not in lines
        print(f"\nSwarm: {BAD_UPDATES} bad updates, {len(lines)} requests, 0 failed")
    finally:
        client.stop()
    rows = json.loads(deploy(stack_project, "releases", "--env", "staging").stdout)["releases"]
    assert [r["outcome"] for r in rows] == ["success"] * 2 + ["rolled back"] * BAD_UPDATES
