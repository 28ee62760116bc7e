"""Entry point: parse with the command table, run through the one error edge.

Every command line goes through :func:`mlopsctl.cli.parse.parse`, which imports nothing, so a
hook command loads only what its own work needs. Typer is loaded only to show help, to serve
shell completion, or to say what is wrong with a line the parser did not accept.
"""

from __future__ import annotations

import os
import sys

ROOT_FLAGS = ("--debug",)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else list(argv)
    words = args[: args.index("--")] if "--" in args else args
    if "_MLOPSCTL_COMPLETE" not in os.environ and "-h" not in words and "--help" not in words:
        from mlopsctl.cli import commands

        lead = 0
        while lead < len(args) and args[lead] in ROOT_FLAGS:
            lead += 1
        command, n = commands.find(args[lead:])
        if command is not None:
            from mlopsctl.cli.parse import Usage, parse

            try:
                parsed = parse(command, args[lead + n :])
            except Usage:
                parsed = None  # Typer says what is wrong, in the same words as for help
            if parsed is not None:
                if lead:
                    os.environ["MLOPSCTL_DEBUG"] = "1"
                from mlopsctl.cli.edge import run

                return run(parsed)
    from mlopsctl.cli.typer_app import run as run_typer

    return run_typer(args)
