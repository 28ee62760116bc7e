"""Installing the git hooks: through pre-commit when present, else small native scripts.

The pre-push hook is always mlopsctl's own (``check-push`` on git's lines). Every hook finds
mlopsctl on PATH, else runs the interpreter that installed it (git config ``mlopsctl.python``).

A hook file that mlopsctl did not write is never replaced silently: it is a conflict, or with
``force`` it is kept beside ours as ``<hook>.pre-mlopsctl`` and run before the check.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.core import proc
from mlopsctl.core.fs import atomic_write
from mlopsctl.errors import BadInput, Conflict, Missing

MARKER = "# mlopsctl-hook: written by `mlopsctl hooks install`"
HOOK_TYPES = ("pre-commit", "commit-msg", "pre-push")
BACKUP_SUFFIX = ".pre-mlopsctl"
PYTHON_KEY = "mlopsctl.python"  # git config: the interpreter that ran `mlopsctl hooks install`

LAUNCHER = "mlopsctl-launch"  # beside the hooks: runs mlopsctl for them
# The generated projects' launcher, the one source of how a hook finds mlopsctl: on PATH, else
# the interpreter that installed the hooks (as pre-commit's own hook script does), so that a
# commit from an IDE without the virtual environment still checks.
LAUNCHER_SOURCE = "project/files/scripts/hooks/run_mlopsctl.sh"

_PRELUDE = f"""#!/bin/sh
{MARKER}; edit .pre-commit-config.yaml or re-run it.
backup="$0{BACKUP_SUFFIX}"
run="$(dirname "$0")/{LAUNCHER}"
"""
SCRIPTS = {
    "pre-commit": _PRELUDE
    + """if [ -x "$backup" ]; then "$backup" "$@" || exit $?; fi
"$run" check-branch || exit $?
git diff --cached --name-only --diff-filter=ACR -z | xargs -0 -r "$run" check-names
""",
    "commit-msg": _PRELUDE
    + """if [ -x "$backup" ]; then "$backup" "$@" || exit $?; fi
exec "$run" check-commit "$1"
""",
    # git's lines (<local ref> <local sha> <remote ref> <remote sha>) go to the chained hook
    # (pre-commit's own, or a kept foreign one) and to check-push alike.
    "pre-push": _PRELUDE
    + """refs=$(cat)
if [ -x "$backup" ]; then printf '%s\\n' "$refs" | "$backup" "$@" || exit $?; fi
printf '%s\\n' "$refs" | "$run" check-push "$@"
""",
}


@dataclass
class Installed:
    mode: str  # "pre-commit" or "native"
    hooks_dir: str
    hooks: list[str] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "mode": self.mode,
            "hooks_dir": self.hooks_dir,
            "hooks": self.hooks,
            "backups": self.backups,
        }


def hooks_dir(root: Path) -> Path:
    """Git's hooks folder for the repository at ``root`` (honours core.hooksPath)."""
    result = proc.run(["git", "rev-parse", "--git-path", "hooks"], cwd=root, check=False)
    if result.returncode != 0:
        raise Missing("No git repository here; run `git init` (or mlopsctl init) first.")
    path = Path(result.stdout.strip())
    return path if path.is_absolute() else root / path


def pre_commit_command() -> list[str] | None:
    """How to run pre-commit: beside this interpreter, else on PATH."""
    found = proc.find_tool("pre-commit")
    return [found] if found else None


def install(root: Path, mode: str = "auto", force: bool = False) -> Installed:
    if mode not in ("auto", "pre-commit", "native"):
        raise BadInput(f"--mode '{mode}' is not one of auto, pre-commit, native.")
    folder = hooks_dir(root)
    config = root / ".pre-commit-config.yaml"
    pre_commit = pre_commit_command()
    if mode == "pre-commit" or (mode == "auto" and pre_commit and config.is_file()):
        if pre_commit is None:
            raise Missing(
                "pre-commit is not installed; pip install pre-commit, or use --mode native."
            )
        if not config.is_file():
            raise Missing(
                f"{config.name} is missing; create it (mlopsctl init) or use --mode native."
            )
        return _install_pre_commit(root, folder, pre_commit, force)
    return _install_native(root, folder, force)


