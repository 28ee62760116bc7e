"""Blue-green deploys that move real traffic, with the engine as the truth.

A client container on the environment's network requests the service by its compose name in a
loop; every answer (the version the image serves) or failure is logged. Clones of the project
deploy to the same engine; deploys are killed with SIGKILL at random moments.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlopsctl.core.scaffold import create
from tests.conftest import git, set_environments
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import HEALTHCHECK, IMAGE, mlopsctl

pytestmark = pytest.mark.docker


def docker(*args: str, check: bool = True) -> str:
    out = subprocess.run(["docker", *args], capture_output=True, text=True, check=check)
    return out.stdout.strip()


@pytest.fixture
def project(tmp_path: Path, images: str) -> Iterator[Path]:
    name = f"t{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    create.plan_init(root, name=name).apply()
    create.init_git(root)
    compose_file = f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n{HEALTHCHECK}"
    for env in ("staging", "production"):
        (root / f"docker/docker-compose.{env}.yml").write_text(compose_file)
    config = root / "mlops.yaml"
    set_environments(  # a short bake: these tests are about the switch (test_deploy_bake.py)
        config,
        "  staging: {drain: 1, bake: 1}\n  production: {drain: 1, bake: 1, confirm: false}\n",
    )
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: init", "--no-verify")
    yield root
    remove_test_objects(name)


class Client:
    """A container on the environment's network that requests http://api:8080/ in a loop and
    logs every answer (the version that served it) or failure. It does not retry: a request
    that was resolved to a colour at the instant that colour left would fail, so 0 failed
    requests means the drain lost nothing. It pauses 10 ms between requests (some 60 a
    second): a client in a tight loop takes a core of this 2-core machine from the rest of the
    suite, and without the drain this rate loses requests at every few switches."""

    def __init__(self, project: Path, env: str = "staging", network: str | None = None) -> None:
        self.name = f"client-{project.name}-{uuid.uuid4().hex[:4]}"
        network = network or f"{project.name}-{env}"
        docker("network", "inspect", network)  # the first deploy made it
        bb = "/bin/busybox"
        get = f"{bb} timeout 3 {bb} wget -q -O- http://api:8080/ 2>/dev/null"
        loop = (f'while true; do if r=$({get}); then echo "ok $r"; else echo fail; fi; '
                f"{bb} usleep 10000; done >> /log")  # fmt: skip
        docker("run", "-d", "--name", self.name, "--network", network, f"{IMAGE}:v1",
               "/bin/busybox", "sh", "-c", loop)  # fmt: skip

    def lines(self) -> list[str]:
        """The answers so far."""
        return docker("exec", self.name, "/bin/busybox", "cat", "/log").splitlines()

    def settle(self, at_least: int = 20) -> list[str]:
        start = len(self.lines())
        while len(self.lines()) < start + at_least:
            time.sleep(0.2)
        return self.lines()

    def stop(self) -> None:
        docker("rm", "-f", self.name, check=False)


def deploy(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return mlopsctl(project, *args, "--json")


def attached_colours(project: Path, env: str = "staging") -> set[str]:
    raw = docker("network", "inspect", f"{project.name}-{env}", "--format", "{{json .Containers}}")
    ids = list(json.loads(raw or "{}").keys())
    return {
        docker("inspect", "-f", '{{index .Config.Labels "io.mlopsctl.colour"}}', i)
        for i in ids
        if docker("inspect", "-f", '{{index .Config.Labels "io.mlopsctl.colour"}}', i)
    }


def zero_failed_requests(project: Path, engine: str) -> None:
    """Deploy v1, v3, a failing v2, then roll back, with a client asking all the time."""
    assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
    client = Client(project)
    try:
        client.settle()
        up = deploy(project, "deploy", "staging", "--version", "v3")
        assert up.returncode == 0, up.stderr
        after_v3 = client.settle()
        assert after_v3[-20:] == ["ok v3"] * 20  # only v3 answers after the switch
        bad = deploy(project, "deploy", "staging", "--version", "v2")
        assert bad.returncode == 1
        assert "v3 (green) still serves" in json.loads(bad.stdout)["release"]["message"]
        assert client.settle()[-20:] == ["ok v3"] * 20
        back = deploy(project, "rollback", "--env", "staging")
        assert back.returncode == 0, back.stderr
        lines = client.settle()
        assert lines[-20:] == ["ok v1"] * 20
        assert "fail" not in lines, lines.count("fail")
        assert {"ok v1", "ok v3"} <= set(lines)
        print(f"\n{engine}: {len(lines)} requests without retries during deploy v3, failed v2 "
              "and rollback: 0 failed")  # fmt: skip
    finally:
        client.stop()
    assert attached_colours(project) == {"blue"}


def test_zero_failed_requests_through_deploys_a_failed_deploy_and_a_rollback(
    project: Path, compose_v1: str | None
) -> None:
    zero_failed_requests(project, "Compose v1")


def test_a_second_clone_continues_from_the_live_colour(project: Path, tmp_path: Path) -> None:
    assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
    clone = tmp_path / "clone" / project.name
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    second = deploy(clone, "deploy", "staging", "--version", "v3")
    assert second.returncode == 0, second.stderr
    doc = json.loads(second.stdout)
    assert doc["plan"]["live_colour"] == "blue" and doc["release"]["colour"] == "green"
    assert attached_colours(project) == {"green"}
    subprocess.run(["git", "clean", "-qfdX"], cwd=project, check=True)
    status = mlopsctl(project, "releases", "--env", "staging", "--json")
    versions = [r["version"] for r in json.loads(status.stdout)["releases"]]
    assert versions == ["v1", "v3"]  # the history is shared and survives git clean -X


def test_two_clones_deploying_at_once_exactly_one_holds_the_lock(
    project: Path, tmp_path: Path
) -> None:
    clone = tmp_path / "clone" / project.name
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    first = subprocess.Popen(
        [sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", "v1"],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lock = f"mlopsctl-lock-{project.name}-staging"
    for _ in range(200):
        if docker("ps", "-aq", "--filter", f"name={lock}"):
            break
        time.sleep(0.05)
    second = mlopsctl(clone, "deploy", "staging", "--version", "v3")
    assert first.wait(timeout=120) == 0, first.stderr.read() if first.stderr else ""
    assert second.returncode == 3, second.stderr
    assert f"(pid {first.pid})" in second.stderr and "deploy v1" in second.stderr


def test_a_failing_switch_hook_puts_traffic_back(project: Path) -> None:
    assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
    hook = project / "scripts/deploy/switch_traffic.sh"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/usr/bin/env bash\necho switching to $1 $2\nexit 3\n")
    client = Client(project)
    try:
        client.settle()
        out = deploy(project, "deploy", "staging", "--version", "v3", "--strategy", "blue-green")
        assert out.returncode == 1
        assert "traffic went back to v1 (blue)" in json.loads(out.stdout)["release"]["message"]
        lines = client.settle()
        assert lines[-20:] == ["ok v1"] * 20
    finally:
        client.stop()
    assert attached_colours(project) == {"blue"}


def test_compose_ps_logs_and_down_of_an_environment_use_its_live_colour(project: Path) -> None:
    assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
    ps = mlopsctl(project, "compose", "ps", "staging")
    assert ps.returncode == 0, ps.stderr
    assert f"{project.name}-staging-blue" in ps.stdout
    logs = mlopsctl(project, "compose", "logs", "staging")
    assert logs.returncode == 0, logs.stderr
    down = mlopsctl(project, "compose", "down", "staging")
    assert down.returncode == 0, down.stderr
    assert not docker("ps", "-q", "--filter",
                      f"label=com.docker.compose.project={project.name}-staging-blue")  # fmt: skip


def test_scripts_get_the_environment_and_never_ask_again(project: Path) -> None:
    folder = project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_production.sh").write_text('#!/usr/bin/env bash\necho "$@" > args.txt\n')
    (folder / "rollback.sh").write_text('#!/usr/bin/env bash\necho "$@" > rollback.txt\n')
    out = mlopsctl(project, "deploy", "production", "--version", "v1", "--yes")
    assert out.returncode == 0, out.stderr
    assert (project / "args.txt").read_text().split() == ["v1", "--yes"]
    back = mlopsctl(project, "rollback", "v1", "--env", "production", "--yes")
    assert back.returncode == 0, back.stderr
    assert (project / "rollback.txt").read_text().split() == ["v1", "--env", "production", "--yes"]
    rows = json.loads(mlopsctl(project, "releases", "--json").stdout)["releases"]
    assert [(r["environment"], r["action"]) for r in rows] == [
        ("production", "deploy"),
        ("production", "rollback"),
    ]


def test_a_deploy_through_the_script_is_one_row_and_one_notification(project: Path) -> None:
    folder = project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text(
        "#!/usr/bin/env bash\nset -e\nv=$1; shift\n"
        f'exec {sys.executable} -m mlopsctl deploy staging --version "$v" --strategy blue-green "$@"\n'
    )
    out = mlopsctl(project, "deploy", "staging", "--version", "v1", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(mlopsctl(project, "releases", "--json").stdout)["releases"]
    assert [(r["strategy"], r["outcome"]) for r in rows] == [("script", "success")]
    assert attached_colours(project) == {"blue"}


def test_a_failing_compose_up_keeps_its_reason(project: Path) -> None:
    out = deploy(project, "deploy", "staging", "--version", "v404")
    assert out.returncode == 1
    message = json.loads(out.stdout)["release"]["message"]
    assert "compose up failed" in message and "nothing still serves" in message
    rows = json.loads(mlopsctl(project, "releases", "--json").stdout)["releases"]
    assert rows[-1]["outcome"] == "failed" and "compose up failed" in rows[-1]["message"]


def test_no_engine_is_exit_4_on_the_script_path_too(project: Path) -> None:
    folder = project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text("#!/usr/bin/env bash\ndocker build .\n")
    out = mlopsctl(project, "deploy", "staging", "--version", "v1",
                   env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})  # fmt: skip
    assert out.returncode == 4, out.stderr
    assert "No Docker engine answers" in out.stderr
