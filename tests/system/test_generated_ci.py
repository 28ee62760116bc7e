"""A project made with every template is green in its own CI, run here step by step.

The project gets 1.1 (stage), 4.1 (cicd-pipeline), 5.1 (model-serving), 6.1 and 6.3
(monitoring) and 6.2 (``--from 6.1``). Then every ``run:`` step of its one workflow runs in
order, as GitHub's ``bash -e`` would, in a fresh virtual environment, with
``MLOPSCTL_REQUIREMENT`` pointing at the wheel built from this checkout. The image build is
the one step left out: it needs a Python base image, and no registry is reachable here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import git
from tests.helpers.machine import need
from tests.system.conftest import mlopsctl, run, tool

STAGES = [
    ["1.1", "data-ingestion"],
    ["4.1", "delivery", "--template", "cicd-pipeline"],
    ["5.1", "model-api", "--template", "model-serving"],
    ["6.1", "monitoring-api", "--template", "monitoring"],
    ["6.3", "latency", "--template", "monitoring"],
    ["6.2", "--from", "6.1"],
]
NEEDS_A_BASE_IMAGE = "docker build"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "shop"
    done = mlopsctl(root.parent, "init", "shop")
    assert done.returncode == 0, done.stderr
    for args in STAGES:
        done = mlopsctl(root, "new-stage", *args)
        assert done.returncode == 0, done.stdout + done.stderr
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feat: every template", "--no-verify")
    remote = root.parent / "origin.git"
    git(root.parent, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "push", "-q", "origin", "main", "--no-verify")
    return root


def steps(root: Path) -> list[tuple[str, str, dict[str, str], str]]:
    """(job, step name, step env, script) of every run: step, jobs in file order."""
    doc = yaml.safe_load((root / ".github/workflows/ci.yml").read_text())
    out = []
    for job_name, job in doc["jobs"].items():
        for i, step in enumerate(job["steps"]):
            if "run" in step:
                env = {k: str(v) for k, v in (step.get("env") or {}).items()}
                out.append((job_name, step.get("name", f"step {i}"), env, step["run"]))
    return out


def test_every_workflow_step_passes_in_a_fresh_venv(
    generated: Path, wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "runner"
    run([sys.executable, "-m", "venv", str(venv)], tmp_path)
    bin_dir = str(venv / "bin")
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "VIRTUAL_ENV": str(venv),
        "MLOPSCTL_REQUIREMENT": str(wheel),
        "PYTHON_VERSION": f"{sys.version_info.major}.{sys.version_info.minor}",
        "GITHUB_SHA": git(generated, "rev-parse", "HEAD"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "CI": "true",
    }
    env.pop("PYTHONPATH", None)
    ran = []
    for job, name, step_env, script in steps(generated):
        if NEEDS_A_BASE_IMAGE in script:
            continue
        step = {**env, **step_env, "BASE_REF": "main"}
        done = subprocess.run(
            ["bash", "-e", "-c", script], cwd=generated, env=step,
            capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert done.returncode == 0, f"{job} / {name}: {script}\n{done.stdout}\n{done.stderr}"
        ran.append(f"{job}/{name}")
    jobs = {r.split("/")[0] for r in ran}
    assert jobs == {"conventions", "test", "coverage", "security"}, ran
    assert len(ran) >= 14, ran
    assert (generated / "reports/coverage.xml").is_file()
    assert shutil.which("mlopsctl", path=bin_dir) is not None


def test_merged_monitoring_files_pass_promtool(generated: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        need("promtool", "promtool is missing: apt-get install prometheus (.ci/run does)")
        return
    prom = generated / "docker/prometheus"
    run([promtool, "check", "config", str(prom / "prometheus.yml")], generated)
    out = run([promtool, "check", "rules", str(prom / "alert_rules.yml")], generated)
    assert "SUCCESS: 12 rules found" in out.stdout  # four per monitored substage
    config = yaml.safe_load((prom / "prometheus.yml").read_text())
    jobs = [j["job_name"] for j in config["scrape_configs"]]
    assert jobs == ["prometheus", "mlopsctl-releases", "monitoring-api", "latency",
                    "monitoring-api-6-2"]  # fmt: skip
    targets = [j["static_configs"][0]["targets"][0] for j in config["scrape_configs"][2:]]
    assert targets == ["monitoring-api:8601", "latency:8603", "monitoring-api-6-2:8602"]


def test_workflow_scripts_and_compose_files_lint_clean(generated: Path) -> None:
    run([tool("actionlint"), ".github/workflows/ci.yml"], generated)
    scripts = sorted(str(p.relative_to(generated)) for p in generated.rglob("*.sh"))
    assert "scripts/hooks/run_mlopsctl.sh" in scripts
    run([tool("shellcheck"), *scripts], generated)
    dockerfiles = ["Dockerfile.dev", *sorted(str(p.relative_to(generated))
                   for p in (generated / "docker/dockerfiles").glob("Dockerfile.*"))]  # fmt: skip
    assert len(dockerfiles) == 3
    run([tool("hadolint"), *dockerfiles], generated)
    compose = shutil.which("docker-compose")
    if compose is None:
        need("docker-compose", "docker-compose is missing: apt-get install docker-compose")
        return
    env = {**os.environ, "GRAFANA_ADMIN_PASSWORD": "x"}
    files = sorted((generated / "docker").glob("docker-compose.*.yml"))
    assert len(files) >= 6
    for path in files:
        run([compose, "-f", str(path), "config", "-q"], generated, env)
    services = yaml.safe_load((generated / "docker/docker-compose.monitoring.yml").read_text())
    assert {"monitoring-api", "latency", "monitoring-api-6-2", "prometheus"} <= set(
        services["services"]
    )
