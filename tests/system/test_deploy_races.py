"""Two clones of a project deploying to one engine at the same instant, through the built-in
strategy (here) and through the project's deploy script (test_deploy_races_script.py, a file
of its own so that xdist runs the two side by side): one succeeds, the other is exit 3 naming
the holder, and no race writes a failed row."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.helpers.deploys import generated_style_script, new_project, race, rows
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import HEALTHCHECK, IMAGE

pytestmark = [pytest.mark.docker, pytest.mark.usefixtures("compose_v1")]  # the v1 path

RACES = int(os.environ.get("MLOPSCTL_RACE_TRIALS", "10"))
COMPOSE = f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n{HEALTHCHECK}"


def races(tmp_path: Path, path: str) -> None:
    script = generated_style_script() if path == "script" else ""
    root = new_project(tmp_path, COMPOSE, "  staging: {drain: 0.5, bake: 1}\n", script=script)
    clone = tmp_path / "clone" / root.name
    subprocess.run(["git", "clone", "-q", str(root), str(clone)], check=True)
    try:
        for trial in range(RACES):
            version = "v1" if trial % 2 else "v3"
            first, second = race(root, clone, version)
            codes = sorted([first.returncode, second.returncode])
            assert codes == [0, 3], (trial, first, second)
            winner, loser = (first, second) if first.returncode == 0 else (second, first)
            message = loser.stderr
            assert f"(pid {winner.pid})" in message, (trial, message)
            assert f"deploy {version}" in message
        outcomes = [r["outcome"] for r in rows(root)]
        assert outcomes == ["success"] * RACES, outcomes  # no failed (or refused) row
        print(f"\n{RACES} races through the {path} path: {RACES} x (0, 3), no failed row")
    finally:
        remove_test_objects(root.name)


def test_two_clones_racing_on_the_built_in_path(tmp_path: Path, images: str) -> None:
    races(tmp_path, "built-in")
