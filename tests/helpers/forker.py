"""Many runs of mlopsctl from one prepared process: each run is a fork of it.

Crash tests need hundreds of runs (one per crash point, one per kill): starting a fresh
interpreter for each costs most of their time. ``run_forked`` starts one interpreter that
imports mlopsctl once, then forks a child per job. A child is a fresh run as far as mlopsctl
can tell (its own working folder, environment, pid and output files) and ends with
``os._exit``, like the process a user starts:

- ``limit``: every file write (``os.open``), ``os.replace``, ``os.link``, ``os.unlink`` and
  ``os.rmdir`` is counted, and the child dies at call number ``limit`` (exit 137: no cleanup,
  no exit handlers), as by ``kill -9`` at that instant;
- ``kill_after``: the parent sends SIGKILL that many seconds after the fork;
- neither: the run goes to its end.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FORKER = r"""
import json, os, signal, sys, time
jobs = json.loads(sys.stdin.read())
from mlopsctl.main import main
import mlopsctl.cli.scaffold, mlopsctl.core.scaffold.create, mlopsctl.core.scaffold.update  # noqa

def child(job):
    os.chdir(job["cwd"])
    for name, fd in (("out", 1), ("err", 2)):
        f = os.open(job[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(f, fd)
        os.close(f)
    sys.stdout = open(1, "w", closefd=False)
    sys.stderr = open(2, "w", closefd=False)
    count, limit = [0], job.get("limit")
    if limit is not None:
        def counted(real):
            def call(*args, **kwargs):
                count[0] += 1
                if count[0] == limit:
                    os._exit(137)
                return real(*args, **kwargs)
            return call
        for name in ("replace", "open", "link", "unlink", "rmdir"):
            setattr(os, name, counted(getattr(os, name)))
    code = main(job["args"])
    sys.stdout.flush()
    sys.stderr.write(f"calls={count[0]}\n")
    sys.stderr.flush()
    os._exit(code)

results = []
for job in jobs:
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        try:
            child(job)
        finally:
            os._exit(70)
    if job.get("kill_after") is not None:
        time.sleep(job["kill_after"])
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    results.append(code)
print(json.dumps(results))
"""


@dataclass
class Job:
    cwd: Path
    args: list[str]
    limit: int | None = None
    kill_after: float | None = None


@dataclass
class Done:
    returncode: int  # -9 when killed by SIGKILL, 137 at a counted crash point
    stdout: str
    stderr: str

    @property
    def calls(self) -> int:
        return int(self.stderr.strip().rsplit("calls=", 1)[1])


def run_forked(jobs: list[Job], scratch: Path) -> list[Done]:
    """Run every job, one after the other, each as a fork of one prepared interpreter."""
    scratch.mkdir(parents=True, exist_ok=True)
    docs = []
    for i, job in enumerate(jobs):
        docs.append({
            "cwd": str(job.cwd), "args": job.args, "limit": job.limit,
            "kill_after": job.kill_after,
            "out": str(scratch / f"{i}.out"), "err": str(scratch / f"{i}.err"),
        })  # fmt: skip
    proc = subprocess.run(
        [sys.executable, "-c", FORKER], input=json.dumps(docs), capture_output=True, text=True,
        timeout=1200,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return [
        Done(code, _read(d["out"]), _read(d["err"])) for code, d in zip(codes, docs, strict=True)
    ]


def _read(path: str) -> str:
    """A child's output ("" when it was killed before it opened its files)."""
    try:
        return Path(path).read_text(errors="replace")
    except FileNotFoundError:
        return ""
