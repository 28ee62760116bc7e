"""One deploy per environment at a time: an exclusive ``flock`` that names its holder.

The kernel drops the lock when its holder dies (``kill -9`` included), so there is no stale
lock to take over and no window in which two deploys both hold it.
"""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path
from types import TracebackType

from mlopsctl.core.fs import FileLock
from mlopsctl.errors import Conflict

LOCK_DIR = ".mlops/state/locks"
# Set by mlopsctl for the project scripts it runs ("<env>:<pid>"): a deploy those scripts start
# for the same environment shares the lock instead of waiting on its own parent.
NESTED_LOCK = "MLOPS_DEPLOY_LOCK"


class DeployLock:
    """``with DeployLock(root, "staging", "deploy v2"):`` — exit 3 while another holds it."""

    def __init__(self, root: Path, environment: str, what: str) -> None:
        self.path = root / LOCK_DIR / f"deploy-{environment}.lock"
        self.environment = environment
        self.what = what
        self.warnings: list[str] = []
        self.nested = False
        self._lock = FileLock(self.path)

    @property
    def fd(self) -> int | None:
        """The held lock's descriptor: a deploy script inherits it, so the lock lasts as long
        as the script does, even if this process is killed."""
        return self._lock.fd

    def acquire(self) -> None:
        when = time.strftime("%Y-%m-%d %H:%M:%S")
        info = f"{current_user()} on {socket.gethostname()} (pid {os.getpid()}) since {when}: "
        if not self._lock.acquire(info + self.what):
            holder = self._lock.holder() or "another process"
            env, _, pid = os.environ.get(NESTED_LOCK, "").partition(":")
            if env == self.environment and pid.isdigit() and f"(pid {pid})" in holder:
                self.nested = True  # the deploy that runs our script holds it
                return
            raise Conflict(
                f"A deploy to {self.environment} is already running, held by {holder}; "
                "wait for it to finish."
            )

    def release(self) -> None:
        if not self.nested:
            self._lock.release()

    def __enter__(self) -> DeployLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def current_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not a reason to fail a deploy
        return "unknown"
