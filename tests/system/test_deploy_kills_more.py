"""The second half of the built-in path's kill -9 trials (see test_deploy_kills.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.test_deploy_kills import FIRST_HALF, KILL_TRIALS, kill_trials, quick

pytestmark = pytest.mark.docker
__all__ = ["quick"]  # the fixture, shared with test_deploy_kills.py


def test_kill_9_at_random_points_second_half(quick: Path) -> None:
    kill_trials(quick, KILL_TRIALS - FIRST_HALF, seed=2357)
