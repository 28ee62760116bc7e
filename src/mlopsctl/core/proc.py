"""The one place that runs subprocesses: argument lists only, never a shell string."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
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
    meanwhile: Callable[[], object] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd``; a missing program is :class:`Missing`, a failure :class:`CommandFailed`.

    ``meanwhile`` runs in this process while the command runs (an error of it is raised
    once the command has ended).
    """
    pipe = subprocess.PIPE if capture else None
    try:
        child = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env) if env is not None else None, text=True,
            stdin=subprocess.PIPE if input is not None else None, stdout=pipe, stderr=pipe,
        )  # fmt: skip
    except FileNotFoundError:
        raise Missing(f"`{cmd[0]}` was not found on PATH; install it and try again.") from None
    with child:
        try:
            if meanwhile is not None:
                meanwhile()
        except Exception:
            child.communicate(input, timeout=timeout)  # let it end as it would have
            raise
        try:
            out, err = child.communicate(input, timeout=timeout)
        except KeyboardInterrupt:
            # the child got the same Ctrl-C: let it finish its own report (pytest prints one);
            # a second Ctrl-C stops it
            try:
                child.wait()
            except KeyboardInterrupt:
                child.kill()
                child.wait()
            raise
        except BaseException:  # a timeout: as subprocess.run, stop it
            child.kill()
            child.wait()
            raise
    done = subprocess.CompletedProcess(list(cmd), child.returncode, out, err)
    if check and done.returncode != 0:
        raise CommandFailed(list(cmd), done.returncode, (err or "") + (out or ""))
    return done


def find_tool(name: str) -> str | None:
    """A program installed beside this interpreter (a console script of the same
    environment, e.g. pre-commit or actionlint), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)
