"""Plain output shared by every command: JSON documents and GitHub annotations.

Import-light on purpose: the hook commands print through here without loading Rich.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def emit_json(data: Any) -> None:
    import json

    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def annotate(level: str, message: str, file: str | None = None, title: str | None = None) -> str:
    """A GitHub Actions workflow command, escaped as the runner expects."""

    def esc(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    props = []
    if file:
        props.append(f"file={esc(file, True)}")
    if title:
        props.append(f"title={esc(title, True)}")
    head = f"::{level} {','.join(props)}" if props else f"::{level}"
    return f"{head}::{esc(message)}"


def echo(text: str, err: bool = False) -> None:
    """One line of plain output (stderr with ``err``)."""
    (sys.stderr if err else sys.stdout).write(text + "\n")
