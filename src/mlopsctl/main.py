"""Entry point. Hook commands take a fast path without Typer; the rest go through Typer."""

from __future__ import annotations

import os
import sys

# Commands that run on every commit or wrap another tool: no Typer, Rich or Jinja at start-up.
FAST_COMMANDS = frozenset({"check-names", "check-branch", "check-commit", "test"})


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if (
        args
        and args[0] in FAST_COMMANDS
        and not {"-h", "--help"} & set(args)
        and "_MLOPSCTL_COMPLETE" not in os.environ
    ):
        from mlopsctl.cli.report import guarded

        if args[0] == "test":
            from mlopsctl.cli import testing

            return guarded(testing.main, args[1:])
        from mlopsctl.cli import checks

        return guarded(checks.main, args)
    from mlopsctl.cli.app import run

    return run(args)
