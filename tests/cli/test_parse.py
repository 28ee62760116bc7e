"""The fast parser and the Typer application accept the same lines and build the same objects.

Both are made from the one command table; this drives both with generated command lines (the
table's own options, values, ``--``, unknown options and stray words) and compares the parsed
command object, or that both refuse the line.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from mlopsctl.cli import commands, edge, typer_app
from mlopsctl.cli.commands import REGISTRY, Command
from mlopsctl.cli.parse import Usage, parse

APP = typer_app.build_app()
RUNNER = CliRunner()


def via_typer(command: type[Command], args: list[str]) -> Command | None:
    """What the Typer application would run for ``args`` (None: it refuses them)."""
    head, rest = typer_app.split_rest([*command.name.split(), *args])
    seen: list[Command] = []
    original = edge.run
    edge.run = lambda parsed: seen.append(parsed) or 0  # type: ignore[assignment]
    try:
        result = RUNNER.invoke(APP, head, obj={"rest": rest})
    finally:
        edge.run = original  # type: ignore[assignment]
    if result.exit_code == 2 and not seen:
        return None
    assert result.exit_code == 0 and len(seen) == 1, (result.output, result.exception)
    return seen[0]


def via_fast(command: type[Command], args: list[str]) -> Command | None:
    try:
        return parse(command, args)
    except Usage:
        return None


def words_for(command: type[Command]) -> st.SearchStrategy[list[str]]:
    flags = [f for p in command.params for f in p.flags]
    values = st.sampled_from(
        ["6.1", "x", "-", "--", "-5", "1.5", "nan", "text", "json", "github", "auto", "a=b", ""]
    )
    word = st.one_of(
        st.sampled_from(flags) if flags else st.nothing(),
        st.sampled_from([f"{f}=v" for f in flags]) if flags else st.nothing(),
        st.sampled_from(["--bogus", "-z", "--json=1", "-mfeat: x", "-n4", "-y", "-yx"]),
        values,
        st.text(alphabet="ab-=.:", min_size=1, max_size=5),
    )
    return st.lists(word, max_size=7)


@pytest.mark.parametrize("name", sorted(REGISTRY))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_both_front_ends_read_a_line_alike(name: str, data: st.DataObject) -> None:
    command = REGISTRY[name]
    args = data.draw(words_for(command))
    assert repr(via_fast(command, args)) == repr(via_typer(command, args)), args  # nan != nan


def test_every_command_of_the_table_answers_help() -> None:
    for name in REGISTRY:
        result = RUNNER.invoke(APP, [*name.split(), "--help"])
        assert result.exit_code == 0, result.output
        assert REGISTRY[name].__doc__.split("\n")[0][:30] in " ".join(result.output.split())


def test_commands_find_names_of_one_and_two_words() -> None:
    assert commands.find(["env", "show", "--json"]) == (commands.EnvShow, 2)
    assert commands.find(["check-branch", "x"]) == (commands.CheckBranch, 1)
    assert commands.find(["nope"]) == (None, 0)
