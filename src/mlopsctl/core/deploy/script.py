"""The project's own deploy: ``scripts/deploy/deploy_<env>.sh VERSION --yes`` (or
``rollback.sh VERSION --env ENV --yes``), run under the environment's lock.

The script gets ``MLOPS_VERSION``, ``MLOPS_ENV`` and the lock (``MLOPS_DEPLOY_LOCK``; the held
``flock`` is inherited, so it lasts as long as the script even if mlopsctl is killed), so that
its own ``mlopsctl deploy`` neither asks again, nor loses the environment, nor waits on its
parent. Its exit code decides: 0 success, 3 refused (a lock held elsewhere: exit 3, no failed
row), anything else failed.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mlopsctl.core import proc
from mlopsctl.core.deploy.lock import NESTED_LOCK

if TYPE_CHECKING:
    from mlopsctl.core.deploy.rollout import Attempt

REFUSED = 3  # mlopsctl's exit code for a held lock, passed through by the generated scripts


def run(attempt: Attempt, stream: bool, lock_fd: int | None) -> None:
    p, root, rel = attempt.plan, attempt.root, attempt.release
    env = {**os.environ, "MLOPS_VERSION": p.version, "MLOPS_ENV": p.environment}
    env[NESTED_LOCK] = f"{p.environment}:{os.getpid()}"  # a nested deploy shares our lock
    assert p.script is not None
    args = [p.version, "--yes"]
    if p.action == "rollback":
        args = [p.version, "--env", p.environment, "--yes"]
    done = proc.start(
        ["bash", p.script, *args], cwd=root, env=env, capture=not stream,
        pass_fds=() if lock_fd is None else (lock_fd,),
    ).finish(check=False)  # fmt: skip
    attempt.outcome.output = (done.stdout or "") + (done.stderr or "")
    if done.returncode == 0:
        rel.outcome = "success"
    elif done.returncode == REFUSED:
        rel.outcome = "refused"
        rel.message = f"{p.script} exited with 3: a deploy lock is held elsewhere; try again"
    else:
        rel.message = f"{p.script} exited with {done.returncode}"
