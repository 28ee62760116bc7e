"""The one place that runs subprocesses: argument lists only, never a shell string."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from mlopsctl.errors import CommandFailed, Missing


class Running:
    """A started command; :meth:`finish` waits for it (see :func:`start`)."""

    def __init__(self, cmd: list[str], child: subprocess.Popen[str], input: str | None) -> None:
        self.cmd = cmd
        self.child = child
        self.input = input

    def finish(
        self, check: bool = True, timeout: float | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Wait for the command; with ``check``, a non-zero exit is :class:`CommandFailed`."""
        child = self.child
        with child:
            try:
                out, err = child.communicate(self.input, timeout=timeout)
            except KeyboardInterrupt:
                # the child got the same Ctrl-C: let it finish its own report (pytest prints
                # one); a second Ctrl-C stops it
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
        done = subprocess.CompletedProcess(self.cmd, child.returncode, out, err)
        if check and done.returncode != 0:
            raise CommandFailed(self.cmd, done.returncode, (err or "") + (out or ""))
        return done


def start(
    cmd: Sequence[str],
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    capture: bool = True,
    input: str | None = None,
    pass_fds: Sequence[int] = (),
    output_fd: int | None = None,
) -> Running:
    """Start ``cmd`` (an argument list, never a shell string); a missing program is
    :class:`Missing`. The caller may work while it runs, then calls ``finish``.
    ``output_fd``: where its stdout and stderr go instead (not captured)."""
    pipe: int | None = subprocess.PIPE if capture else output_fd
    try:
        child = subprocess.Popen(
            list(cmd), cwd=cwd, env=dict(env) if env is not None else None, text=True,
            stdin=subprocess.PIPE if input is not None else None, stdout=pipe, stderr=pipe,
            pass_fds=tuple(pass_fds),
        )  # fmt: skip
    except FileNotFoundError:
        if cwd is not None and not Path(cwd).is_dir():
            raise Missing(
                f"The folder {cwd} that `{cmd[0]}` was to run in does not exist; create it or "
                "run from another folder."
            ) from None
        raise Missing(f"`{cmd[0]}` was not found on PATH; install it and try again.") from None
    return Running(list(cmd), child, input)


def run(
    cmd: Sequence[str],
    cwd: Path | str | None = None,
    env: Mapping[str, str] | None = None,
    check: bool = True,
    capture: bool = True,
    input: str | None = None,
    timeout: float | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to its end; a missing program is :class:`Missing`, a failure (with
    ``check``) :class:`CommandFailed`."""
    return start(cmd, cwd, env, capture, input).finish(check, timeout)


def find_tool(name: str) -> str | None:
    """A program installed beside this interpreter (a console script of the same
    environment, e.g. pre-commit or actionlint), else the one on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)
