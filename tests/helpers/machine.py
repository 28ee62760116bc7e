"""What a test needs from the machine: skip where it is missing, fail under ``CI=true``.

CI must run every test, so a missing engine or tool there is a failure, not a silent skip.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess

import pytest


def on_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need(what: str, problem: str | None) -> None:
    """Nothing when ``problem`` is None; else skip with it (fail under CI)."""
    if problem is None:
        return
    if on_ci():
        pytest.fail(f"CI needs {what}: {problem}")
    pytest.skip(problem)


@functools.cache
def docker_problem() -> str | None:
    if not shutil.which("docker"):
        return "docker is not installed"
    probe = subprocess.run(["docker", "info"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"no Docker engine answers (`docker info` failed: {probe.stderr.strip()[:80]})"
    return None
