"""The one error edge: every command, however it was parsed, runs through :func:`run`.

A handler returns its exit code (0, or 1 for a check, test run or deploy that failed and
has said so). Anything it raises ends here: an :class:`~mlopsctl.errors.MlopsError` becomes
one line on stderr with its exit code; an unexpected error becomes one line that says how to
see the traceback (``--debug`` or ``MLOPSCTL_DEBUG=1``), exit 1; Ctrl-C is 130; a closed
output pipe (``| head``) ends quietly with 141, as a shell reports SIGPIPE. Messages are
made one line (control characters escaped) and secrets in them masked.
"""

from __future__ import annotations

import os
import sys

from mlopsctl.cli.commands import Command
from mlopsctl.errors import MlopsError, one_line


def debug_enabled() -> bool:
    return os.environ.get("MLOPSCTL_DEBUG", "") not in ("", "0", "false")


def message_of(exc: BaseException) -> str:
    if isinstance(exc, MlopsError):
        text = str(exc)
    elif isinstance(exc, OSError) and exc.strerror:
        where = f" {exc.filename}" if exc.filename is not None else ""
        text = f"{exc.strerror}:{where}; check the path and its permissions"
    else:
        text = (
            f"unexpected {type(exc).__name__}: {exc}; rerun with --debug for the traceback "
            "and report it"
        )
    from mlopsctl.core.secrets import mask_text

    return one_line(mask_text(text))


def report(exc: BaseException) -> int:
    """Print ``exc`` as one line on stderr (the traceback too with --debug); its exit code."""
    if debug_enabled():
        import traceback

        from mlopsctl.core.secrets import mask_text

        # the traceback's lines quote values (a URL, a message): masked like the error line
        sys.stderr.write(mask_text("".join(traceback.format_exception(exc))))
    sys.stderr.write(f"mlopsctl: error: {message_of(exc)}\n")
    sys.stderr.flush()
    return exc.exit_code if isinstance(exc, MlopsError) else 1


def _handler(command: Command) -> object:
    module, _, function = command.handler.partition(":")
    name = f"mlopsctl.cli.{module}"
    __import__(name)  # importlib.import_module would load importlib (and warnings) first
    return getattr(sys.modules[name], function)


def run(command: Command) -> int:
    """Run ``command``'s handler: its exit code, or the code of what it raised."""
    try:
        handler = _handler(command)
        code = handler(command)  # type: ignore[operator]
        sys.stdout.flush()
        return int(code or 0)
    except KeyboardInterrupt:
        sys.stderr.write("mlopsctl: interrupted\n")
        return 130
    except BrokenPipeError:
        _silence_stdout()
        return 141
    except SystemExit as exc:  # a library that exits on its own (a prompt's abort)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # noqa: BLE001 - the edge: every error becomes one line
        return report(exc)


def _silence_stdout() -> None:
    """After the reader of stdout went away, make the interpreter's final flush quiet."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass
