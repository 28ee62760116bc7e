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
