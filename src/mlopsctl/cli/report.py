"""Plain output shared by every command: errors, JSON documents and GitHub annotations.

Import-light on purpose: the hook commands print through here without loading Rich.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import Any

from mlopsctl.errors import MlopsError


def debug_enabled() -> bool:
    return os.environ.get("MLOPSCTL_DEBUG", "") not in ("", "0", "false")


def error(exc: BaseException) -> int:
    """Show an error as one sentence on stderr (the trace too with --debug); return its code."""
    if debug_enabled():
        import traceback

        traceback.print_exception(exc)
    message = str(exc) if isinstance(exc, MlopsError) else f"{type(exc).__name__}: {exc}"
    sys.stderr.write(f"mlopsctl: error: {message}\n")
    return exc.exit_code if isinstance(exc, MlopsError) else 1


def guarded(command: Callable[[list[str]], int], args: list[str]) -> int:
    """Run a fast-path command: errors become one sentence and their exit code."""
    try:
        return command(args)
    except MlopsError as exc:
        return error(exc)
    except SystemExit as exc:  # a command that exits on its own
        return exc.code if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        sys.stderr.write("mlopsctl: interrupted\n")
        return 130


def emit_json(data: Any) -> None:
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
