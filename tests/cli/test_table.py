"""The command table: every handler it names resolves to a function that takes the command."""

from __future__ import annotations

import inspect

import pytest

from mlopsctl.cli import commands, edge


@pytest.mark.parametrize("name", sorted(commands.REGISTRY))
def test_every_handler_resolves(name: str) -> None:
    command = commands.REGISTRY[name]
    module, sep, function = command.handler.partition(":")
    assert sep and module and function, command.handler
    handler = edge._handler(command())  # type: ignore[arg-type]
    assert callable(handler)
    params = list(inspect.signature(handler).parameters)  # type: ignore[arg-type]
    assert len(params) == 1, (name, params)


def test_the_table_has_every_command_of_the_contract() -> None:
    wanted = {"init", "new-stage", "stages", "templates list", "update", "destroy-stage",
              "check-names", "check-branch", "check-commit", "check-push", "hooks install",
              "test", "env show", "env check", "compose", "deploy", "rollback", "releases",
              "doctor"}  # fmt: skip
    assert wanted <= set(commands.REGISTRY)
