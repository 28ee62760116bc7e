"""File-system helpers shared by the core: atomic writes, an exclusive lock, hashing.

Import-light (``tempfile`` and ``hashlib`` load when used): the hook path writes its parse
cache through here.
"""

from __future__ import annotations

import os

from mlopsctl.errors import BadInput, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from types import TracebackType

TMP_SUFFIX = ".mlopsctl-tmp"  # every temporary file mlopsctl writes ends so (git-ignored)


def inside(root: Path, rel: str, what: str = "path") -> Path:
    """``root / rel`` when it stays inside ``root``; else bad input naming it.

    The one containment rule for every path mlopsctl reads or writes for a project (record
    entries, template outputs, journal entries, ``--from`` sources): relative, no ``.``/``..``
    parts, nothing inside a ``.git`` folder (git's own files and hooks are never mlopsctl's to
    write or remove), and no folder on the way (nor the file itself) a symbolic link that
    leads out of the root.
    """
    parts = rel.split("/")
    if any(p.casefold() == ".git" for p in parts):
        raise BadInput(
            f"{what} '{one_line(rel)}' lies inside a .git folder; mlopsctl never reads, writes "
            "or removes git's own files: remove that entry."
        )
    bad = (
        not rel
        or rel.startswith("/")
        or "\\" in rel
        or "\0" in rel
        or len(rel) > 4096
        or any(p in ("", ".", "..") for p in parts)
    )
    if not bad:
        real_root = os.path.realpath(root)
        target = os.path.join(root, *parts)
        for probe in (os.path.dirname(target), target):
            real = os.path.realpath(probe)
            if real != real_root and not real.startswith(real_root + os.sep):
                bad = True
                break
    if bad:
        raise BadInput(
            f"{what} '{one_line(rel)}' leads outside the project at {one_line(str(root))}; "
            "every path mlopsctl writes or reads for a project must stay inside it."
        )
    from pathlib import Path

    return Path(root, *parts)


def temp_name(path: Path) -> str:
    """A unique temporary file name beside ``path``, marked as mlopsctl's own."""
    import secrets

    # 128 random bits: names never collide, however many files one run stages
    return os.path.join(
        os.path.dirname(path), f".{path.name[:64]}.{secrets.token_hex(16)}{TMP_SUFFIX}"
    )


def atomic_write(path: Path, data: bytes, mode: int | None = None) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename: a reader, or a
    process killed at any point, sees the old content or the new, never a part.

    Like git's defaults, nothing is fsynced: the guarantee covers the death of the process
    (kill -9, an error), not a power cut, and costs no disk flush per file.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = write_temp(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_temp(path: Path, data: bytes, mode: int | None = None) -> str:
    """Write ``data`` to a new temporary file beside ``path``; its name."""
    tmp = temp_name(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666 if mode is None else mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str) -> None:
    try:  # noqa: SIM105 - contextlib.suppress would load contextlib on the hooks' path
        os.unlink(path)
    except FileNotFoundError:
        pass


def sha256(data: bytes) -> str:
    import hashlib

    return hashlib.sha256(data).hexdigest()


class FileLock:
    """An exclusive ``flock`` on a file or folder: held until released or the holder dies.

    The kernel releases it with the last descriptor, so a killed holder never leaves a stale
    lock behind and two processes never hold it at once. ``info`` (one line) is written into
    the file while held, to tell others who holds it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    def acquire(self, info: str = "", wait: bool = False) -> bool:
        """Take the lock; without ``wait``, False when another process holds it."""
        import fcntl

        if os.path.isdir(self.path):  # a folder is locked through a read-only descriptor
            fd = os.open(self.path, os.O_RDONLY)
            info = ""
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        if info:
            os.ftruncate(fd, 0)
            os.pwrite(fd, info.encode("utf-8", "replace") + b"\n", 0)
        return True

    def holder(self) -> str:
        """What the current holder wrote into the lock file ("" when unknown)."""
        try:
            return self.path.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return ""

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None

    def __enter__(self) -> FileLock:
        self.acquire(wait=True)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
