"""What changed between a commit and the work tree, line by line, read from ``git diff -U0``.

A change has two sides: the lines of the work-tree file that are new or edited (what a
changed-lines coverage gate measures) and the lines of the older file that were edited or
removed, with the two lines around each pure insertion (what a map recorded at that older
commit can be asked about). Committed, staged, unstaged and untracked changes all count.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.errors import BadInput, Missing

HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
MAX_DIFF = 64 * 1024 * 1024
MAX_UNTRACKED = 4 * 1024 * 1024  # an untracked file larger than this counts as wholly changed


@dataclass
class FileChange:
    path: str | None  # in the work tree; None when the file was removed
    old_path: str | None  # in the older commit; None when the file is new
    new_lines: set[int] = field(default_factory=set)
    old_lines: set[int] = field(default_factory=set)
    whole: bool = False  # no line detail (binary, huge): every line counts as changed

    @property
    def name(self) -> str:
        return self.path or self.old_path or ""


def _git(root: Path, *args: str) -> tuple[int, str, str]:
    import subprocess

    try:
        done = subprocess.run(
            ["git", "-c", "core.quotePath=false", *args], cwd=root, capture_output=True,
            encoding="utf-8", errors="surrogateescape", check=False,
        )  # fmt: skip
    except FileNotFoundError:
        raise Missing("`git` was not found on PATH; install it and try again.") from None
    return done.returncode, done.stdout, done.stderr


def require_repository(root: Path) -> None:
    code, _, _ = _git(root, "rev-parse", "--git-dir")
    if code != 0:
        raise Missing(f"{root} is not a git repository; --affected compares commits, so run it "
                      "inside one (git init) or run the suites without --affected.")  # fmt: skip


def head(root: Path) -> str | None:
    code, out, _ = _git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}")
    return out.strip() if code == 0 else None


def resolve(root: Path, ref: str) -> str:
    """The commit ``ref`` names (exit 2 when it names none)."""
    if ref.startswith("-"):
        raise BadInput(f"--base '{ref}' is not a git revision; give a branch, tag or commit.")
    code, out, _ = _git(
        root, "rev-parse", "--verify", "-q", "--end-of-options", f"{ref}^{{commit}}"
    )
    if code != 0:
        raise BadInput(f"--base '{ref}' names no commit here; give a branch, tag or commit "
                       "(git fetch first if it is a remote branch).")  # fmt: skip
    return out.strip()


def default_branch(root: Path) -> str | None:
    """origin's HEAD, else the configured initial branch, main or master (remote first)."""
    code, out, _ = _git(root, "symbolic-ref", "-q", "--short", "refs/remotes/origin/HEAD")
    if code == 0 and out.strip():
        return out.strip()
    _, configured, _ = _git(root, "config", "init.defaultBranch")
    names = [n for n in (configured.strip(), "main", "master") if n]
    for name in [f"origin/{n}" for n in names] + names:
        code, _, _ = _git(root, "rev-parse", "--verify", "-q", f"{name}^{{commit}}")
        if code == 0:
            return name
    return None


def default_base(root: Path) -> tuple[str, str]:
    """The merge base of HEAD with the default branch, and how it was found."""
    branch = default_branch(root)
    if branch is None:
        raise BadInput("No default branch found (origin/HEAD, main or master) to compare with; "
                       "pass --base REF.")  # fmt: skip
    code, out, _ = _git(root, "merge-base", "HEAD", branch)
    if code != 0 or not out.strip():
        raise BadInput(f"HEAD and {branch} share no commit; pass --base REF.")
    return out.strip(), f"merge base with {branch}"


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    code, _, _ = _git(root, "merge-base", "--is-ancestor", older, newer)
    return code == 0


