"""pytest_process: the outcome counter (as JUnit counts), the end of a report, the relay."""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

from mlopsctl.core.testing import pytest_process
from mlopsctl.core.testing.pytest_process import Counter, last_lines


def report(nodeid: str, when: str, outcome: str, text: str = "") -> SimpleNamespace:
    return SimpleNamespace(nodeid=nodeid, when=when, outcome=outcome, failed=outcome == "failed",
                           skipped=outcome == "skipped", longreprtext=text)  # fmt: skip


def test_outcomes_are_counted_as_junit_counts_them() -> None:
    c = Counter()
    for r in [
        report("a", "setup", "passed"), report("a", "call", "passed"),
        report("b", "call", "failed", "assert 1 == 2"),
        report("b", "teardown", "failed", "teardown broke"),  # a second entry, as JUnit's
        report("c", "setup", "failed", "fixture broke"),
        report("d", "setup", "skipped"),
    ]:  # fmt: skip
        c.pytest_runtest_logreport(r)
    c.pytest_collectreport(report("tests/x.py", "collect", "failed", "ImportError"))
    assert c.counts() == {"passed": 1, "failed": 1, "errors": 3, "skipped": 1}
    assert [f["test"] for f in c.failures] == ["b", "b", "c", "tests/x.py"]


def test_last_lines_keeps_the_end_cut_and_masked() -> None:
    text = "\n".join(f"line {i}" for i in range(30)) + "\nE  token ghp_" + "a" * 36
    out = last_lines(text, count=3, width=40)
    assert out.splitlines()[0] == "line 28" and "ghp_" not in out and len(out.splitlines()) == 3


def test_the_relay_copies_lines_masked(tmp_path: object, capfd: object) -> None:
    relay = pytest_process.Relay()
    os.write(relay.write_fd, b"ok line\npassword=hunter2 here\n")
    keep = os.dup(relay.write_fd)  # started() closes ours, as after a fork
    relay.started()
    os.close(keep)
    relay.join()
    out = capfd.readouterr().out  # type: ignore[attr-defined]
    assert "ok line" in out and "hunter2" not in out
    assert sys.stdout is not None


def test_the_relay_lets_progress_through_and_still_masks_the_rest(capfd: object) -> None:
    relay = pytest_process.Relay()
    writer = os.dup(relay.write_fd)
    relay.started()
    for chunk in (b"tests/unit/test_a.py ..", b"F", b" token: ghp_" + b"a" * 36 + b"\n",
                  b"-----BEGIN RSA PRIVATE KEY-----\nMIIEbody\n-----END RSA PRIVATE KEY-----\n",
                  "caf\u00e9".encode()[:4], "caf\u00e9".encode()[4:] + b" tail"):  # fmt: skip
        os.write(writer, chunk)
    os.close(writer)
    relay.join()
    out = capfd.readouterr().out  # type: ignore[attr-defined]
    assert out.startswith("tests/unit/test_a.py ..F")
    assert "ghp_" not in out and "MIIEbody" not in out
    assert out.endswith("café tail")
