"""Reading git with small subprocess calls (the hook path must not import GitPython)."""

from __future__ import annotations

import os
from pathlib import Path

from mlopsctl.core import proc


def _git(args: list[str], cwd: Path | None = None, check: bool = False) -> tuple[int, str, str]:
    result = proc.run(["git", *args], cwd=cwd, check=check)
    return result.returncode, result.stdout, result.stderr


def toplevel(cwd: Path | None = None) -> Path | None:
    code, out, _ = _git(["rev-parse", "--show-toplevel"], cwd)
    return Path(out.strip()) if code == 0 else None


def comment_setting(cwd: Path | None = None) -> str | None:
    """core.commentChar (or core.commentString, git 2.45+) as git reads it; None when unset."""
    code, out, _ = _git(["config", "--get-regexp", r"^core\.comment(char|string)$"], cwd)
    values = [line.split(" ", 1)[1] for line in out.splitlines() if " " in line]
    return values[-1] if code == 0 and values else None


def listed_files(root: Path) -> list[str] | None:
    """Files git tracks or would track under ``root``, relative to it; None outside git."""
    code, out, _ = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    if code != 0:
        return None
    return sorted({p for p in out.split("\0") if p and (root / p).exists()})


def walk_files(root: Path) -> list[str]:
    """Every file under ``root`` outside hidden folders, for trees that are not in git."""
    out: list[str] = []
    skip = {"__pycache__", "node_modules", "venv", ".venv"}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in skip]
        base = Path(folder).relative_to(root)
        out.extend((base / f).as_posix() for f in files)
    return sorted(out)


def is_tracked(root: Path, path: str) -> bool:
    code, _, _ = _git(["ls-files", "--error-unmatch", "--", path], root)
    return code == 0


def init(root: Path, branch: str = "main") -> None:
    proc.run(["git", "init", "--quiet", "--initial-branch", branch], cwd=root)


class Commit:
    __slots__ = ("message", "parents", "sha")

    def __init__(self, sha: str, parents: list[str], message: str) -> None:
        self.sha = sha
        self.parents = parents
        self.message = message


def commits_in_range(spec: str, cwd: Path | None = None) -> list[Commit]:
    """Every commit in ``A..B`` (or ``A...B``), oldest first, read with one ``git log``.

    A range that does not resolve is bad input, except in a shallow clone, where the missing
    history is the cause and the check must not pass silently.
    """
    from mlopsctl.errors import BadInput, Missing

    if ".." not in spec or spec.startswith("..") or spec.endswith(".."):
        raise BadInput(f"--range '{spec}' is not A..B; e.g. --range origin/main..HEAD.")
    code, out, err = _git(["log", "--reverse", "--format=%H%x1f%P%x1f%B%x1e", spec, "--"], cwd)
    if code != 0:
        shallow = _git(["rev-parse", "--is-shallow-repository"], cwd)[1].strip() == "true"
        if shallow:
            raise Missing(
                f"the clone is shallow and the range {spec} cannot be resolved, so its commits "
                "cannot be checked; fetch the history (git fetch --unshallow, or "
                "actions/checkout with fetch-depth: 0)."
            )
        if toplevel(cwd) is None:
            raise Missing("No git repository here; run check-commit --range inside one.")
        detail = err.strip().splitlines()[0] if err.strip() else "git log failed"
        raise BadInput(f"--range '{spec}' does not resolve ({detail}); name existing revisions.")
    if _git(["rev-parse", "--is-shallow-repository"], cwd)[1].strip() == "true":
        left = spec.split("...")[0] if "..." in spec else spec.split("..")[0]
        base = _git(["merge-base", left, spec.split("..")[-1].lstrip(".") or "HEAD"], cwd)
        if base[0] != 0:
            raise Missing(
                f"the clone is shallow and {spec} reaches past its history, so some commits "
                "cannot be checked; fetch the history (git fetch --unshallow, or "
                "actions/checkout with fetch-depth: 0)."
            )
    commits = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, parents, message = record.split("\x1f", 2)
        commits.append(Commit(sha, parents.split(), message.strip("\n")))
    return commits
