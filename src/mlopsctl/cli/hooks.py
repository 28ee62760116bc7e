"""``mlopsctl hooks install``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from mlopsctl.cli.plain import echo, emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import HooksInstall


def install(o: HooksInstall) -> int:
    from mlopsctl.core.git import hooks, repo
    from mlopsctl.errors import Missing

    root = repo.toplevel(Path.cwd())
    if root is None:
        raise Missing("No git repository here; run `git init` (or mlopsctl init) first.")
    result = hooks.install(root, mode=o.mode, force=o.force)
    if o.json:
        emit_json(result.as_dict())
        return 0
    echo(f"installed {', '.join(result.hooks)} hooks via {result.mode} in {result.hooks_dir}")
    for backup in result.backups:
        echo(f"kept the previous hook as {backup}; it runs before the checks")
    return 0
