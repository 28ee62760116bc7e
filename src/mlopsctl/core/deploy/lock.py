"""One deploy per environment at a time: the locks, and who holds them.

Two locks, one rule (a second deploy gets exit 3 naming the holder; a holder that died holds
nothing):

- :class:`EngineLock`, the one every clone and runner sees: a container named
  ``mlopsctl-lock-<project>-<env>`` made from an empty image. The engine refuses a second
  container of that name, so exactly one process holds it. Its labels name the holder, its host
  (with the boot id) and process (with the process's start time), and a lease. A holder on the
  same host that died (a zombie included) is seen at once; one on another host after its lease.
- :class:`DeployLock`, an exclusive ``flock`` in the checkout, for a project script's deploy
  where no engine answers (the kernel drops it when its holder dies).

A deploy that mlopsctl runs a project script for passes ``MLOPS_DEPLOY_LOCK=<env>:<pid>`` to
it, so the script's own ``mlopsctl deploy`` shares the lock instead of waiting on its parent.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from mlopsctl.core.fs import FileLock
from mlopsctl.errors import Conflict

LOCK_DIR = ".mlops/state/locks"
NESTED_LOCK = "MLOPS_DEPLOY_LOCK"
LABEL = "io.mlopsctl.lock"
RACE_SECONDS = 15.0  # how long a contended lock is asked for before the deploy gives up


def current_user() -> str:
    try:
        import getpass

        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name is not a reason to fail a deploy
        return "unknown"


def boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as fh:
            return fh.read().strip()
    except OSError:
        return ""


def process_start(pid: int) -> str:
    """The start time of process ``pid`` (clock ticks since boot), "" when it is gone or
    dead: a zombie (state Z, a killed process its parent has not reaped) holds nothing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return ""
    if len(fields) < 20 or fields[0] in ("Z", "X", "x"):
        return ""
    return fields[19]


def nesting_pid(environment: str) -> int | None:
    """The pid of the deploy whose script runs this process for ``environment``, if any."""
    env, _, pid = os.environ.get(NESTED_LOCK, "").partition(":")
    return int(pid) if env == environment and pid.isdigit() else None


class DeployLock:
    """``with DeployLock(root, "staging", "deploy v2"):`` exit 3 while another holds it."""

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
            pid = nesting_pid(self.environment)
            if pid is not None and f"(pid {pid})" in holder:
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


@dataclass
class Holder:
    what: str
    user: str
    host: str
    boot: str
    pid: int
    started: str
    since: float
    lease_until: float

    def describe(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.since))
        return f"{self.user} on {self.host} (pid {self.pid}) since {when}: {self.what}"

    def alive(self) -> bool:
        if self.boot and self.boot == boot_id():  # this machine: ask the process table
            return bool(self.started) and process_start(self.pid) == self.started
        return time.time() < self.lease_until


def read_holder(container: Any) -> Holder | None:
    try:
        data = json.loads((container.labels or {}).get(LABEL, ""))
        return Holder(**data) if isinstance(data, dict) else None
    except (TypeError, ValueError):
        return None


class EngineLock:
    """``with EngineLock(client, project, env, what, lease):`` one deploy per environment."""

    def __init__(self, client: Any, project: str, environment: str, what: str, lease: float):
        self.client = client
        self.name = f"mlopsctl-lock-{project}-{environment}"
        self.project, self.environment = project, environment
        self.what, self.lease = what, lease
        self.container: Any = None
        self.deadline = 0.0
        self.nested = False
        self.warnings: list[str] = []
        self.pause = time.sleep  # between attempts on a contended lock

    def _labels(self) -> dict[str, str]:
        from mlopsctl.core.deploy.engine import ENVIRONMENT, PROJECT

        now = time.time()
        self.deadline = now + self.lease
        holder = {
            "what": self.what, "user": current_user(), "host": socket.gethostname(),
            "boot": boot_id(), "pid": os.getpid(), "started": process_start(os.getpid()),
            "since": now, "lease_until": self.deadline,
        }  # fmt: skip
        return {LABEL: json.dumps(holder), PROJECT: self.project, ENVIRONMENT: self.environment}

    def _shared(self, holder: Holder | None, current: Any) -> bool:
        """Whether the holder is the deploy that runs this process's script: then share it."""
        pid = nesting_pid(self.environment)
        if holder is None or pid is None or holder.pid != pid or holder.boot != boot_id():
            return False
        if not holder.alive():
            return False
        self.nested, self.container = True, current
        self.deadline = holder.lease_until
        return True

    def acquire(self) -> None:
        import docker.errors

        from mlopsctl.core.deploy.engine import LOCK_IMAGE, lock_image

        lock_image(self.client)
        last: Holder | None = None
        # The engine reserves a container's name before the container can be read: while
        # another deploy's lock is being created, its name is taken but nothing answers to it
        # (on a loaded machine, for a good part of a second). So retry with a pause, bounded.
        deadline = time.monotonic() + RACE_SECONDS
        attempt = takeovers = 0
        while time.monotonic() < deadline and takeovers < 8:
            if attempt:
                self.pause(min(0.01 * 2**attempt, 0.5))
            attempt += 1
            try:
                self.container = self.client.containers.create(
                    LOCK_IMAGE, command="lock", name=self.name, labels=self._labels()
                )
                return
            except docker.errors.NotFound:
                # created, then removed before the SDK read it back (a stale-lock takeover
                # by another deploy in the same instant), or the lock image was removed:
                # not ours, try again
                lock_image(self.client)
                continue
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
            try:
                current = self.client.containers.get(self.name)
            except docker.errors.NotFound:
                continue  # released meanwhile: try again
            holder = read_holder(current)
            if self._shared(holder, current):
                return
            last = holder or last
            if holder is not None and holder.alive():
                raise Conflict(
                    f"A deploy to {self.environment} is already running, held by "
                    f"{holder.describe()}; wait for it to finish."
                )
            gone = holder.describe() if holder else "an unreadable lock"
            with contextlib.suppress(docker.errors.NotFound):
                current.remove(force=True)  # by id: only that stale lock, never a new one
            takeovers += 1
            self.warnings.append(f"took over the lock of a deploy that is gone ({gone})")
        held = f", held by {last.describe()}" if last is not None else ""
        raise Conflict(
            f"A deploy to {self.environment} is already running{held} (the lock "
            f"{self.name} changed hands while this deploy asked for it); wait and try again."
        )

    def check(self) -> None:
        """Before changing traffic: the lock is still ours and its lease still runs."""
        import docker.errors

        try:
            current = self.client.containers.get(self.name)
        except docker.errors.NotFound:
            current = None
        if current is None or self.container is None or current.id != self.container.id:
            raise Conflict(f"The deploy lock {self.name} was taken over; nothing was switched.")
        if time.time() >= self.deadline:
            raise Conflict(
                f"The deploy ran past its lock's lease ({self.lease:g}s); not switching."
            )

    def release(self) -> None:
        import docker.errors

        if self.container is not None and not self.nested:
            with contextlib.suppress(docker.errors.NotFound):
                self.container.remove(force=True)
        self.container = None

    def __enter__(self) -> EngineLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
