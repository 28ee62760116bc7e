"""``kill -9`` of a writing run at random moments (seeded), each run a fork of one prepared
interpreter; after each, the next run finishes the job (a file of its own, so that xdist runs
it beside the other crash tests)."""

from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

from tests.helpers.forker import Job, run_forked
from tests.system.test_crash import SCENARIOS, base, check_after_crash, check_finished, copies, tree

__all__ = ["base"]  # the fixture, shared with test_crash.py


TRIALS = int(os.environ.get("MLOPSCTL_CRASH_TRIALS", "50"))  # kills at random moments (seeded)


def test_kill_9_at_random_moments(base: Path, tmp_path: Path) -> None:
    args = SCENARIOS["new stage with appends"]
    old = tree(base)
    (reference,) = copies(base, tmp_path / "first", 1)
    start = time.perf_counter()
    (done,) = run_forked([Job(reference, args)], tmp_path / "o1")
    span = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    new = tree(reference)
    chance = random.Random(20261123)
    projects = copies(base, tmp_path / "kill", TRIALS)
    killed = run_forked(
        [Job(p, args, kill_after=chance.uniform(0, span)) for p in projects], tmp_path / "o2"
    )
    killed_mid_run = sum(d.returncode == -signal.SIGKILL for d in killed)
    for project in projects:
        check_after_crash(old, new, tree(project))
    again = run_forked([Job(p, args) for p in projects], tmp_path / "o3")
    for project, done in zip(projects, again, strict=True):
        check_finished(project, args, done, new)
    assert killed_mid_run > 0
    print(f"\n{killed_mid_run} of {TRIALS} runs were killed before they ended")
