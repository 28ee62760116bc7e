"""The one place that runs subprocesses: argument lists only, never a shell string."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlopsctl.errors import CommandFailed, Missing


def run(
    cmd: Sequence[str],
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    capture: bool = True,
    input: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; a missing program is :class:`Missing`, a failure :class:`CommandFailed`."""
    try:
        proc = subprocess.run(
            list(cmd),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=capture,
            text=True,
            input=input,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        raise Missing(f"`{cmd[0]}` was not found on PATH; install it and try again.") from None
    if check and proc.returncode != 0:
        raise CommandFailed(list(cmd), proc.returncode, (proc.stderr or "") + (proc.stdout or ""))
    return proc


def find_tool(name: str) -> str | None:
    """A program installed beside this interpreter (a console script of the same
    environment, e.g. pre-commit or actionlint), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)
