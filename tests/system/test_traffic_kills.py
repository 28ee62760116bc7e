"""kill -9 of blue-green deploys at random moments, with a client counting answers (a file of
its own, so that xdist runs it beside the other traffic tests)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.system.conftest import mlopsctl
from tests.system.test_traffic import attached_colours, deploy, project

pytestmark = pytest.mark.docker
__all__ = ["project"]  # the fixture, shared with test_traffic.py


def rows_of(project: Path) -> int:
    from mlopsctl.core.deploy.history import Store

    return len(Store(project.name).rows("staging"))


KILL_TRIALS = int(os.environ.get("MLOPSCTL_KILL_TRIALS", "10"))  # more: a longer, harder run


def test_kill_9_at_random_points_never_leaves_two_colours(project: Path) -> None:
    assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
    start = time.perf_counter()
    assert deploy(project, "deploy", "staging", "--version", "v3").returncode == 0
    span = time.perf_counter() - start
    chance = random.Random(1123)
    attempts = 2
    for trial in range(KILL_TRIALS):
        version = "v1" if trial % 2 else "v3"
        proc = subprocess.Popen(
            [sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", version],
            cwd=project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        # from the moment the attempt has its row (before it changes anything) to its end
        while rows_of(project) < attempts + 1 and proc.poll() is None:
            time.sleep(0.02)
        time.sleep(chance.uniform(0, span))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        attempts += 1
        after = deploy(project, "deploy", "staging", "--version", "v3")
        attempts += 1
        assert after.returncode == 0, (trial, after.stderr)
        assert attached_colours(project) == {json.loads(after.stdout)["release"]["colour"]}
    rows = json.loads(mlopsctl(project, "releases", "--env", "staging", "--json").stdout)[
        "releases"
    ]
    assert len(rows) == attempts
    assert all(r["outcome"] in ("success", "interrupted", "failed") for r in rows), rows
    print(f"\noutcomes of {KILL_TRIALS} killed deploys:", [r["outcome"] for r in rows[2::2]])
