"""Races of two clones through the project's deploy script (see test_deploy_races.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.test_deploy_races import races

pytestmark = pytest.mark.docker


def test_two_clones_racing_through_the_deploy_script(tmp_path: Path, images: str) -> None:
    races(tmp_path, "script")
