"""The argparse front ends of the fast commands accept exactly what their Typer faces show."""

from __future__ import annotations

import argparse

import pytest
import typer.main

from mlopsctl.cli import checks, scaffolding, testing
from mlopsctl.cli.app import build_app
from mlopsctl.main import FAST_COMMANDS

PARSERS = {
    "check-names": lambda: checks.parser("check-names"),
    "check-branch": lambda: checks.parser("check-branch"),
    "check-commit": lambda: checks.parser("check-commit"),
    "test": testing.parser,
    "init": lambda: scaffolding.parser("init"),
    "new-stage": lambda: scaffolding.parser("new-stage"),
}


def typer_surface(name: str) -> tuple[set[str], int]:
    command = typer.main.get_command(build_app()).commands[name]  # type: ignore[attr-defined]
    options: set[str] = set()
    positionals = 0
    for param in command.params:
        if param.param_type_name == "option":
            options.update(param.opts, param.secondary_opts)
        else:
            positionals += 1
    return options, positionals


def argparse_surface(parser: argparse.ArgumentParser) -> tuple[set[str], int]:
    options: set[str] = set()
    positionals = 0
    for action in parser._actions:
        if action.option_strings:
            options.update(action.option_strings)
        else:
            positionals += 1
    return options, positionals


def test_every_fast_command_has_a_parser() -> None:
    assert set(PARSERS) == FAST_COMMANDS


@pytest.mark.parametrize("name", sorted(FAST_COMMANDS))
def test_fast_front_end_matches_the_typer_command(name: str) -> None:
    assert argparse_surface(PARSERS[name]()) == typer_surface(name)
