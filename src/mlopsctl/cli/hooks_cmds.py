"""``mlopsctl hooks install``."""

from __future__ import annotations

from pathlib import Path

import typer

from mlopsctl.cli.options import JsonOpt
from mlopsctl.cli.report import emit_json


def register(app: typer.Typer) -> None:
    hooks_app = typer.Typer(help="Install the git hooks that run the mlopsctl checks.")
    app.add_typer(hooks_app, name="hooks")

    @hooks_app.command("install")
    def install(
        mode: str = typer.Option(
            "auto",
            "--mode",
            help="auto (pre-commit when it and its config exist), pre-commit, native.",
        ),
        force: bool = typer.Option(
            False, "--force", help="Keep foreign hooks as <hook>.pre-mlopsctl and install anyway."
        ),
        json_: bool = JsonOpt,
    ) -> None:
        """Install the pre-commit, commit-msg and pre-push hooks.

        Through the pre-commit framework when it is installed and the repository has a
        .pre-commit-config.yaml; otherwise as small native scripts that call mlopsctl.
        A hook mlopsctl did not write is never replaced silently.
        """
        from mlopsctl.core import gitio, hooks

        root = gitio.toplevel(Path.cwd())
        if root is None:
            from mlopsctl.errors import Missing

            raise Missing("No git repository here; run `git init` (or mlopsctl init) first.")
        result = hooks.install(root, mode=mode, force=force)
        if json_:
            emit_json(result.as_dict())
            return
        typer.echo(
            f"installed {', '.join(result.hooks)} hooks via {result.mode} in {result.hooks_dir}"
        )
        for backup in result.backups:
            typer.echo(f"kept the previous hook as {backup}; it runs before the checks")
