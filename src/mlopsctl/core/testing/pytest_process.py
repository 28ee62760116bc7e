"""One pytest process for one suite: a fork of this interpreter when it can be, else a fresh one.

A fresh ``python -m pytest`` pays for a second interpreter start and a second pytest import.
When the tests run under mlopsctl's own interpreter, with the same start-up environment, a
forked child (the model of ``multiprocessing``'s fork server and of pytest-forked) is the same
thing without that cost: pytest is imported once, before the first fork, and every suite still
runs in its own process. The child is made to look like ``python -m pytest`` started in the
project root: the working directory, ``os.environ``, ``sys.argv``, ``sys.path[0]``, ``TZ``
and the temporary folder are set as a new interpreter would set them, and the exit handlers
registered by the parent are dropped (the child's own run at its end).

The fork is not used, and a fresh interpreter runs instead, when: this is not Linux, the tests'
Python is another interpreter, a variable read at interpreter start-up (``PYTHON*``, ``LANG``,
``LC_*``) differs in the tests' environment, pytest is not importable here, another thread
runs, or ``mlops.yaml`` sets ``tests.fork: false``.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import sys
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core import proc

# A test's worst outcome is the one counted.
_RANK = {"failed": 3, "errors": 2, "skipped": 1, "passed": 0}


@dataclass
class Finished:
    returncode: int
    output: str  # what pytest printed, when it was captured; "" when it went to the terminal
    counts: dict[str, int] | None  # from the forked child; None: read the JUnit file instead
    failures: list[dict[str, str]] = field(default_factory=list)  # test, output (first lines)


def startup_vars(env: Mapping[str, str]) -> dict[str, str]:
    """The variables an interpreter reads once at start-up, which a fork cannot change."""
    return {
        k: v for k, v in env.items() if k.startswith(("PYTHON", "LC_")) or k in ("LANG", "LANGUAGE")
    }


def can_fork(python: str, env: Mapping[str, str]) -> bool:
    """Whether ``python -m pytest`` under ``env`` can run as a fork of this process."""
    return (
        sys.platform.startswith("linux")
        and os.path.abspath(python) == os.path.abspath(sys.executable)
        and startup_vars(env) == startup_vars(os.environ)
        and threading.active_count() == 1
        and _pytest_importable()
    )


def _pytest_importable() -> bool:
    try:
        import pytest  # noqa: F401  (imported once here, shared by every forked suite)
    except ImportError:
        return False
    return True


class Started:
    """A suite's pytest process, running; :meth:`wait` collects what it left."""

    def __init__(
        self,
        capture: bool,
        pid: int | None = None,
        scratch: Path | None = None,
        fresh: proc.Running | None = None,
        relay: Relay | None = None,
    ) -> None:
        self.capture, self.pid, self.scratch, self.fresh = capture, pid, scratch, fresh
        self.relay = relay

    def wait(self) -> Finished:
        try:
            return self._wait()
        finally:
            if self.relay is not None:
                self.relay.join()

    def _wait(self) -> Finished:
        if self.fresh is not None:
            done = self.fresh.finish(check=False)
            output = (done.stderr or "") + (done.stdout or "")
            return Finished(_shell_code(done.returncode), output, None)
        assert self.pid is not None and self.scratch is not None
        try:
            _, status = os.waitpid(self.pid, 0)
        except KeyboardInterrupt:
            os.waitpid(self.pid, 0)  # it got the same Ctrl-C; let it finish its report
            raise
        code = _shell_code(os.waitstatus_to_exitcode(status))
        output_file = self.scratch / "output.txt"
        output = ""
        if self.capture and output_file.exists():
            output = output_file.read_text(errors="replace")
        try:
            doc = json.loads((self.scratch / "counts.json").read_text())
            counts, failures = doc["counts"], doc["failures"]
        except (OSError, ValueError, KeyError, TypeError):
            counts, failures = None, []  # it died before the end of the session
        return Finished(code, output, counts, failures)


