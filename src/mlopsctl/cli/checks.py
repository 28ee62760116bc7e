"""The hook commands (check-names, check-branch, check-commit), import-light.

They run on every commit, so this module and what it imports load neither Typer, Rich,
Jinja2, GitPython nor the Docker SDK. ``mlopsctl.main`` sends hook invocations here directly;
the Typer commands of the same names call the same functions (for help and completion).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from mlopsctl.cli.report import annotate, emit_json, error
from mlopsctl.errors import MlopsError

FORMATS = ("text", "json", "github")


def check_names(paths: list[str], fmt: str = "text") -> int:
    from mlopsctl.core import config, naming

    report = naming.check_tree(config.load(), paths, Path.cwd())
    if fmt == "json":
        emit_json(report.as_dict())
    else:
        for v in report.violations:
            if fmt == "github":
                print(annotate("error", f"expected {v.expected}", v.path, f"check-names: {v.rule}"))
            else:
                print(f"{v.path}: {v.rule}: expected {v.expected}")
        if fmt == "text" and report.violations:
            n = len(report.violations)
            print(
                f"{n} file name{'s' if n > 1 else ''} break the naming rules "
                f"(checked {report.checked}).",
                file=sys.stderr,
            )
    return 1 if report.violations else 0


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"mlopsctl {prog}", add_help=False)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--format", choices=FORMATS, default="text")
    return parser


def main(args: list[str]) -> int:
    """Run one hook command from raw arguments (no Typer)."""
    command, rest = args[0], args[1:]
    try:
        parser = _parser(command)
        if command == "check-names":
            parser.add_argument("paths", nargs="*")
            ns = parser.parse_args(rest)
            return check_names(ns.paths, "json" if ns.json else ns.format)
        raise AssertionError(command)
    except MlopsError as exc:
        return error(exc)
    except SystemExit as exc:  # argparse usage errors
        return int(exc.code or 0)
