"""A plan of file actions, computed before anything is written, then applied atomically.

Actions follow copier's vocabulary: ``create`` (new file), ``identical`` (already as it would
be), ``conflict`` (differs; stops the run unless forced), ``overwrite`` (differs, forced),
``keep`` (exists and the template says to keep it) and ``update`` (takes the new text, e.g.
a requirement a template adds). ``update`` and ``destroy-stage`` add ``merge`` (the user's
edits and the template's change, merged), ``conflicted`` (merged with conflict markers),
``modified`` (edited by the user, template unchanged: left alone), ``deleted`` (deleted by
the user: stays deleted), ``remove`` (no longer generated and pristine: removed) and
``orphan`` (no longer generated but edited: kept, no longer recorded).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.core import fs
from mlopsctl.core.scaffold.render import RenderedFile
from mlopsctl.errors import BadInput, Conflict, one_line

WRITES = ("create", "overwrite", "update", "merge", "conflicted")
REMOVALS = ("remove",)


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

    @property
    def removals(self) -> list[FileAction]:
        return [a for a in self.actions if a.action in REMOVALS]

    @property
    def conflicted(self) -> list[FileAction]:
        return [a for a in self.actions if a.action == "conflicted"]

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


def ensure_no_conflicts(plan: Plan, command: str, foreign: dict[str, str] | None = None) -> None:
    """Conflicts are exit 3. Where a conflicting file belongs to another substage, --force
    would overwrite that substage's files, so it is not offered."""
    foreign = foreign or {}
    if foreign:
        path, owner = next(iter(foreign.items()))
        more = f" (and {len(foreign) - 1} more of its files)" if len(foreign) > 1 else ""
        raise Conflict(
            f"{path}{more} belongs to substage {owner}; nothing was written: give this "
            "substage another FEATURE name (`mlopsctl new-stage X.Y NAME`), so that it gets "
            "files of its own."
        )
    conflicts = plan.conflicts
    if conflicts:
        first = conflicts[0].path
        more = f" and {len(conflicts) - 1} more" if len(conflicts) > 1 else ""
        raise Conflict(
            f"{first}{more} already exist{'s' if not more else ''} with other content; "
            f"nothing was written: re-run `{command}` with --force to overwrite, "
            "or --dry-run to see the plan."
        )


STAGING = ".mlops/tmp"  # temporary files and the journal; git-ignored by its own .gitignore
JOURNAL = "journal.json"
MAX_JOURNAL = 64 * 1024 * 1024  # bytes: a journal names files, it never holds them


def apply(
    plan: Plan, extra: dict[str, bytes] | None = None, remove: list[str] | None = None
) -> list[str]:
    """Write every write action, remove every ``remove``, then write ``extra``, all-or-nothing.

    Every content is first written to a temporary file under ``.mlops/tmp``; a journal
    naming them (and the files to remove) is written next; only then is each renamed over its
    target, or each removed file renamed aside (``extra``, whose last item is the record,
    last). A rename is atomic, so at every instant a target holds its old content or its new
    one, and the record is never absent. An error rolls back what was done (from hard-linked
    copies of the replaced files and the files set aside); a crash leaves the journal, and the
    next run under the project lock finishes it (:func:`recover`). Folders that a removal
    leaves empty are removed.

    The journal is signed with this user's journal key (:mod:`.journal`), so a journal that
    arrives with the repository is never replayed, and it names its temporary files by their
    bare names inside ``.mlops/tmp``, never by a path.
    """
    from mlopsctl.core.scaffold import journal

    ensure_no_conflicts(plan, "the command")
    root = plan.root
    gone = [a.path for a in plan.removals] + list(remove or [])
    ops: list[tuple[str, bytes | None, bool]] = [
        (a.path, a.file.content, a.file.executable) for a in plan.writes
    ]
    ops += [(rel, None, False) for rel in gone]
    ops += [(rel, data, False) for rel, data in (extra or {}).items()]
    targets = [(fs.inside(root, rel, "file"), rel, data, ex) for rel, data, ex in ops]
    staging = _staging(root)
    created_dirs: list[Path] = []
    entries: list[journal.Entry] = []
    done: list[tuple[Path, str | None]] = []  # changed targets, and the copy of what they held
    try:
        for target, rel, data, executable in targets:
            if data is None:
                if target.is_file():
                    entries.append(journal.Entry(rel, None, None, True))
                continue
            tmp = fs.write_temp(staging / "f", data, 0o755 if executable else 0o644)
            backup = None
            if target.is_file():
                backup = fs.temp_name(staging / "b")
                _copy_aside(target, backup)
            entries.append(
                journal.Entry(
                    rel, os.path.basename(tmp), backup and os.path.basename(backup), False
                )
            )
        fs.atomic_write(staging / JOURNAL, journal.dump(entries))
        for entry in entries:
            target = root / entry.path
            if entry.delete:
                aside = fs.temp_name(staging / "d")
                os.replace(target, aside)
                done.append((target, aside))
                continue
            _make_parents(target.parent, created_dirs)
            os.replace(staging / str(entry.tmp), target)
            done.append((target, entry.backup and str(staging / entry.backup)))
    except BaseException:
        for target, backup in reversed(done):
            if backup is not None:
                os.replace(backup, target)
            else:
                target.unlink(missing_ok=True)
        for folder in reversed(created_dirs):
            with contextlib.suppress(OSError):
                folder.rmdir()
        _clear_staging(root)
        raise
    # folders first, while the journal still names what was removed: a kill here is finished
    # by the next run's recovery
    _prune(root, [e.path for e in entries if e.delete])
    _clear_staging(root)
    return [e.path for e in entries]


