"""A blue-green and a canary `mlopsctl deploy` of a healthy version against plain compose +
wait.

Baseline: `docker-compose up -d` (recreating the service with the new version) followed by
polling `docker inspect` until the container is healthy. mlopsctl: `mlopsctl deploy staging`
(take the engine lock, start the idle colour with its labels, wait healthy, move the service
names on the environment network to it, keep its image, stop the old colour, record the
release). The bake and the drain (`environments.<env>.bake` and `.drain`) are set to 0 here:
they are waits the user chooses, not work, and they overlap (the old colour drains while the
new one bakes), so a deploy with them takes max(bake, drain) longer; the run prints the
defaults for this service apart.

The canary (`strategy: canary`, 3 samples 1 s apart, scraped from the canary's metrics) is
timed against the blue-green deploy of the same change: its time beyond samples x interval is
the work canary adds (starting beside the live version, scraping, promoting).
Versions alternate so every sample replaces a running container in every case. Needs a Docker
engine and busybox-static (for the FROM scratch test image).

With --swarm it also times a swarm deploy: `mlopsctl deploy` of an environment with
`engine: swarm` against a plain `docker stack deploy --detach=false` of the same change
(a one-node swarm is created for the run when the engine is not in one, and left after).

Usage: python benchmarks/deploy.py [--rounds N] [--swarm]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import MLOPSCTL, report, sample_alternately

IMAGE = "mlopsctl-bench-app"
COMPOSE = """services:
  api:
    image: mlopsctl-bench-app:${MLOPS_VERSION}
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 3
"""


def compose_cmd() -> list[str]:
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return ["docker-compose"]


METRICS = """#!/bin/busybox sh
echo "Content-Type: text/plain; version=0.0.4"
echo
echo "# TYPE model_prediction_confidence_mean gauge"
echo "model_prediction_confidence_mean 0.9"
"""
CANARY = """  canary:
    drain: 0
    bake: 0
    strategy: canary
    analysis:
      interval: 1
      samples: 3
      scrape: {port: 8080, path: /cgi-bin/metrics}
      metrics:
        confidence: {kind: gauge, selector: model_prediction_confidence_mean, min: 0.5}
