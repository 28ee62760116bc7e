"""A plan of file actions, computed before anything is written, then applied atomically.

Actions follow copier's vocabulary: ``create`` (new file), ``identical`` (already as it would
be), ``conflict`` (differs; stops the run unless forced), ``overwrite`` (differs, forced) and
``keep`` (exists and the template says to keep it) and ``update`` (an existing file gains the
lines it lacks, e.g. a requirement a template needs).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.core.scaffold.render import RenderedFile
from mlopsctl.errors import Conflict

WRITES = ("create", "overwrite", "update")


@dataclass(frozen=True)
class FileAction:
    path: str
    action: str
    file: RenderedFile


@dataclass
class Plan:
    root: Path
    actions: list[FileAction] = field(default_factory=list)

    @property
    def conflicts(self) -> list[FileAction]:
        return [a for a in self.actions if a.action == "conflict"]

    @property
    def writes(self) -> list[FileAction]:
        return [a for a in self.actions if a.action in WRITES]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for a in self.actions:
            out[a.action] = out.get(a.action, 0) + 1
        return out

    def as_dict(self) -> dict[str, object]:
        return {
            "root": str(self.root),
            "actions": [{"path": a.path, "action": a.action} for a in self.actions],
            "counts": self.counts(),
        }


def build(root: Path, files: list[RenderedFile], force: bool = False) -> Plan:
    """Compare each rendered file with what is on disk."""
    plan = Plan(root)
    for f in sorted(files, key=lambda f: f.path):
        target = root / f.path
        if target.is_dir():
            action = "conflict"
        elif not target.exists():
            action = "create"
        elif f.existing == "keep":
            action = "keep"
        elif f.existing == "append":
            merged = merge_lines(target.read_bytes(), f.content)
            action = "identical" if merged is None else "update"
            if merged is not None:
                f = RenderedFile(f.path, merged, f.executable, f.existing)
        elif target.read_bytes() == f.content:
            action = "identical"
        else:
            action = "overwrite" if force else "conflict"
        plan.actions.append(FileAction(f.path, action, f))
    return plan


def merge_lines(current: bytes, wanted: bytes) -> bytes | None:
    """``current`` plus the lines of ``wanted`` it lacks (None when it lacks none)."""
    have = {line.strip() for line in current.decode("utf-8", "replace").splitlines()}
    missing = [
        line for line in wanted.decode("utf-8").splitlines()
        if line.strip() and not line.startswith("#") and line.strip() not in have
    ]  # fmt: skip
    if not missing:
        return None
    text = current.decode("utf-8", "replace")
    if text and not text.endswith("\n"):
        text += "\n"
    return (text + "\n".join(missing) + "\n").encode("utf-8")


def ensure_no_conflicts(plan: Plan, command: str) -> None:
    conflicts = plan.conflicts
    if conflicts:
        first = conflicts[0].path
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise Conflict(
            f"{first}{more} already exist{'s' if not more else ''} with other content; "
            f"nothing was written: re-run `{command}` with --force to overwrite, "
            "or --dry-run to see the plan."
        )


def apply(plan: Plan, extra: dict[str, bytes] | None = None) -> list[str]:
    """Write every ``create``/``overwrite`` (and ``extra`` files) all-or-nothing.

    All contents are first staged as temporary files beside their targets; only then are they
    renamed into place. A failure at any point removes what was staged, restores replaced
    files and removes folders this call created.
    """
    ensure_no_conflicts(plan, "the command")
    items = [(plan.root / a.path, a.file.content, a.file.executable) for a in plan.writes]
    items += [(plan.root / rel, data, False) for rel, data in (extra or {}).items()]
    created_dirs: list[Path] = []
    staged: list[tuple[Path, Path]] = []
    backups: list[tuple[Path, Path | None]] = []  # target, backup of what it replaced
    try:
        for target, data, executable in items:
            _make_parents(target.parent, created_dirs)
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(name), target))
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.chmod(name, 0o755 if executable else 0o644)
        for tmp, target in staged:
            backup = None
            if target.exists():
                backup = target.with_name(f".{target.name}.mlopsctl-backup")
                os.replace(target, backup)
            backups.append((target, backup))
            os.replace(tmp, target)
    except BaseException:
        for target, backup in reversed(backups):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        for folder in reversed(created_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise
    for _, backup in backups:
        if backup is not None:
            backup.unlink(missing_ok=True)
    return [str(t.relative_to(plan.root).as_posix()) for t, _, _ in items]


def _make_parents(folder: Path, created: list[Path]) -> None:
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)
