"""`mlopsctl doctor` on a fresh project, a complete one and a broken one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from mlopsctl.core import config
from mlopsctl.core.scaffold import create
from tests.conftest import git
from tests.system.conftest import BIN, mlopsctl


def doctor(cwd: Path, *args: str) -> tuple[int, int, dict[str, dict]]:
    out = mlopsctl(cwd, "doctor", "--json", *args)
    doc = json.loads(out.stdout)
    return out.returncode, doc["score"], {c["id"]: c for c in doc["checks"]}


@pytest.fixture
def complete(project: Path) -> Path:
    """Every template applied, hooks installed, coverage recorded, everything committed."""
    cfg = config.load(project)
    for sub, feature, template in [("4.1", "ci-pipeline", "cicd-pipeline"),
                                   ("5.1", "serving-api", "model-serving"),
                                   ("6.1", "monitoring-api", "monitoring")]:  # fmt: skip
        create.plan_new_stage(cfg, sub, feature, template).apply()
    assert mlopsctl(project, "hooks", "install").returncode == 0
    assert mlopsctl(project, "test", "--cov").returncode == 0
    git(project, "add", "-A")
    out = subprocess.run(["git", "commit", "-q", "-m", "feat: every template"], cwd=project,
                         capture_output=True, text=True,
                         env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"})  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    return project


def test_a_fresh_project(project: Path) -> None:
    code, score, checks = doctor(project)
    assert code == 0
    failing = {k for k, c in checks.items() if c["status"] == "fail"}
    assert {"tests", "coverage", "monitoring", "ops-guides", "hooks", "clean", "deploy"} <= failing
    assert checks["branch"]["status"] == "pass" and checks["env-tracked"]["status"] == "pass"
    assert checks["hooks"]["fix"] == "mlopsctl hooks install"
    assert 0 < score < 60
    code, _, _ = doctor(project, "--fail-under", "90")
    assert code == 1
    human = mlopsctl(project, "doctor")
    assert f"readiness: {score}%" in human.stdout


def test_a_project_with_every_template(complete: Path) -> None:
    code, score, checks = doctor(complete, "--fail-under", "100")
    not_passing = {k: c["reason"] for k, c in checks.items() if c["status"] != "pass"}
    assert not_passing == {}, not_passing
    assert score == 100 and code == 0


def test_a_broken_project(complete: Path) -> None:
    (complete / ".env").write_text("API_TOKEN=leaked\n")
    git(complete, "add", "-f", ".env")
    state = complete / ".mlops/state/coverage.json"
    state.write_text(json.dumps({"total": 41.5, "gate": 80}))
    (complete / "docker/prometheus/prometheus.yml").write_text(
        "global:\n  scrape_interval: often\n"
    )
    code, score, checks = doctor(complete, "--fail-under", "90")
    assert code == 1
    assert checks["env-tracked"]["status"] == "fail" and ".env" in checks["env-tracked"]["reason"]
    assert (
        checks["coverage"]["status"] == "fail"
        and "41.5% < gate 80%" in checks["coverage"]["reason"]
    )
    assert (
        checks["env-template"]["status"] == "fail"
        and "API_TOKEN" in checks["env-template"]["reason"]
    )
    assert checks["clean"]["status"] == "fail"
    if shutil.which("promtool"):
        assert checks["monitoring"]["status"] == "fail"
    assert score < 70


def test_fail_under_is_validated(project: Path) -> None:
    out = mlopsctl(project, "doctor", "--fail-under", "150")
    assert out.returncode == 2 and "outside 0-100" in out.stderr
