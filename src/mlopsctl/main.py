"""Entry point: the fast commands take an argparse front end; the rest go through Typer."""

from __future__ import annotations

import os
import sys

# Commands that run on every commit, wrap another tool, or are timed against other tools,
# and the module (under mlopsctl.cli) whose ``main(args)`` runs them without Typer, Rich or
# Jinja at start-up. Their Typer commands serve help and completion and call the same code.
FAST_MODULES = {
    "check-names": "checks",
    "check-branch": "checks",
    "check-commit": "checks",
    "test": "testing",
    "init": "scaffolding",
    "new-stage": "scaffolding",
}
FAST_COMMANDS = frozenset(FAST_MODULES)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    if (
        args
        and args[0] in FAST_MODULES
        and not {"-h", "--help"} & set(args)
        and "_MLOPSCTL_COMPLETE" not in os.environ
    ):
        from importlib import import_module

        from mlopsctl.cli.fastargs import NotFast
        from mlopsctl.cli.report import guarded

        module = import_module(f"mlopsctl.cli.{FAST_MODULES[args[0]]}")
        try:
            return guarded(module.main, args)
        except NotFast:
            pass  # a usage error or a prompt: Typer says it as for every other command
    from mlopsctl.cli.app import run

    return run(args)
