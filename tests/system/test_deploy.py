"""compose, deploy, rollback and releases against the Docker engine of this machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from mlopsctl.core.scaffold import create
from tests.conftest import set_environments
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import HEALTHCHECK, IMAGE, mlopsctl

docker = pytest.mark.docker
pytestmark = pytest.mark.usefixtures("compose_v1")  # the Compose v1 path


@pytest.fixture
def deploy_project(tmp_path: Path) -> Iterator[Path]:
    name = f"t{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    create.plan_init(root, name=name).apply()
    create.init_git(root)
    compose_file = f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n{HEALTHCHECK}"
    (root / "docker/docker-compose.staging.yml").write_text(compose_file)
    (root / "docker/docker-compose.production.yml").write_text(compose_file)
    (root / "docker/docker-compose.main.yml").write_text(
        f"services:\n  api:\n    image: {IMAGE}:v1\n{HEALTHCHECK}  sidecar:\n    image: {IMAGE}:v1\n"
        "    stop_grace_period: 1s\n"
    )
    (root / "docker/docker-compose.broken.yml").write_text(
        f"services:\n  api:\n    image: {IMAGE}:v2\n{HEALTHCHECK}"
    )
    yield root
    remove_test_objects(name)


def running(project_prefix: str) -> dict[str, str]:
    """container name -> image of running containers whose compose project starts with the prefix."""
    out = subprocess.run(
        ["docker", "ps", "--format", "{{.Names}} {{.Image}} {{.Label \"com.docker.compose.project\"}}"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    rows = [line.split() for line in out.splitlines() if line.strip()]
    return {r[0]: r[1] for r in rows if len(r) == 3 and r[2].startswith(project_prefix)}


@docker
def test_compose_up_ps_logs_down(deploy_project: Path, images: str) -> None:
    name = deploy_project.name
    up = mlopsctl(deploy_project, "compose", "up", "--json")
    assert up.returncode == 0, up.stderr
    doc = json.loads(up.stdout)
    assert doc["project"] == f"{name}-main"
    assert {s["service"]: s["health"] for s in doc["services"]} == {
        "api": "healthy",
        "sidecar": None,
    }
    ps = mlopsctl(deploy_project, "compose", "ps")
    assert ps.returncode == 0 and "api" in ps.stdout
    logs = mlopsctl(deploy_project, "compose", "logs", "main", "--", "--tail", "5")
    assert logs.returncode == 0
    assert len(running(f"{name}-main")) == 2
    down = mlopsctl(deploy_project, "compose", "down")
    assert down.returncode == 0
    assert running(f"{name}-main") == {}


@docker
def test_compose_up_of_an_unhealthy_service_fails_with_its_logs(
    deploy_project: Path, images: str
) -> None:
    up = mlopsctl(deploy_project, "compose", "up", "broken", "--timeout", "30")
    assert up.returncode == 1
    assert "last log lines of api" in up.stderr
    assert "did not become healthy" in up.stderr
    mlopsctl(deploy_project, "compose", "down", "broken")


def test_unknown_compose_target_lists_the_known_ones(deploy_project: Path) -> None:
    out = mlopsctl(deploy_project, "compose", "up", "nope")
    assert out.returncode == 2
    assert "known targets: broken, main, production, staging" in out.stderr


@docker
def test_blue_green_deploy_failed_deploy_rollback_and_releases(
    deploy_project: Path, images: str
) -> None:
    prefix = f"{deploy_project.name}-staging"
    first = mlopsctl(deploy_project, "deploy", "staging", "--version", "v1", "--json")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["release"]["colour"] == "blue"
    live = running(prefix)
    assert list(live.values()) == [f"{IMAGE}:v1"]

    failed = mlopsctl(deploy_project, "deploy", "staging", "--version", "v2")
    assert failed.returncode == 1
    assert "v1 (blue) still serves" in failed.stdout
    assert "last log lines of api" in failed.stderr
    assert running(prefix) == live  # the very same v1 container, untouched

    third = mlopsctl(deploy_project, "deploy", "staging", "--version", "v3", "--json")
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout)["release"]["colour"] == "green"
    assert list(running(prefix).values()) == [f"{IMAGE}:v3"]

    back = mlopsctl(deploy_project, "rollback", "--env", "staging", "--json")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["release"]["version"] == "v1"
    v1_id = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", f"{IMAGE}:v1"],
                           capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    # a rollback starts the kept image by its ID, which docker ps shows (shortened)
    assert list(running(prefix).values()) == [v1_id.removeprefix("sha256:")[:12]]

    listing = mlopsctl(deploy_project, "releases", "--json")
    rows = json.loads(listing.stdout)["releases"]
    assert [(r["version"], r["action"], r["outcome"]) for r in rows] == [
        ("v1", "deploy", "success"), ("v2", "deploy", "failed"),
        ("v3", "deploy", "success"), ("v1", "rollback", "success"),
    ]  # fmt: skip
    assert all(
        r["strategy"] == "blue-green" and r["user"] and r["git_commit"] is None for r in rows
    )
    assert rows[0]["image_ids"] and rows[0]["image_ids"][0].startswith("sha256:")
    text = mlopsctl(deploy_project, "releases")
    assert "rollback" in text.stdout and "failed" in text.stdout


@docker
def test_fixed_host_ports_are_refused_before_anything_starts(
    deploy_project: Path, images: str
) -> None:
    (deploy_project / "docker/docker-compose.qa.yml").write_text(
        f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n    ports: ['18080:8080']\n"
    )
    out = mlopsctl(deploy_project, "deploy", "qa", "--version", "v1")
    assert out.returncode == 2
    assert "publishes fixed host port 18080" in out.stderr
    assert running(f"{deploy_project.name}-qa") == {}
    assert json.loads(mlopsctl(deploy_project, "releases", "--json").stdout)["releases"] == []


def test_production_needs_confirmation(deploy_project: Path) -> None:
    script = deploy_project / "scripts/deploy/deploy_production.sh"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text("#!/usr/bin/env bash\nexit 0\n")
    out = mlopsctl(
        deploy_project, "deploy", "production", "--version", "v1", stdin=subprocess.DEVNULL
    )
    assert out.returncode == 2 and "--yes" in out.stderr
    ok = mlopsctl(
        deploy_project, "deploy", "production", "--version", "v1", "--yes", stdin=subprocess.DEVNULL
    )
    assert ok.returncode == 0


def test_project_scripts_receive_the_version(deploy_project: Path) -> None:
    folder = deploy_project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text(
        '#!/usr/bin/env bash\necho "$1|$MLOPS_VERSION|$MLOPS_ENV" >> deployed.txt\n[ "$1" != bad ]\n'
    )
    (folder / "rollback.sh").write_text('#!/usr/bin/env bash\necho "rollback $1" >> deployed.txt\n')
    assert mlopsctl(deploy_project, "deploy", "staging", "--version", "v1.0.0").returncode == 0
    assert mlopsctl(deploy_project, "deploy", "staging", "--version", "v1.1.0").returncode == 0
    assert mlopsctl(deploy_project, "deploy", "staging", "--version", "bad").returncode == 1
    assert mlopsctl(deploy_project, "rollback").returncode == 0
    assert (deploy_project / "deployed.txt").read_text().splitlines() == [
        "v1.0.0|v1.0.0|staging", "v1.1.0|v1.1.0|staging", "bad|bad|staging", "rollback v1.0.0",
    ]  # fmt: skip
    rows = json.loads(mlopsctl(deploy_project, "releases", "--json").stdout)["releases"]
    assert [(r["strategy"], r["outcome"]) for r in rows] == [
        ("script", "success"), ("script", "success"), ("script", "failed"), ("script", "success"),
    ]  # fmt: skip
    assert all(r["git_commit"] is None for r in rows)
    bad = mlopsctl(deploy_project, "deploy", "staging", "--version", "v1;rm -rf /")
    assert bad.returncode == 2


def test_lock_contention_from_two_processes(deploy_project: Path) -> None:
    folder = deploy_project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text("#!/usr/bin/env bash\ntouch started\nsleep 4\n")
    env = {**os.environ}
    first = subprocess.Popen([sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", "v1"],
                             cwd=deploy_project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    try:
        for _ in range(100):
            if (deploy_project / "started").exists():
                break
            time.sleep(0.1)
        second = mlopsctl(deploy_project, "deploy", "staging", "--version", "v2")
        assert second.returncode == 3
        assert f"(pid {first.pid})" in second.stderr and "deploy v1" in second.stderr
    finally:
        assert first.wait(timeout=60) == 0
    assert mlopsctl(deploy_project, "deploy", "staging", "--version", "v2").returncode == 0


def test_a_lock_left_in_the_file_by_a_dead_process_does_not_block(deploy_project: Path) -> None:
    folder = deploy_project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    lock = deploy_project / ".mlops/state/locks/deploy-staging.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text("ghost on elsewhere (pid 1) since yesterday: deploy v0\n")
    out = mlopsctl(deploy_project, "deploy", "staging", "--version", "v1")
    assert out.returncode == 0, out.stderr


def _script_deploy(project: Path, version: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", version],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip


def test_kill_9_of_a_deploy_keeps_the_lock_while_its_script_runs(deploy_project: Path) -> None:
    folder = deploy_project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text(
        "#!/usr/bin/env bash\ntouch started\nwhile [ ! -e release ]; do sleep 0.05; done\n"
    )
    first = _script_deploy(deploy_project, "v1")
    for _ in range(200):
        if (deploy_project / "started").exists():
            break
        time.sleep(0.05)
    os.kill(first.pid, 9)  # the deploy dies; its script goes on
    first.wait()
    blocked = mlopsctl(deploy_project, "deploy", "staging", "--version", "v2")
    assert blocked.returncode == 3, blocked.stderr
    assert "already running" in blocked.stderr
    (deploy_project / "release").touch()  # the orphaned script ends, and the lock with it
    for _ in range(200):
        done = mlopsctl(deploy_project, "deploy", "staging", "--version", "v2")
        if done.returncode != 3:
            break
        time.sleep(0.05)
    assert done.returncode == 0, done.stderr


def test_concurrent_deploys_exactly_one_holds_the_lock(deploy_project: Path) -> None:
    folder = deploy_project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text(
        "#!/usr/bin/env bash\nmkdir running.d || exit 7\nsleep 1\nrmdir running.d\n"
    )
    for trial in range(5):
        racers = [_script_deploy(deploy_project, f"v{trial}.{i}") for i in range(4)]
        codes = sorted(r.wait(timeout=120) for r in racers)
        assert codes == [0, 3, 3, 3], codes  # never two scripts at once (exit 7)


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_webhook_is_notified_and_a_failing_one_only_warns(deploy_project: Path) -> None:
    folder = deploy_project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/hook"
        out = mlopsctl(
            deploy_project,
            "deploy",
            "staging",
            "--version",
            "v9",
            env={"MLOPS_NOTIFY_WEBHOOK": url},
        )
        assert out.returncode == 0
    finally:
        server.shutdown()
    assert len(Hook.received) == 1
    payload = Hook.received[0]
    assert "deploy of v9 to staging succeeded" in payload["text"]
    assert payload["mlopsctl"]["version"] == "v9"
    gone = mlopsctl(deploy_project, "deploy", "staging", "--version", "v10",
                    env={"MLOPS_NOTIFY_WEBHOOK": url})  # fmt: skip
    assert gone.returncode == 0
    assert "warning: the notification webhook at http://127.0.0.1 failed" in gone.stderr


def test_no_engine_exits_4(deploy_project: Path) -> None:
    env = {"DOCKER_HOST": f"unix://{deploy_project}/no-such.sock"}
    up = mlopsctl(deploy_project, "compose", "up", env=env)
    assert up.returncode == 4 and "No Docker engine answers" in up.stderr
    deploy = mlopsctl(deploy_project, "deploy", "staging", "--version", "v1", env=env)
    assert deploy.returncode == 4
    assert json.loads(mlopsctl(deploy_project, "releases", "--json").stdout)["releases"] == []


class Ready(BaseHTTPRequestHandler):
    """Answers 200 on /ready/blue/v1 only: the only colour and version it calls healthy."""

    asked: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        Ready.asked.append(self.path)
        self.send_response(200 if self.path == "/ready/blue/v1" else 503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@docker
def test_health_url_gates_the_switch_with_colour_and_version(
    deploy_project: Path, images: str
) -> None:
    server = HTTPServer(("127.0.0.1", 0), Ready)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = deploy_project / "mlops.yaml"
    url = f"http://127.0.0.1:{server.server_port}/ready/{{colour}}/{{version}}"
    set_environments(
        config,
        "  staging:\n    compose_file: docker/docker-compose.staging.yml\n"
        f"    health_timeout: 3\n    health_url: '{url}'\n",
    )
    prefix = f"{deploy_project.name}-staging"
    try:
        first = mlopsctl(deploy_project, "deploy", "staging", "--version", "v1", "--json")
        assert first.returncode == 0, first.stdout + first.stderr
        live = running(prefix)
        refused = mlopsctl(deploy_project, "deploy", "staging", "--version", "v3")
    finally:
        server.shutdown()
    assert refused.returncode == 1
    assert "/ready/green/v3 did not answer 2xx within 3s (HTTP Error 503" in refused.stdout
    assert "v1 (blue) still serves" in refused.stdout
    assert running(prefix) == live  # the green v3 containers were removed, blue untouched
    assert Ready.asked[0] == "/ready/blue/v1" and "/ready/green/v3" in Ready.asked


@docker
def test_the_teardown_removes_only_what_the_test_made(tmp_path: Path) -> None:
    """An unused network of the user's survives a test's cleanup; the test's own objects do not."""
    from tests.helpers.engine import docker as engine

    name = f"t{uuid.uuid4().hex[:8]}"
    users = f"users-own-{uuid.uuid4().hex[:6]}"
    assert engine("network", "create", users).returncode == 0
    assert engine("network", "create", f"{name}-staging").returncode == 0
    try:
        removed = remove_test_objects(name)
        networks = engine("network", "ls", "--format", "{{.Name}}").stdout.split()
        assert users in networks
        assert f"{name}-staging" not in networks
        assert removed == [f"network {name}-staging"]
    finally:
        engine("network", "rm", users)