def _foreign(path: Path) -> bool:
    """A hook file that neither mlopsctl nor pre-commit wrote."""
    if not path.is_file():
        return False
    text = path.read_text(errors="replace")
    return MARKER not in text and "pre-commit" not in text


def _check_foreign(folder: Path, force: bool) -> list[Path]:
    foreign = [folder / h for h in HOOK_TYPES if _foreign(folder / h)]
    if foreign and not force:
        names = ", ".join(p.name for p in foreign)
        raise Conflict(
            f"{folder}/{{{names}}} already exist and were not written by mlopsctl; nothing was "
            "installed: move them away, or re-run with --force to keep them as "
            f"<hook>{BACKUP_SUFFIX} (run before the checks)."
        )
    return foreign


def _install_launcher(root: Path, folder: Path) -> None:
    """The launcher the hooks call, and this interpreter for it when mlopsctl is not on PATH."""
    from mlopsctl.core.scaffold.templates import packaged_dir

    text = (packaged_dir() / LAUNCHER_SOURCE).read_bytes()
    atomic_write(folder / LAUNCHER, text, mode=0o755)
    proc.run(["git", "config", "--local", PYTHON_KEY, sys.executable], cwd=root)


def _install_native(root: Path, folder: Path, force: bool) -> Installed:
    foreign = _check_foreign(folder, force)
    result = Installed("native", str(folder))
    for path in foreign:
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        path.replace(backup)
        result.backups.append(str(backup))
    _install_launcher(root, folder)
    for name in HOOK_TYPES:
        atomic_write(folder / name, SCRIPTS[name].encode(), mode=0o755)
        result.hooks.append(name)
    return result


def _install_pre_commit(root: Path, folder: Path, pre_commit: list[str], force: bool) -> Installed:
    """pre-commit's hooks, with mlopsctl's own pre-push in front of pre-commit's.

    pre-commit runs its pre-push hooks for the first pushed ref only, and not at all when the
    push sends no new commit (``git push origin ok:Bad_Name``), so ``check-push`` reads git's
    lines itself and hands them on to pre-commit's hook, kept as ``pre-push.pre-mlopsctl``.
    A foreign hook is kept by pre-commit as ``<hook>.legacy`` and run first.
    """
    foreign = _check_foreign(folder, force)
    moves: list[tuple[Path, Path]] = []
    for name in HOOK_TYPES:
        kept, legacy = folder / (name + BACKUP_SUFFIX), folder / (name + ".legacy")
        if _foreign(kept):  # kept by a native install: pre-commit runs it as .legacy
            if legacy.exists():
                raise Conflict(
                    f"{kept} and {legacy} both hold an earlier hook; nothing was installed: "
                    "merge them into one, or remove one."
                )
            moves.append((kept, legacy))
    for kept, legacy in moves:
        kept.replace(legacy)
    for name in HOOK_TYPES:  # pre-commit would keep ours as .legacy and run the checks twice
        path = folder / name
        if path.is_file() and MARKER in path.read_text(errors="replace"):
            path.unlink()
    cmd = [*pre_commit, "install"]
    for name in HOOK_TYPES:
        cmd += ["--hook-type", name]
    proc.run(cmd, cwd=root)
    _install_launcher(root, folder)
    # copied, then replaced: at every instant some pre-push hook checks the push
    theirs = folder / "pre-push"
    atomic_write(folder / ("pre-push" + BACKUP_SUFFIX), theirs.read_bytes(), mode=0o755)
    atomic_write(theirs, SCRIPTS["pre-push"].encode(), mode=0o755)
    result = Installed("pre-commit", str(folder), list(HOOK_TYPES))
    result.backups = [str(p.with_name(p.name + ".legacy")) for p in foreign]
    result.backups += [str(legacy) for _, legacy in moves]
    return result
