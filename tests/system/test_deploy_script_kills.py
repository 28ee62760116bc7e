"""``kill -9`` of deploys that run through the project's script (the generated scripts' shape:
the script hands over to mlopsctl's built-in strategy), each killed deploy left an unreaped
zombie: the next deploy succeeds at once. ``MLOPSCTL_KILL_TRIALS`` (default 10) trials in all,
half here and half in test_deploy_script_kills_more.py, so that xdist runs them side by side."""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.deploys import (
    Unreaped,
    generated_style_script,
    new_project,
    rows,
    started_rows,
    state,
)
from tests.helpers.engine import remove_test_objects
from tests.system.test_deploy_kills import COMPOSE, KILL_TRIALS
from tests.system.test_traffic import deploy

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("compose_v1")]  # the v1 path


def script_kill_trials(tmp_path: Path, trials: int, seed: int) -> None:
    """The outer deploy, the script and the inner deploy are killed together, ``trials``
    times; each next deploy succeeds at once."""
    root = new_project(tmp_path, COMPOSE, "  staging: {drain: 0.5, bake: 1}\n",
                       script=generated_style_script())  # fmt: skip
    try:
        assert deploy(root, "deploy", "staging", "--version", "v1").returncode == 0
        start = time.perf_counter()
        assert deploy(root, "deploy", "staging", "--version", "v3").returncode == 0
        span = time.perf_counter() - start
        chance = random.Random(seed)
        for trial in range(trials):
            killed = Unreaped(root, "v1" if trial % 2 else "v3")
            try:
                while started_rows(root) < 3 + 2 * trial and killed.running():
                    time.sleep(0.02)
                time.sleep(chance.uniform(0, span))
                killed.kill()
                after = subprocess.run(
                    [sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", "v3",
                     "--json"], cwd=root, capture_output=True, text=True,
                )  # fmt: skip
                assert after.returncode == 0, (trial, after.returncode, after.stderr)
                assert state(killed.pid) == "Z"
            finally:
                killed.close()
        outcomes = [r["outcome"] for r in rows(root)]
        assert "failed" not in outcomes[3::2] and "refused" not in outcomes, outcomes
        print(f"\n{trials} kill -9 trials through the script, zombies: rows {outcomes[2::2]}")
    finally:
        remove_test_objects(root.name)


FIRST_HALF = (KILL_TRIALS + 1) // 2  # the rest: test_deploy_script_kills_more.py


def test_a_kill_during_the_script_path_with_a_zombie(tmp_path: Path, images: str) -> None:
    script_kill_trials(tmp_path, FIRST_HALF, seed=7)
