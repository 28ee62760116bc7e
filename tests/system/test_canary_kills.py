"""``kill -9`` of a canary deploy during its analysis: the live version serves throughout (a
client counts every answer), and the next deploy removes the canary and deploys cleanly."""

from __future__ import annotations

import json
import os
import random
import time
from pathlib import Path

import pytest

from tests.helpers.deploys import Unreaped, new_project, rows, state
from tests.helpers.engine import remove_test_objects
from tests.system.test_canary import COMPOSE, SETTINGS, canaries_left
from tests.system.test_traffic import Client, deploy, docker

pytestmark = pytest.mark.docker

TRIALS = int(os.environ.get("MLOPSCTL_CANARY_KILL_TRIALS", "5"))


def named_canaries(project: Path, version: str = "v4") -> int:
    """Canary containers of ``version`` that answer under the service name on the
    environment's network (a container removed while this looks is not counted)."""
    count = 0
    for cid in canaries_left(project):
        found = docker("inspect", "-f", "{{json .}}", cid, check=False)
        if not found:
            continue  # removed meanwhile
        info = json.loads(found)
        if (info["Config"]["Labels"] or {}).get("io.mlopsctl.version") != version:
            continue
        nets = info["NetworkSettings"]["Networks"] or {}
        if "api" in ((nets.get(f"{project.name}-staging") or {}).get("Aliases") or []):
            count += 1
    return count


def test_kill_9_during_the_analysis_leaves_the_live_version_serving(
    tmp_path: Path, images: str
) -> None:
    root = new_project(tmp_path, COMPOSE, SETTINGS)
    chance = random.Random(20261205)
    try:
        assert deploy(root, "deploy", "staging", "--version", "v1").returncode == 0
        client = Client(root)
        try:
            client.settle()
            live, spare = "v1", "v3"
            for trial in range(TRIALS):
                killed = Unreaped(root, "v4")
                try:
                    while named_canaries(root) == 0 and killed.running():
                        time.sleep(0.05)
                    assert killed.running(), f"trial {trial}: the canary never answered"
                    time.sleep(chance.uniform(0, 2))  # well within the 4 one-second samples
                    killed.kill()
                    mark = len(client.lines())
                    time.sleep(1)
                    assert f"ok {live}" in client.lines()[mark:]  # the live version serves on
                    after = deploy(root, "deploy", "staging", "--version", spare,
                                   "--strategy", "blue-green")  # fmt: skip
                    assert after.returncode == 0, (trial, after.stdout)
                    assert state(killed.pid) == "Z"
                    assert named_canaries(root) == 0  # the killed canary is gone
                finally:
                    killed.close()
                live, spare = spare, live
                assert client.settle()[-20:] == [f"ok {live}"] * 20
            lines = client.lines()
            assert "fail" not in lines, lines.count("fail")
            print(f"\n{TRIALS} canaries killed during their analysis: {len(lines)} requests, "
                  "0 failed")  # fmt: skip
        finally:
            client.stop()
        outcomes = [r["outcome"] for r in rows(root)]
        assert outcomes[0::2] == ["success"] * (TRIALS + 1), outcomes  # v1, then each next
        assert outcomes[1::2] == ["interrupted"] * TRIALS, outcomes  # each killed canary
    finally:
        remove_test_objects(root.name)
