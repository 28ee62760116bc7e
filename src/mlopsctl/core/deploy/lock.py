"""One deploy per environment at a time: a lock file that records its holder."""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from mlopsctl.errors import Conflict

LOCK_DIR = ".mlops/state/locks"
# Set by mlopsctl for the project scripts it runs ("<env>:<pid>"): a deploy those scripts start
# for the same environment shares the lock instead of waiting on its own parent.
NESTED_LOCK = "MLOPS_DEPLOY_LOCK"


@dataclass
class Holder:
    host: str
    pid: int
    since: float
    user: str
    what: str

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"{self.user} on {self.host} (pid {self.pid}) since {when}: {self.what}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DeployLock:
    """``with DeployLock(root, "staging", "deploy v2"):`` — exit 3 while another holds it.

    A lock left by a dead process on this host is taken over; ``warnings`` says so.
    """

    def __init__(self, root: Path, environment: str, what: str) -> None:
        self.path = root / LOCK_DIR / f"deploy-{environment}.lock"
        self.environment = environment
        self.what = what
        self.warnings: list[str] = []
        self.nested = False

    def _holder(self) -> Holder | None:
        try:
            raw = json.loads(self.path.read_text())
            return Holder(
                raw["host"], int(raw["pid"]), float(raw["since"]), raw["user"], raw["what"]
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        me = Holder(socket.gethostname(), os.getpid(), time.time(), current_user(), self.what)
        payload = json.dumps(me.__dict__).encode()
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if (
                    holder is not None
                    and os.environ.get(NESTED_LOCK) == f"{self.environment}:{holder.pid}"
                ):
                    self.nested = True
                    return
                if holder is not None and (holder.host != me.host or _alive(holder.pid)):
                    raise Conflict(
                        f"A deploy to {self.environment} is already running, held by "
                        f"{holder.describe()}; wait for it, or remove {self.path} if it is gone."
                    ) from None
                stale = holder.describe() if holder else "an unreadable lock"
                self.warnings.append(f"took over a stale deploy lock ({stale})")
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "wb") as fh:
                fh.write(payload)
            return
        raise Conflict(f"Could not take the deploy lock {self.path}; try again.")

    def release(self) -> None:
        if self.nested:
            return
        holder = self._holder()
        if holder is not None and holder.pid == os.getpid():
            self.path.unlink(missing_ok=True)

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
