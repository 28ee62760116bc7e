"""The Typer application, built from the command table: help, completion, usage errors.

Every command is declared once, in :mod:`mlopsctl.cli.commands`; this module turns each
declaration into a Typer command whose body builds the same command object the fast parser
builds and runs it through the same edge (:func:`mlopsctl.cli.edge.run`).
"""

from __future__ import annotations

import enum
import inspect
import os
import sys
import typing
from pathlib import Path
from typing import Any

import typer

from mlopsctl import __version__
from mlopsctl.cli import edge
from mlopsctl.cli.commands import REGISTRY, Command, Param, find
from mlopsctl.errors import one_line


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


def _choices(p: Param) -> Any:
    """An Enum of the parameter's choices: how Typer shows and checks a set of choices."""
    assert p.choices is not None
    return enum.Enum(f"{p.attr}_choices", {c: c for c in p.choices}, type=str)


def _typer_param(p: Param, annotation: Any) -> tuple[Any, Any]:
    """The (annotation, default) pair Typer reads for one parameter."""
    extra: dict[str, Any] = {"help": p.help}
    if p.metavar:
        extra["metavar"] = p.metavar
    if p.choices:
        annotation = _choices(p)
    if p.kind == "list":
        annotation = list[str] | None
        default: Any = None
    else:
        default = ... if p.required else p.default
        if p.choices and default is not ...:
            default = annotation(default)
    if p.positional:
        return annotation, typer.Argument(default, **extra)
    return annotation, typer.Option(default, *p.flags, **extra)


def _function(command: type[Command]) -> Any:
    hints = typing.get_type_hints(command, localns={"Path": Path})
    params = []
    annotations: dict[str, Any] = {}
    rest = next((p for p in command.params if p.kind == "rest"), None)
    if rest is not None:
        params.append(
            inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=typer.Context)
        )
        annotations["ctx"] = typer.Context
    for p in command.params:
        if p.kind == "rest":
            continue
        annotation, default = _typer_param(p, hints[p.attr])
        params.append(
            inspect.Parameter(
                p.attr, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
            )
        )
        annotations[p.attr] = annotation

    def body(**values: Any) -> None:
        ctx = values.pop("ctx", None)
        for p in command.params:
            if p.kind == "list" and values.get(p.attr) is None:
                values[p.attr] = []
            if isinstance(values.get(p.attr), enum.Enum):
                values[p.attr] = values[p.attr].value
        if rest is not None and ctx is not None:
            values[rest.attr] = list((ctx.obj or {}).get("rest") or [])
        raise typer.Exit(edge.run(command(**values)))

    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__annotations__ = annotations
    body.__doc__ = command.__doc__
    body.__name__ = command.name.replace(" ", "_").replace("-", "_")
    return body


_GROUP_HELP = {
    "templates": "Inspect the templates init and new-stage render.",
    "env": "Show and check the project's .env files.",
    "hooks": "Install the git hooks that run the mlopsctl checks.",
}


def build_app() -> typer.Typer:
    app = typer.Typer(
        name="mlopsctl",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    groups: dict[str, typer.Typer] = {}
    for name, command in REGISTRY.items():
        group, _, sub = name.partition(" ")
        if sub:
            if group not in groups:
                groups[group] = typer.Typer(help=_GROUP_HELP.get(group), no_args_is_help=True)
                app.add_typer(groups[group], name=group)
            target, cmd_name = groups[group], sub
        else:
            target, cmd_name = app, name
        target.command(cmd_name)(_function(command))
    return app


def split_rest(args: list[str]) -> tuple[list[str], list[str]]:
    """For a command that hands words after ``--`` to another tool, click would give them
    to the command's own list argument; split them off first, as the fast parser does."""
    lead = 0
    while lead < len(args) and args[lead].startswith("--") and args[lead] != "--":
        lead += 1
    command, _ = find(args[lead:])
    if command is None or "--" not in args or not any(p.kind == "rest" for p in command.params):
        return args, []
    cut = args.index("--")
    return args[:cut], args[cut + 1 :]


def run(args: list[str]) -> int:
    """Run the Typer application on ``args`` (help, completion, or a usage error)."""
    head, rest = split_rest(args)
    try:
        app = build_app()
        code = app(args=head, prog_name="mlopsctl", obj={"rest": rest}, standalone_mode=False)
    except SystemExit as exc:  # completion exits on its own
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:
        sys.stderr.write("mlopsctl: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - click's usage errors (and Abort): one line
        message = str(getattr(exc, "format_message", lambda: "aborted")()).rstrip(".")
        if message:  # (an empty one follows the help shown for a bare group)
            command, _ = find([a for a in head if a != "--debug"])
            where = f"mlopsctl {command.name} --help" if command else "mlopsctl --help"
            sys.stderr.write(f"mlopsctl: error: {one_line(message)}; see `{where}`\n")
        return int(getattr(exc, "exit_code", 1))
    return code if isinstance(code, int) else 0
