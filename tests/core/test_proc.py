"""proc: argument lists only; a missing program and a missing folder are told apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core import proc
from mlopsctl.errors import CommandFailed, Missing


def test_a_missing_program_is_named() -> None:
    with pytest.raises(Missing, match="`no-such-program-xyz` was not found on PATH"):
        proc.run(["no-such-program-xyz"])


def test_a_missing_folder_is_not_blamed_on_the_program(tmp_path: Path) -> None:
    with pytest.raises(Missing, match="does not exist"):
        proc.run(["git", "status"], cwd=tmp_path / "gone")


def test_a_failure_carries_its_code_and_last_line() -> None:
    with pytest.raises(CommandFailed, match=r"exited with 3: last"):
        proc.run(["sh", "-c", "echo first >&2; echo last >&2; exit 3"])
    done = proc.run(["sh", "-c", "exit 4"], check=False)
    assert done.returncode == 4
