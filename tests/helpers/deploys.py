"""Projects to deploy, deploys whose killed process stays a zombie, and races of two clones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

from mlopsctl.core.scaffold import create
from tests.conftest import git, set_environments

# A parent that starts its command in a session of its own, prints the child's pid and then
# never waits for it: once the child is killed it stays a zombie (as under a container without
# an init, or a CI runner that does not reap) until this parent goes.
UNREAPING_PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen(sys.argv[1:], start_new_session=True,\n"
    "                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(3600)\n"
)


def new_project(
    tmp_path: Path, compose_file: str, environments: str, prefix: str = "t", script: str = ""
) -> Path:
    """A committed project named ``<prefix><8 hex>`` with ``compose_file`` for staging and
    ``environments`` (YAML under ``environments:``), and ``script`` as its
    ``scripts/deploy/deploy_staging.sh`` when given."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    root = tmp_path / name
    create.plan_init(root, name=name).apply()
    create.init_git(root)
    (root / "docker/docker-compose.staging.yml").write_text(compose_file)
    config = root / "mlops.yaml"
    set_environments(config, environments)
    if script:
        folder = root / "scripts/deploy"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "deploy_staging.sh").write_text(script)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: init", "--no-verify")
    return root


def own_images(root: Path, *versions: str) -> str:
    """Tags of the run's test images under a repository of the project's own
    (``<project>-app``), its compose files pointed at them: a test that moves or removes tags
    must never touch the images the other tests of the run share. Removed with the project's
    other objects (tests/helpers/engine.py)."""
    from tests.system.conftest import IMAGE

    repo = f"{root.name}-app"
    for version in versions:
        subprocess.run(["docker", "tag", f"{IMAGE}:{version}", f"{repo}:{version}"], check=True)
    for compose in (root / "docker").glob("docker-compose.*.yml"):
        compose.write_text(compose.read_text().replace(f"{IMAGE}:", f"{repo}:"))
    return repo


def generated_style_script() -> str:
    """What the model-serving template's deploy script does, minus the image build: it hands
    over to mlopsctl's built-in strategy and passes its exit code on."""
    return (
        "#!/usr/bin/env bash\nset -euo pipefail\nversion=$1; shift\n"
        f'exec {sys.executable} -m mlopsctl deploy staging --version "$version" "$@"\n'
    )


def deploy_args(version: str) -> list[str]:
    return [sys.executable, "-m", "mlopsctl", "deploy", "staging", "--version", version, "--json"]


class Unreaped:
    """``mlopsctl deploy`` started under a parent that never reaps it."""

    def __init__(self, project: Path, version: str) -> None:
        self.parent = subprocess.Popen(
            [sys.executable, "-c", UNREAPING_PARENT, *deploy_args(version)],
            cwd=project, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.parent.stdout is not None
        self.pid = int(self.parent.stdout.readline())

    def kill(self) -> None:
        """SIGKILL to the deploy's whole process group (it, its script, its compose)."""
        os.killpg(self.pid, signal.SIGKILL)
        for _ in range(400):  # until the kernel shows it dead (no timing is asserted)
            if state(self.pid) == "Z":
                return
            time.sleep(0.01)
        raise AssertionError(f"pid {self.pid} did not become a zombie: {state(self.pid)!r}")

    def running(self) -> bool:
        return state(self.pid) not in ("Z", "")

    def close(self) -> None:
        self.parent.kill()
        self.parent.wait()


def state(pid: int) -> str:
    """The process state letter of ``pid`` (``Z``: a zombie), "" when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""


def rows(project: Path, env: str = "staging") -> list[dict[str, object]]:
    from tests.system.conftest import mlopsctl

    out = mlopsctl(project, "releases", "--env", env, "--json")
    assert out.returncode == 0, out.stderr
    found: list[dict[str, object]] = json.loads(out.stdout)["releases"]
    return found


def started_rows(project: Path) -> int:
    from mlopsctl.core.deploy.history import Store

    return len(Store(project.name).rows("staging"))


class Finished:
    """A finished racer: its pid, exit code and output."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        out, err = proc.communicate(timeout=300)
        self.pid, self.returncode, self.stdout, self.stderr = proc.pid, proc.returncode, out, err

    def __repr__(self) -> str:
        return (
            f"<pid {self.pid} exit {self.returncode}: {self.stderr[-800:]} {self.stdout[-1500:]}>"
        )


def race(first: Path, second: Path, version: str) -> tuple[Finished, Finished]:
    """Start the same deploy from two clones at once; both finished."""
    racers = tuple(
        subprocess.Popen(
            deploy_args(version),
            cwd=where,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for where in (first, second)
    )
    return Finished(racers[0]), Finished(racers[1])