def between(root: Path, base: str, target: str | None = None) -> list[FileChange]:
    """The changes from ``base`` to ``target`` (a commit), or to the work tree when None
    (untracked files included)."""
    args = ["diff", "-U0", "--no-color", "--no-ext-diff", "--no-textconv", "--no-renames",
            "--src-prefix=a/", "--dst-prefix=b/", base]  # fmt: skip
    if target is not None:
        args.append(target)
    code, out, err = _git(root, *args, "--")
    if code != 0:
        raise BadInput(f"git diff {base} failed: {err.strip().splitlines()[-1:] or code}")
    if len(out) > MAX_DIFF:
        raise BadInput(
            f"The diff from {base} is over {MAX_DIFF // 2**20} MiB; pass a nearer --base."
        )
    changes = parse(out)
    if target is None:
        changes += untracked(root)
    return changes


def parse(text: str) -> list[FileChange]:
    """``git diff -U0`` output as one :class:`FileChange` per file."""
    changes: list[FileChange] = []
    current: FileChange | None = None
    for line in text.splitlines():
        if line.startswith("diff --git "):
            current = FileChange(path=None, old_path=None, whole=True)
            changes.append(current)
        elif current is None:
            continue
        elif line.startswith("--- "):
            current.old_path = _side(line[4:], "a/")
        elif line.startswith("+++ "):
            current.path = _side(line[4:], "b/")
        elif line.startswith("@@"):
            match = HUNK.match(line)
            if match is None:
                continue
            current.whole = False
            a, b = int(match.group(1)), int(match.group(2) or "1")
            c, d = int(match.group(3)), int(match.group(4) or "1")
            if b:
                current.old_lines.update(range(a, a + b))
            else:  # an insertion after old line a: the lines around it
                current.old_lines.update(n for n in (a, a + 1) if n > 0)
            current.new_lines.update(range(c, c + d))
        elif line.startswith("Binary files "):
            current.whole = True
            if current.path is None and current.old_path is None:
                current.old_path, current.path = _header_paths(line)
    for change in changes:  # a header without ---/+++ (mode change only): not a change
        if change.path is None and change.old_path is None:
            change.whole = False
    return [c for c in changes if c.path or c.old_path]


def _header_paths(line: str) -> tuple[str | None, str | None]:
    """The paths of ``Binary files a/X and b/Y differ`` (``/dev/null`` for a side: None)."""
    body = line[len("Binary files ") :].removesuffix(" differ")
    old, sep, new = body.partition(" and ")
    if not sep:
        return None, None
    return _side(old, "a/"), _side(new, "b/")


def _side(text: str, prefix: str) -> str | None:
    text = text.rstrip("\t")
    if text == "/dev/null":
        return None
    if text.startswith('"'):
        text = _unquote(text)
    return text[len(prefix) :] if text.startswith(prefix) else text


def _unquote(text: str) -> str:
    """git's C-style quoting of a path (``"a/\\303\\251.py"``)."""
    body = text[1:-1] if text.endswith('"') else text[1:]
    raw = bytearray()
    i = 0
    escapes = {"n": 10, "t": 9, '"': 34, "\\": 92, "a": 7, "b": 8, "f": 12, "r": 13, "v": 11}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and i + 3 < len(body) + 1:
                raw.append(int(body[i + 1 : i + 4], 8) & 0xFF)
                i += 4
                continue
            raw.append(escapes.get(nxt, ord(nxt)))
            i += 2
            continue
        raw.extend(ch.encode())
        i += 1
    return raw.decode("utf-8", errors="surrogateescape")


def untracked(root: Path) -> list[FileChange]:
    code, out, _ = _git(root, "ls-files", "--others", "--exclude-standard", "-z")
    if code != 0:
        return []
    changes = []
    for name in filter(None, out.split("\0")):
        path = root / name
        if path.is_symlink() or not path.is_file():
            continue
        change = FileChange(path=name, old_path=None)
        try:
            if path.stat().st_size > MAX_UNTRACKED:
                change.whole = True
            else:
                count = path.read_bytes().count(b"\n") + 1
                change.new_lines = set(range(1, count + 1))
        except OSError:
            change.whole = True
        changes.append(change)
    return changes