"""
SAMPLES_TIMES_INTERVAL = 3.0


def build(work: Path) -> None:
    ctx = work / "image"
    (ctx / "www" / "cgi-bin").mkdir(parents=True)
    shutil.copy(shutil.which("busybox") or "/bin/busybox", ctx / "busybox")
    (ctx / "www" / "health").write_text("ok")
    (ctx / "www" / "cgi-bin" / "metrics").write_text(METRICS)
    (ctx / "www" / "cgi-bin" / "metrics").chmod(0o755)
    (ctx / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n"
        'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n'
    )
    for tag in ("v1", "v2"):
        subprocess.run(["docker", "build", "-q", "-t", f"{IMAGE}:{tag}", str(ctx)], check=True,
                       capture_output=True)  # fmt: skip


def wait_healthy(project: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        label = f"label=com.docker.compose.project={project}"
        ids = subprocess.run(["docker", "ps", "-q", "--filter", label],
                             capture_output=True, text=True).stdout.split()  # fmt: skip
        if ids:
            states = subprocess.run(["docker", "inspect", "-f", "{{.State.Health.Status}}", *ids],
                                    capture_output=True, text=True).stdout.split()  # fmt: skip
            if states and all(s == "healthy" for s in states):
                return
        time.sleep(0.25)
    raise SystemExit(f"{project} did not become healthy")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--swarm", action="store_true", help="also time a swarm deploy")
    args = parser.parse_args()
    if subprocess.run(["docker", "info"], capture_output=True).returncode != 0 or not MLOPSCTL:
        sys.exit("needs a Docker engine and mlopsctl on PATH")
    work = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-"))
    compose = compose_cmd()
    plain = [*compose, "-p", "mlopsctlbenchplain", "-f", str(work / "plain.yml")]
    project = work / "benchp"
    try:
        build(work)
        (work / "plain.yml").write_text(COMPOSE)
        subprocess.run([MLOPSCTL, "init", str(project), "--no-git", "--name", "benchp"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        for env in ("staging", "canary"):
            (project / "docker" / f"docker-compose.{env}.yml").write_text(COMPOSE)
        config = project / "mlops.yaml"
        head = config.read_text().split("\nenvironments:", 1)[0]
        config.write_text(f"{head}\nenvironments:\n  staging: {{drain: 0, bake: 0}}\n{CANARY}")

        def version(i: int) -> str:
            return "v1" if i % 2 == 0 else "v2"

        def plain_up(i: int) -> float:
            env = {**os.environ, "MLOPS_VERSION": version(i)}
            start = time.perf_counter()
            subprocess.run([*plain, "up", "-d"], check=True, capture_output=True, env=env)
            wait_healthy("mlopsctlbenchplain")
            return time.perf_counter() - start

        def deploy(i: int) -> float:
            start = time.perf_counter()
            subprocess.run([MLOPSCTL, "deploy", "staging", "--version", version(i)], cwd=project,
                           check=True, capture_output=True)  # fmt: skip
            return time.perf_counter() - start

        def blue_green_on_canary_env(i: int) -> float:
            start = time.perf_counter()
            cmd = [MLOPSCTL, "deploy", "canary", "--version", version(i)]
            subprocess.run([*cmd, "--strategy", "blue-green"], cwd=project, check=True,
                           capture_output=True)  # fmt: skip
            return time.perf_counter() - start

        def canary(i: int) -> float:
            start = time.perf_counter()
            subprocess.run([MLOPSCTL, "deploy", "canary", "--version", version(i)], cwd=project,
                           check=True, capture_output=True)  # fmt: skip
            return time.perf_counter() - start - SAMPLES_TIMES_INTERVAL

        baseline = f"{' '.join(compose)} up -d + wait healthy (baseline)"
        samples = sample_alternately(
            {baseline: plain_up, "mlopsctl deploy staging (blue-green, bake 0, drain 0)": deploy},
            args.rounds, warmup=1,
        )  # fmt: skip
        report("blue-green deploy vs plain compose up + wait", samples, baseline)
        print("  waits the user chooses, apart from the above: the default bake here is 3 health"
              " intervals = 3 s, the default drain 3 s; they overlap: +3 s with both")  # fmt: skip
        blue_green = "mlopsctl deploy --strategy blue-green (baseline)"
        samples = sample_alternately(
            {blue_green: blue_green_on_canary_env,
             f"mlopsctl deploy (canary) minus {SAMPLES_TIMES_INTERVAL:g} s of samples": canary},
            args.rounds, warmup=1,
        )  # fmt: skip
        report("canary vs blue-green of the same change (goal: at most 1.2x)", samples,
               blue_green)  # fmt: skip
        if args.swarm:
            swarm_case(work, project, args.rounds, version)
    finally:
        subprocess.run([*plain, "down", "-t", "1"], capture_output=True)
        for env_name in ("staging", "canary"):
            file = str(project / f"docker/docker-compose.{env_name}.yml")
            for colour in ("blue", "green"):
                down = [
                    *compose,
                    "-p",
                    f"benchp-{env_name}-{colour}",
                    "-f",
                    file,
                    "down",
                    "-t",
                    "1",
                ]
                env = {**os.environ, "MLOPS_VERSION": "v1"}
                subprocess.run(down, capture_output=True, env=env)
            subprocess.run(["docker", "network", "rm", f"benchp-{env_name}"], capture_output=True)
            tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}",
                                   f"mlopsctl-keep/benchp-{env_name}"], capture_output=True,
                                  text=True).stdout.split()  # fmt: skip
            if tags:
                subprocess.run(["docker", "rmi", *tags], capture_output=True)
        subprocess.run(["docker", "rm", "-f", *subprocess.run(
            ["docker", "ps", "-aq", "--filter", "label=io.mlopsctl.project=benchp"],
            capture_output=True, text=True).stdout.split()], capture_output=True)  # fmt: skip
        subprocess.run(["docker", "rmi", f"{IMAGE}:v1", f"{IMAGE}:v2"], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


SWARM = """version: "3.8"
services:
  api:
    image: mlopsctl-bench-app:${MLOPS_VERSION}
    deploy:
      replicas: 2
      endpoint_mode: dnsrr
      update_config: {order: start-first, failure_action: rollback, monitor: 5s, parallelism: 1}
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 3
      start_period: 1s
"""


def swarm_case(work: Path, project: Path, rounds: int, version: Any) -> None:
    state = subprocess.run(["docker", "info", "--format", "{{.Swarm.LocalNodeState}}"],
                           capture_output=True, text=True).stdout.strip()  # fmt: skip
    created = state != "active"
    if created:
        subprocess.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], check=True,
                       capture_output=True)  # fmt: skip
    try:
        (work / "stack.yml").write_text(SWARM)
        (project / "docker" / "docker-compose.swarmenv.yml").write_text(SWARM)
        config = project / "mlops.yaml"
        config.write_text(config.read_text().replace(
            "staging: {drain: 0, bake: 0}",
            "staging: {drain: 0, bake: 0}\n  swarmenv: {engine: swarm, bake: 0}"))  # fmt: skip

        def plain(i: int) -> float:
            env = {**os.environ, "MLOPS_VERSION": version(i)}
            start = time.perf_counter()
            subprocess.run(["docker", "stack", "deploy", "--resolve-image", "never",
                            "--detach=false", "-c", str(work / "stack.yml"), "benchplain"],
                           check=True, capture_output=True, env=env)  # fmt: skip
            return time.perf_counter() - start

        def ours(i: int) -> float:
            start = time.perf_counter()
            subprocess.run([MLOPSCTL, "deploy", "swarmenv", "--version", version(i)],
                           cwd=project, check=True, capture_output=True)  # fmt: skip
            return time.perf_counter() - start

        samples = sample_alternately(
            {"docker stack deploy --detach=false (baseline)": plain,
             "mlopsctl deploy (engine: swarm)": ours},
            rounds, warmup=1,
        )  # fmt: skip
        report("swarm deploy vs plain docker stack deploy", samples,
               "docker stack deploy --detach=false (baseline)")  # fmt: skip
    finally:
        for stack in ("benchplain", "benchp-swarmenv"):
            subprocess.run(["docker", "stack", "rm", stack], capture_output=True)
        if created:
            subprocess.run(["docker", "swarm", "leave", "--force"], capture_output=True)


if __name__ == "__main__":
    main()