def _prune(root: Path, removed: list[str]) -> None:
    """Remove the folders that removing ``removed`` left empty (never the root)."""
    for rel in sorted(removed, key=lambda r: -r.count("/")):
        folder = (root / rel).parent
        while folder != root and root in folder.parents:
            try:
                folder.rmdir()
            except OSError:
                break
            folder = folder.parent


def recover(root: Path) -> list[str]:
    """Finish the writes of a run that was killed after its journal was written.

    Temporary files are complete before the journal names them, so the renames and removals
    it lists can be done again; what is left of a run killed before that is removed (nothing
    had changed). A journal this user's mlopsctl did not sign, one that names anything but
    files inside the project and temporary files inside ``.mlops/tmp``, and a ``.mlops`` or
    ``.mlops/tmp`` that is a link, are refused before anything is touched. Returns the paths
    it completed.
    """
    from mlopsctl.core.scaffold import journal

    for rel in (".mlops", STAGING):
        if os.path.islink(root / rel):
            raise BadInput(
                f"{rel} in {one_line(str(root))} is a symbolic link; mlopsctl keeps its own "
                f"files there and follows no link out of the project: remove the link."
            )
    staging = root / STAGING
    if not staging.is_dir():
        return []
    path = staging / JOURNAL
    completed: list[str] = []
    if os.path.lexists(path):
        entries = journal.load(root, path, MAX_JOURNAL)
        for entry in entries:
            target = fs.inside(root, entry.path, f"{STAGING}/{JOURNAL} entry")
            if entry.delete:
                if target.is_file():
                    target.unlink()
                    completed.append(entry.path)
                continue
            tmp = staging / str(entry.tmp)
            if tmp.is_file() and not tmp.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                completed.append(entry.path)
        _prune(root, [e.path for e in entries if e.delete])
        _clear_staging(root)
        return completed
    _clear_staging(root)
    return completed


def _staging(root: Path) -> Path:
    staging = fs.inside(root, STAGING, "staging folder")
    staging.mkdir(parents=True, exist_ok=True)
    ignore = staging / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# mlopsctl's temporary files: never committed\n*\n")
    return staging


def _clear_staging(root: Path) -> None:
    staging = root / STAGING
    if not staging.is_dir() or staging.is_symlink():
        return
    # the journal goes after the files it names (a kill between leaves it to finish again),
    # the .gitignore last (the folder stays ignored while anything is in it)
    for child in sorted(os.scandir(staging), key=lambda c: c.name == JOURNAL):
        if child.name != ".gitignore" and not child.is_dir(follow_symlinks=False):
            os.unlink(child.path)
    (staging / ".gitignore").unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        staging.rmdir()
        staging.parent.rmdir()  # .mlops, when the staging folder was all it held


def _copy_aside(target: Path, backup: str) -> None:
    """Keep what ``target`` holds (a hard link, else a copy) without moving it."""
    try:
        os.link(target, backup)
    except OSError:
        import shutil

        shutil.copy2(target, backup)


def _make_parents(folder: Path, created: list[Path]) -> None:
    missing = []
    for parent in (folder, *folder.parents):
        if parent.exists():
            break
        missing.append(parent)
    for parent in reversed(missing):
        parent.mkdir()
        created.append(parent)
