"""The Typer application: global options, the error edge and the command groups."""

from __future__ import annotations

import os
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import Abort, Exit, TyperException

from mlopsctl import __version__
from mlopsctl.cli import report
from mlopsctl.errors import MlopsError


class MlopsGroup(TyperGroup):
    """Maps every :class:`MlopsError` to its exit code and one sentence: the one edge."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (Exit, Abort, TyperException):
            raise
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except BrokenPipeError:  # output piped into head or less that closed early
            raise typer.Exit(141) from None
        except Exception as exc:
            if not isinstance(exc, MlopsError) and report.debug_enabled():
                raise
            raise typer.Exit(report.error(exc)) from None


# Command name -> the module under mlopsctl.cli that registers it. Only the module of the
# command being run is imported; help, completion and unknown names load them all.
COMMAND_MODULES = {
    "init": "scaffold_cmds",
    "new-stage": "scaffold_cmds",
    "stages": "scaffold_cmds",
    "templates": "scaffold_cmds",
    "check-names": "check_cmds",
    "check-branch": "check_cmds",
    "check-commit": "check_cmds",
    "hooks": "hooks_cmds",
    "test": "test_cmds",
    "env": "env_cmds",
    "compose": "compose_cmds",
    "deploy": "deploy_cmds",
    "rollback": "deploy_cmds",
    "releases": "deploy_cmds",
    "doctor": "doctor_cmds",
}
_ROOT_FLAGS = {"--debug", "--version"}


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlopsctl {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
    debug: bool = typer.Option(
        False, "--debug", help="Show tracebacks for errors (also MLOPSCTL_DEBUG=1)."
    ),
) -> None:
    """mlopsctl: scaffold, guard, test and deploy MLOps projects.

    Exit codes: 0 ok, 1 a check or run failed, 2 bad input, 3 conflict or lock held,
    4 something needed is missing (project, git, Docker).
    """
    if debug:
        os.environ["MLOPSCTL_DEBUG"] = "1"


def modules_for(args: list[str]) -> list[str]:
    """The command modules needed to run ``args``: one, or all of them."""
    everything = sorted(set(COMMAND_MODULES.values()))
    if "_MLOPSCTL_COMPLETE" in os.environ or {"-h", "--help"} & set(args):
        return everything
    rest = [a for a in args if a not in _ROOT_FLAGS]
    if rest and rest[0] in COMMAND_MODULES:
        return [COMMAND_MODULES[rest[0]]]
    return everything


def build_app(args: list[str] | None = None) -> typer.Typer:
    """The Typer application with the commands ``args`` need (all when None)."""
    from importlib import import_module

    app = typer.Typer(
        name="mlopsctl",
        cls=MlopsGroup,
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    names = modules_for(args) if args is not None else sorted(set(COMMAND_MODULES.values()))
    for name in names:
        import_module(f"mlopsctl.cli.{name}").register(app)
    return app


def run(args: list[str]) -> int:
    try:
        build_app(args)(args=args, prog_name="mlopsctl")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
