"""The one exception base of mlopsctl; each subclass carries its exit code.

The CLI edge catches :class:`MlopsError` once and prints its message as one sentence. A check,
test run or deploy that fails is not an error: its handler reports it and returns exit code 1.
"""

from __future__ import annotations


class MlopsError(Exception):
    """Base of every error mlopsctl reports; ``exit_code`` follows the CLI contract."""

    exit_code = 1


class BadInput(MlopsError):
    """Bad usage or bad input; nothing was changed (exit 2)."""

    exit_code = 2


class Conflict(MlopsError):
    """Files would be overwritten, or a lock is held; nothing was changed (exit 3)."""

    exit_code = 3


class Missing(MlopsError):
    """Something the command needs is missing: project, git, engine (exit 4)."""

    exit_code = 4


class CommandFailed(MlopsError):
    """A subprocess failed; carries its command, return code and output."""

    exit_code = 1

    def __init__(self, cmd: list[str], returncode: int, output: str = "") -> None:
        self.cmd = cmd
        self.returncode = returncode
        self.output = output
        tail = output.strip().splitlines()[-1:] if output.strip() else []
        detail = f": {tail[0]}" if tail else ""
        super().__init__(f"`{' '.join(cmd)}` exited with {returncode}{detail}")


def one_line(text: str) -> str:
    """``text`` with control characters escaped, so that a message stays one line."""
    if text.isprintable():
        return text
    escapes = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}
    return "".join(ch if ch.isprintable() else escapes.get(ch, ascii(ch)[1:-1]) for ch in text)
