"""Installing the git hooks: through pre-commit when present, else small native scripts.

A hook file that mlopsctl did not write is never replaced silently: it is a conflict, or with
``force`` it is kept beside ours as ``<hook>.pre-mlopsctl`` and run before the check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.core import proc
from mlopsctl.core.fs import atomic_write
from mlopsctl.errors import BadInput, Conflict, Missing

MARKER = "# mlopsctl-hook: written by `mlopsctl hooks install`"
HOOK_TYPES = ("pre-commit", "commit-msg", "pre-push")
BACKUP_SUFFIX = ".pre-mlopsctl"

_PRELUDE = f"""#!/bin/sh
{MARKER}; edit .pre-commit-config.yaml or re-run it.
hook_dir=$(dirname "$0")
if [ -x "$hook_dir/$(basename "$0"){BACKUP_SUFFIX}" ]; then
  "$hook_dir/$(basename "$0"){BACKUP_SUFFIX}" "$@" || exit $?
fi
"""
SCRIPTS = {
    "pre-commit": _PRELUDE
    + """mlopsctl check-branch || exit $?
git diff --cached --name-only --diff-filter=ACR -z | xargs -0 -r mlopsctl check-names
""",
    "commit-msg": _PRELUDE + 'exec mlopsctl check-commit "$1"\n',
    "pre-push": _PRELUDE
    + """status=0
while read -r local_ref _local_sha _remote_ref _remote_sha; do
  case "$local_ref" in
    refs/heads/*) mlopsctl check-branch "${local_ref#refs/heads/}" || status=1 ;;
  esac
done
exit $status
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
    return _install_native(folder, force)


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


def _install_native(folder: Path, force: bool) -> Installed:
    foreign = _check_foreign(folder, force)
    result = Installed("native", str(folder))
    for path in foreign:
        backup = path.with_name(path.name + BACKUP_SUFFIX)
        path.replace(backup)
        result.backups.append(str(backup))
    for name in HOOK_TYPES:
        atomic_write(folder / name, SCRIPTS[name].encode(), mode=0o755)
        result.hooks.append(name)
    return result


def _install_pre_commit(root: Path, folder: Path, pre_commit: list[str], force: bool) -> Installed:
    foreign = _check_foreign(folder, force)
    # pre-commit keeps a foreign hook as <hook>.legacy and runs it first ("migration mode").
    cmd = [*pre_commit, "install"]
    for name in HOOK_TYPES:
        cmd += ["--hook-type", name]
    proc.run(cmd, cwd=root)
    result = Installed("pre-commit", str(folder), list(HOOK_TYPES))
    result.backups = [str(p.with_name(p.name + ".legacy")) for p in foreign]
    return result
