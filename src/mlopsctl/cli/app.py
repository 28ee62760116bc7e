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
        except Exception as exc:
            if not isinstance(exc, MlopsError) and report.debug_enabled():
                raise
            raise typer.Exit(report.error(exc)) from None


app = typer.Typer(
    name="mlopsctl",
    cls=MlopsGroup,
    help="Scaffold, guard, test and deploy MLOps projects that follow the nine-stage standard.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"mlopsctl {__version__}")
        raise typer.Exit()


@app.callback()
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


def _register() -> None:
    from mlopsctl.cli import check_cmds, scaffold_cmds

    scaffold_cmds.register(app)
    check_cmds.register(app)


_register()


def run(args: list[str]) -> int:
    try:
        app(args=args, prog_name="mlopsctl")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
