"""The one error edge: every failure is one line with the documented exit code."""

from __future__ import annotations

import pytest

from mlopsctl.cli import commands, edge
from mlopsctl.errors import BadInput, Conflict


def run_raising(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> int:
    def handler(_command: object) -> int:
        raise exc

    monkeypatch.setattr(edge, "_handler", lambda _command: handler)
    return edge.run(commands.Stages())


@pytest.mark.parametrize(
    ("exc", "code", "needle"),
    [
        (BadInput("bad 'a\nb'"), 2, "bad 'a\\nb'"),
        (Conflict("held"), 3, "held"),
        (RuntimeError("boom"), 1, "unexpected RuntimeError: boom; rerun with --debug"),
        (PermissionError(13, "Permission denied", "/x/y"), 1, "Permission denied: /x/y"),
        (BadInput("see postgres://u:hunter2@db/x"), 2, "postgres://u:********@db/x"),
    ],
)
def test_errors_are_one_line_with_their_code(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    exc: BaseException,
    code: int,
    needle: str,
) -> None:
    assert run_raising(monkeypatch, exc) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("mlopsctl: error: ")
    assert needle in err
    assert "hunter2" not in err


def test_ctrl_c_and_a_closed_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run_raising(monkeypatch, KeyboardInterrupt()) == 130
    monkeypatch.setattr(edge, "_silence_stdout", lambda: None)
    assert run_raising(monkeypatch, BrokenPipeError()) == 141


def test_debug_adds_the_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MLOPSCTL_DEBUG", "1")
    assert run_raising(monkeypatch, RuntimeError("boom")) == 1
    assert "Traceback" in capsys.readouterr().err
