"""The second half of the script path's kill -9 trials (see test_deploy_script_kills.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.test_deploy_kills import KILL_TRIALS
from tests.system.test_deploy_script_kills import FIRST_HALF, script_kill_trials

pytestmark = pytest.mark.docker


def test_a_kill_during_the_script_path_second_half(tmp_path: Path, images: str) -> None:
    script_kill_trials(tmp_path, KILL_TRIALS - FIRST_HALF, seed=11)
