"""Typer faces of the hook commands; the work is in :mod:`mlopsctl.cli.checks`."""

from __future__ import annotations

import typer

from mlopsctl.cli import checks
from mlopsctl.cli.options import JsonOpt

FormatOpt = typer.Option("text", "--format", help="text, json or github (workflow annotations).")


def _fmt(fmt: str, json_: bool) -> str:
    if fmt not in checks.FORMATS:
        raise typer.BadParameter(f"'{fmt}' is not one of {', '.join(checks.FORMATS)}.")
    return "json" if json_ else fmt


def register(app: typer.Typer) -> None:
    @app.command("check-names")
    def check_names(
        paths: list[str] | None = typer.Argument(
            None, help="Files to check; default: every file git tracks or would track."
        ),
        json_: bool = JsonOpt,
        fmt: str = FormatOpt,
    ) -> None:
        """Check file names and places against the naming rules (exit 1 on violations)."""
        raise typer.Exit(checks.check_names(paths or [], _fmt(fmt, json_)))

    @app.command("check-branch")
    def check_branch(
        name: str | None = typer.Argument(
            None, help="Branch to check; default: from CI variables, then git's HEAD."
        ),
        strict: bool = typer.Option(False, "--strict", help="Fail when no branch can be found."),
        json_: bool = JsonOpt,
        fmt: str = FormatOpt,
    ) -> None:
        """Check a branch name against the branch rules (exit 1 with a suggestion).

        The branch comes from, in order: NAME; PRE_COMMIT_LOCAL_BRANCH (pre-push);
        GITHUB_HEAD_REF; CI_MERGE_REQUEST_SOURCE_BRANCH_NAME; GITHUB_REF_NAME,
        CI_COMMIT_REF_NAME, CI_COMMIT_BRANCH, BRANCH_NAME, BUILDKITE_BRANCH; git's HEAD.
        A detached HEAD with none of them is skipped (exit 0) unless --strict.
        """
        raise typer.Exit(checks.check_branch(name, strict, _fmt(fmt, json_)))

    @app.command("check-commit")
    def check_commit(
        msg_file: str | None = typer.Argument(
            None, help="Commit message file (what git passes to a commit-msg hook)."
        ),
        message: str | None = typer.Option(None, "--message", "-m", help="A message to check."),
        spec: str | None = typer.Option(
            None, "--range", help="Check every commit in A..B (for CI)."
        ),
        json_: bool = JsonOpt,
        fmt: str = FormatOpt,
    ) -> None:
        """Check commit messages against Conventional Commits 1.0.0 (exit 1 naming the fault).

        Git's comment lines and scissors line are ignored; merge, revert, fixup!, squash! and
        amend! commits pass. Types and a scope pattern come from mlops.yaml (commits:).
        """
        raise typer.Exit(checks.check_commit(msg_file, message, spec, _fmt(fmt, json_)))
