"""Deploys to a one-node Docker Swarm: rolling updates, the engine's rollback, stack rollback.

The routing mesh does not work on this kernel (no IPVS), so services use
``endpoint_mode: dnsrr`` on an attachable overlay network, and a client container on that
network requests them in a loop (retrying a failed connection once, as a router does).
The run creates the swarm when the engine is not in one, and leaves it only if it did
(tests/conftest.py).
"""

from __future__ import annotations

import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlopsctl.core.scaffold import create
from tests.conftest import git, set_environments
from tests.helpers.deploys import own_images
from tests.helpers.engine import remove_test_objects, swarm_state
from tests.helpers.machine import need
from tests.system.conftest import IMAGE, mlopsctl
from tests.system.test_traffic import Client, docker

pytestmark = pytest.mark.docker

SERVICE = """  {name}:
    image: {image}:${{MLOPS_VERSION}}
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      rollback_config: {{monitor: 1s}}
    stop_grace_period: 1s
    networks: [live]
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 2
      start_period: 1s
"""


@pytest.fixture(scope="module")
def a_swarm() -> None:
    """The run's swarm, made by the controller before any worker started (tests/conftest.py)."""
    state = swarm_state()
    need("a one-node swarm", None if state == "active" else (
        f"the engine is not a swarm manager (state {state or 'unknown'}); run the swarm tests "
        "through pytest, which makes one for the run, or `docker swarm init`"
    ))  # fmt: skip


@pytest.fixture
def stack_project(tmp_path: Path, images: str, a_swarm: None) -> Iterator[Path]:
    name = f"s{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    create.plan_init(root, name=name).apply()
    create.init_git(root)
    services = SERVICE.format(name="api", image=IMAGE) + SERVICE.format(name="worker", image=IMAGE)
    (root / "docker/docker-compose.staging.yml").write_text(
        f'version: "3.8"\nservices:\n{services}'
        "networks:\n  live:\n    driver: overlay\n    attachable: true\n"
    )
    config = root / "mlops.yaml"
    # a short bake (the engine's update monitor): these tests are not about the bake
    set_environments(config, "  staging: {engine: swarm, health_timeout: 90, bake: 1}\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: init", "--no-verify")
    yield root
    remove_test_objects(name)


class StackClient(Client):
    """The looping client, on the stack's attachable overlay network."""

    def __init__(self, project: Path) -> None:
        super().__init__(project, network=f"{project.name}-staging_live")