def start(
    python: str,
    args: Sequence[str],
    cwd: Path,
    env: Mapping[str, str],
    capture: bool,
    scratch: Path | None = None,
    plugin_path: str | None = None,
) -> Started:
    """Start pytest with ``args`` in ``cwd``; the caller may work, then ``wait``.

    With a ``scratch`` folder (for the child's counts and output) it runs as a fork, which
    the caller has checked with :func:`can_fork`; without one, as a fresh interpreter.
    ``plugin_path``: a folder whose modules ``args`` load with ``-p`` (put on ``sys.path`` of
    the fork, on ``PYTHONPATH`` of a fresh interpreter).
    """
    relay = None if capture else Relay()
    colour = relay is not None and sys.stdout.isatty() and "NO_COLOR" not in env
    if colour and not any(a.startswith("--color") for a in args):
        args = [*args, "--color=yes"]  # it writes to the relay's pipe, not a terminal
    if scratch is None:
        if plugin_path is not None:
            env = {**env, "PYTHONPATH": os.pathsep.join(
                [plugin_path, *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])]
            )}  # fmt: skip
        try:
            running = proc.start(
                [python, "-m", "pytest", *args], cwd=cwd, env=env, capture=capture,
                output_fd=relay.write_fd if relay is not None else None,
            )  # fmt: skip
        finally:
            if relay is not None:
                relay.started()
        return Started(capture, fresh=running, relay=relay)
    counts_file = scratch / "counts.json"
    counts_file.unlink(missing_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    # What exists now lives on in the child unchanged: keep the child's collections off it
    # (a collection writes to every object it visits, copying each shared memory page).
    gc.freeze()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        output_file = scratch / "output.txt" if capture else None
        if relay is not None:
            os.dup2(relay.write_fd, 1)
            os.dup2(relay.write_fd, 2)
        if plugin_path is not None:
            sys.path.insert(1, plugin_path)
        _child(list(args), cwd, dict(env), counts_file, output_file)
    gc.unfreeze()
    if relay is not None:
        relay.started()
    return Started(capture, pid=pid, scratch=scratch, relay=relay)


class Relay:
    """pytest's output on its way to the terminal, line by line, with secrets masked (a test
    or pytest's own usage error may print a token): a pipe, and a thread that copies it."""

    def __init__(self) -> None:
        self.read_fd, self.write_fd = os.pipe()
        self.thread: threading.Thread | None = None

    def started(self) -> None:
        """The child holds the writing end now: close ours, and start copying."""
        os.close(self.write_fd)
        self.thread = threading.Thread(target=self._copy, daemon=True)
        self.thread.start()

    def _copy(self) -> None:
        """Whole lines are masked before they are written. pytest's progress (``....F`` after
        a test file's name) is written as it comes, so that a run shows it is running: a
        line's beginning goes out early only while it is nothing but that progress."""
        import codecs
        import re

        from mlopsctl.core.secrets import LineMasker

        progress = re.compile(r"(?:\S+\.py )?[.sFExX]*")
        out = sys.stdout.fileno()
        masker = LineMasker()
        decoder = codecs.getincrementaldecoder("utf-8")("replace")
        pending, sent = "", 0  # the line so far, and how much of it is out already

        def write(text: str) -> None:
            with contextlib.suppress(OSError):
                os.write(out, text.encode("utf-8", "replace"))

        while chunk := os.read(self.read_fd, 65536):
            pending += decoder.decode(chunk)
            *lines, pending_tail = pending.split("\n")
            for line in lines:
                if sent:
                    write(masker.line(line[sent:] + "\n"))
                else:
                    write(masker.line(line + "\n"))
                sent = 0
            pending = pending_tail
            if len(pending) > sent and not masker.in_key and progress.fullmatch(pending):
                write(pending[sent:])
                sent = len(pending)
        os.close(self.read_fd)
        tail = pending + decoder.decode(b"", final=True)
        if len(tail) > sent:
            write(masker.line(tail[sent:]))

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def _shell_code(code: int) -> int:
    """A death by signal N as a shell reports it, 128 + N, however the child was started."""
    return code if code >= 0 else 128 - code


def _child(
    args: list[str], cwd: Path, env: dict[str, str], counts_file: Path, output_file: Path | None
) -> None:
    """Become ``python -m pytest ARGS`` started in ``cwd`` with ``env``; exit with its code."""
    import atexit

    code = 1
    handlers = ExitHandlers()
    try:
        # The parent's exit handlers are the parent's business: the child records its own
        # through the public atexit functions and runs them at its end, as an interpreter
        # would, then leaves with os._exit so that nothing of the parent runs twice.
        atexit.register, atexit.unregister = handlers.register, handlers.unregister  # type: ignore[assignment]
        if output_file is not None:
            fd = os.open(output_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.close(fd)
        os.chdir(cwd)
        tz = os.environ.get("TZ")
        os.environ.clear()
        os.environ.update(env)
        if env.get("TZ") != tz:
            import time

            time.tzset()
        tempfile.tempdir = None  # computed again, from the tests' TMPDIR
        if not sys.flags.safe_path:
            sys.path[0] = str(cwd)  # what `python -m` puts first
        import pytest

        sys.argv = [os.path.join(os.path.dirname(pytest.__file__), "__main__.py"), *args]
        counter = Counter()
        try:
            code = int(pytest.main(args, plugins=[counter]))
            sys.stdout.flush()
        except BrokenPipeError:  # as pytest's own entry point does
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            code = 1
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        counts_file.write_text(
            json.dumps({"counts": counter.counts(), "failures": counter.failures})
        )
        handlers.run()
        if "logging" in sys.modules:  # as the interpreter's own logging.shutdown would
            sys.modules["logging"].shutdown()
    except BaseException:  # noqa: BLE001 - whatever happens, the child must end here
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)


class ExitHandlers:
    """The exit handlers the forked child registers, run last-in first-out at its end."""

    def __init__(self) -> None:
        self.handlers: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def register(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
        self.handlers.append((func, args, kwargs))
        return func

    def unregister(self, func: Callable[..., Any]) -> None:
        self.handlers = [h for h in self.handlers if h[0] != func]

    def run(self) -> None:
        while self.handlers:
            func, args, kwargs = self.handlers.pop()
            try:
                func(*args, **kwargs)
            except Exception:  # noqa: BLE001 - as atexit does: report and go on
                import traceback

                traceback.print_exc()


def last_lines(text: str, count: int = 12, width: int = 200) -> str:
    """The last ``count`` lines of a failure's report (where the assertion is), each cut to
    ``width`` characters, secrets masked (a test's output may print a token)."""
    from mlopsctl.core.secrets import mask_text

    lines = [line[:width] for line in mask_text(text).rstrip().splitlines()]
    return "\n".join(lines[-count:])


class Counter:
    """A pytest plugin counting outcomes as pytest's JUnit report has them.

    One entry per test, its worst outcome winning, except that a teardown error after a
    failed call is an entry of its own (as JUnit writes a second testcase for it).
    """

    def __init__(self) -> None:
        self.entries: dict[str, list[str]] = {}
        self.failures: list[dict[str, str]] = []

    def _failed(self, report: Any) -> None:
        text = str(getattr(report, "longreprtext", "") or "")
        self.failures.append({"test": report.nodeid, "output": last_lines(text)})

    def _note(self, nodeid: str, outcome: str, new_entry: bool = False) -> None:
        entries = self.entries.setdefault(nodeid, [])
        if new_entry or not entries:
            entries.append(outcome)
        elif _RANK[outcome] > _RANK[entries[-1]]:
            entries[-1] = outcome

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self._failed(report)
        if report.when == "call":
            self._note(report.nodeid, report.outcome)  # xfail: skipped; strict xpass: failed
        elif report.failed:  # setup or teardown
            after_failure = self.entries.get(report.nodeid, [""])[-1] == "failed"
            new_entry = report.when == "teardown" and after_failure
            self._note(report.nodeid, "errors", new_entry=new_entry)
        elif report.skipped:
            self._note(report.nodeid, "skipped")

    def pytest_collectreport(self, report: Any) -> None:
        if report.failed:
            self._failed(report)
            self._note(report.nodeid, "errors")
        elif report.skipped:
            self._note(report.nodeid, "skipped")

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(_RANK, 0)
        for entries in self.entries.values():
            for outcome in entries:
                out[outcome] += 1
        return out
