"""The bake: a version that passes its health gate but turns unhealthy a little later is
switched back within the bake, exit 1, and never becomes a rollback target."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.deploys import new_project, rows
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import HEALTHCHECK, IMAGE, mlopsctl
from tests.system.test_traffic import Client, attached_colours, deploy

pytestmark = pytest.mark.docker
COMPOSE = f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n{HEALTHCHECK}"


@pytest.fixture
def baked(tmp_path: Path, images: str) -> Iterator[Path]:
    root = new_project(tmp_path, COMPOSE, "  staging: {drain: 1, bake: 20}\n")
    yield root
    remove_test_objects(root.name)


def test_a_version_unhealthy_10s_after_start_fails_its_20s_bake(baked: Path) -> None:
    assert deploy(baked, "deploy", "staging", "--version", "v1").returncode == 0
    client = Client(baked)
    try:
        client.settle()
        late = deploy(baked, "deploy", "staging", "--version", "v7")
        assert late.returncode == 1, late.stdout
        message = json.loads(late.stdout)["release"]["message"]
        assert "turned unhealthy during the bake (20s)" in message, message
        assert "traffic went back to v1 (blue)" in message
        lines = client.settle()
        assert lines[-20:] == ["ok v1"] * 20
        assert "fail" not in lines, lines.count("fail")
        assert "ok v7" in lines  # it did serve, until it turned unhealthy
        print(f"\n{len(lines)} requests through a failed bake: 0 failed")
    finally:
        client.stop()
    assert attached_colours(baked) == {"blue"}
    assert [r["outcome"] for r in rows(baked)] == ["success", "failed"]
    back = mlopsctl(baked, "rollback", "v7", "--env", "staging")
    assert back.returncode == 2 and "No kept images of v7" in back.stderr, back.stderr
