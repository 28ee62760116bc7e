"""``kill -9`` of built-in blue-green deploys at random moments, each killed process left an
unreaped zombie (its parent never waits, as under a container without an init): the next
deploy succeeds at once, one colour holds the names, and every row tells what happened.
``MLOPSCTL_KILL_TRIALS`` (default 10) trials in all, half here and half in
test_deploy_kills_more.py."""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.deploys import Unreaped, new_project, rows, started_rows, state
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import HEALTHCHECK, IMAGE
from tests.system.test_traffic import attached_colours, deploy

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("compose_v1")]  # the v1 path

KILL_TRIALS = int(os.environ.get("MLOPSCTL_KILL_TRIALS", "10"))  # more: a longer, harder run
COMPOSE = f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n{HEALTHCHECK}"


@pytest.fixture
def quick(tmp_path: Path, images: str) -> Iterator[Path]:
    root = new_project(tmp_path, COMPOSE, "  staging: {drain: 0.5, bake: 1}\n")
    yield root
    remove_test_objects(root.name)


def kill_trials(quick: Path, trials: int, seed: int) -> None:
    """``trials`` deploys killed at random moments, each followed by a deploy that must
    succeed at once with one colour under the names."""
    assert deploy(quick, "deploy", "staging", "--version", "v1").returncode == 0
    start = time.perf_counter()
    assert deploy(quick, "deploy", "staging", "--version", "v3").returncode == 0
    span = time.perf_counter() - start
    chance = random.Random(seed)
    attempts = 2
    for trial in range(trials):
        version = "v1" if trial % 2 else "v3"
        killed = Unreaped(quick, version)
        try:
            # from the moment the attempt has its row (before it changes anything) to its end
            while started_rows(quick) < attempts + 1 and killed.running():
                time.sleep(0.02)
            time.sleep(chance.uniform(0, span))
            killed.kill()
            attempts += 1
            assert state(killed.pid) == "Z"  # dead, and nobody reaped it
            after = deploy(quick, "deploy", "staging", "--version", "v3")
            attempts += 1
            assert after.returncode == 0, (trial, after.returncode, after.stderr)
            assert state(killed.pid) == "Z"  # the lock did not wait for a reaper
        finally:
            killed.close()
        assert attached_colours(quick) == {json.loads(after.stdout)["release"]["colour"]}
    found = rows(quick)
    assert len(found) == attempts
    assert all(r["outcome"] in ("success", "interrupted", "failed") for r in found), found
    assert [r["outcome"] for r in found[3::2]] == ["success"] * trials
    print(f"\n{trials} kill -9 trials, the killed deploy a zombie each time; their rows:",
          [r["outcome"] for r in found[2::2]])  # fmt: skip


# The trials run in two halves, each on a project of its own in a file of its own, so that xdist
# runs them side by side (test_deploy_kills_more.py has the other half).
FIRST_HALF = (KILL_TRIALS + 1) // 2


def test_kill_9_at_random_points_with_the_killed_deploy_a_zombie(quick: Path) -> None:
    kill_trials(quick, FIRST_HALF, seed=1123)