def deploy(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlopsctl(project, *args, "--json")


def service_images(project: Path) -> dict[str, str]:
    out = {}
    for service in ("api", "worker"):
        ref = docker("service", "inspect", "-f", "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
                     f"{project.name}-staging_{service}")  # fmt: skip
        out[service] = docker("image", "inspect", "-f", "{{.Id}}", ref.split("@")[0])
    return out


def test_rolling_updates_an_engine_rollback_and_a_stack_rollback(stack_project: Path) -> None:
    first = deploy(stack_project, "deploy", "staging", "--version", "v1")
    assert first.returncode == 0, first.stderr + first.stdout
    v1_images = service_images(stack_project)
    client = StackClient(stack_project)
    try:
        client.settle()
        up = deploy(stack_project, "deploy", "staging", "--version", "v3")
        assert up.returncode == 0, up.stderr + up.stdout
        assert client.settle(30)[-20:] == ["ok v3"] * 20
        bad = deploy(stack_project, "deploy", "staging", "--version", "v2")
        assert bad.returncode == 1, bad.stdout
        release = json.loads(bad.stdout)["release"]
        assert release["outcome"] == "rolled back"
        assert "the engine rolled" in release["message"] and "v3 still serves" in release["message"]
        assert client.settle(30)[-20:] == ["ok v3"] * 20
        back = deploy(stack_project, "rollback", "--env", "staging", "v1")
        assert back.returncode == 0, back.stderr + back.stdout
        lines = client.settle(30)
        assert lines[-20:] == ["ok v1"] * 20
        assert "fail" not in lines
        print(f"\nSwarm: {len(lines)} requests without retries: 0 failed")
    finally:
        client.stop()
    assert service_images(stack_project) == v1_images  # every service of the stack
    rows = json.loads(mlopsctl(stack_project, "releases", "--json").stdout)["releases"]
    assert [(r["version"], r["action"], r["outcome"]) for r in rows] == [
        ("v1", "deploy", "success"), ("v3", "deploy", "success"),
        ("v2", "deploy", "rolled back"), ("v1", "rollback", "success"),
    ]  # fmt: skip


def test_a_service_without_a_healthcheck_is_bad_input(stack_project: Path) -> None:
    file = stack_project / "docker/docker-compose.staging.yml"
    file.write_text(file.read_text().replace("    healthcheck:", "    x-no-check:", 1))
    out = mlopsctl(stack_project, "deploy", "staging", "--version", "v1")
    assert out.returncode == 2, out.stderr
    assert "service 'api' has no healthcheck" in out.stderr
    assert not docker("stack", "ls", "--format", "{{.Name}}").count(f"{stack_project.name}-staging")


def test_compose_ps_and_logs_of_a_swarm_environment_show_its_tasks(stack_project: Path) -> None:
    assert deploy(stack_project, "deploy", "staging", "--version", "v1").returncode == 0
    ps = mlopsctl(stack_project, "compose", "ps", "staging")
    assert ps.returncode == 0, ps.stderr
    assert f"{stack_project.name}-staging_api.1" in ps.stdout and "Running" in ps.stdout
    logs = mlopsctl(stack_project, "compose", "logs", "staging")
    assert logs.returncode == 0, logs.stderr
    assert f"--- {stack_project.name}-staging_worker ---" in logs.stderr


def test_a_stack_rollback_starts_the_kept_images_even_after_their_tags_moved(
    stack_project: Path,
) -> None:
    repo = own_images(stack_project, "v1", "v3")
    assert deploy(stack_project, "deploy", "staging", "--version", "v1").returncode == 0
    v1_images = service_images(stack_project)
    assert deploy(stack_project, "deploy", "staging", "--version", "v3").returncode == 0
    docker("tag", f"{repo}:v3", f"{repo}:v1")  # someone moves the tag
    back = deploy(stack_project, "rollback", "--env", "staging", "v1")
    assert back.returncode == 0, back.stderr + back.stdout
    for service in ("api", "worker"):
        ref = docker("service", "inspect", "-f", "{{.Spec.TaskTemplate.ContainerSpec.Image}}",
                     f"{stack_project.name}-staging_{service}")  # fmt: skip
        assert ref.split("@")[0] == v1_images[service]  # the image ID, not the tag


def test_a_killed_swarm_deploy_is_settled_by_what_the_engine_did(stack_project: Path) -> None:
    import os
    import signal
    import sys
    import time

    from mlopsctl.core.deploy.history import Store

    assert deploy(stack_project, "deploy", "staging", "--version", "v1").returncode == 0
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", "v3"],
        cwd=stack_project, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    services = [f"{stack_project.name}-staging_{name}" for name in ("api", "worker")]
    label = '{{index .Spec.Labels "io.mlopsctl.version"}}'

    def labels() -> set[str]:
        return {docker("service", "inspect", "-f", label, s) for s in services}

    while labels() != {"v3"} and proc.poll() is None:
        time.sleep(0.05)  # until `docker stack deploy` updated every service of the stack
    assert len(Store(stack_project.name).rows("staging")) == 2
    os.killpg(proc.pid, signal.SIGKILL)  # the engine goes on without mlopsctl
    proc.wait()
    status = "{{if .UpdateStatus}}{{.UpdateStatus.State}}{{end}}"
    for _ in range(240):
        if all(
            docker("service", "inspect", "-f", status, s) in ("", "completed") for s in services
        ):
            break
        time.sleep(0.5)
    rows = json.loads(mlopsctl(stack_project, "releases", "--env", "staging", "--json").stdout)[
        "releases"
    ]
    assert [(r["version"], r["outcome"]) for r in rows] == [("v1", "success"), ("v3", "success")]
