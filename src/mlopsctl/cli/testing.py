"""``mlopsctl test``: import-light like the hook commands, so its overhead over pytest is small."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.cli.plain import emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import Test


def run(o: Test) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.testing import runner

    cfg = config.load_project()
    options = runner.Options(
        suites=o.suites, stage=o.stage, cov=o.cov or o.cov_fail_under is not None,
        cov_fail_under=o.cov_fail_under,
        junit_xml=Path(o.junit_xml).absolute() if o.junit_xml else None,
        cov_xml=Path(o.cov_xml).absolute() if o.cov_xml else None,
        workers=o.workers, env_name=o.env_name or "testing", env_required=o.env_name is not None,
        fail_fast=o.fail_fast, pytest_args=list(o.pytest_args), stream=not o.json,
        affected=o.affected, base=o.base,
    )  # fmt: skip
    if o.base is not None and not o.affected:
        from mlopsctl.errors import BadInput

        raise BadInput("--base goes with --affected; add --affected or drop --base.")

    def announce(suite: str) -> None:
        if not o.json:
            print(f"── {suite} ──", flush=True)

    def prepare(suite: str) -> None:
        if not o.json and "rich.table" not in sys.modules:
            import rich.console
            import rich.table  # noqa: F401  (the summary table loads while the tests run)

    def announce_selection(selection: Any) -> None:
        if o.json:
            return
        if selection.everything:
            print(f"affected: everything runs: {selection.everything}", flush=True)
        elif not selection.nothing:
            count = len(selection.tests) + len(selection.files)
            print(f"affected: {count} selected by {len(selection.changed)} changed file(s) "
                  f"since {selection.base[:12]} ({selection.base_source})", flush=True)  # fmt: skip

    result = runner.run(cfg, options, on_suite=announce, on_running=prepare,
                        on_selection=announce_selection)  # fmt: skip
    if o.json:
        emit_json(result.as_dict())
    else:
        _render(result)
    return 0 if result.ok else 1


def _render(result: Any) -> None:
    from rich.table import Table

    from mlopsctl.cli.tables import console

    out = console()
    out.print(f"python: {result.python} ({result.python_source})")
    if result.env_files:
        out.print(f"environment: {', '.join(result.env_files)} (TEST_MODE=true)")
    styles = {"passed": "green", "failed": "bold red", "error": "bold red", "no tests": "yellow",
              "not affected": "dim"}  # fmt: skip
    table = Table(show_edge=False, pad_edge=False)
    for col in ("suite", "status", "passed", "failed", "skipped", "errors", "time", "note"):
        table.add_column(
            col,
            justify="right" if col in ("passed", "failed", "skipped", "errors", "time") else "left",
        )
    for s in result.suites:
        table.add_row(
            s.name, f"[{styles.get(s.status, '')}]{s.status}[/]", str(s.passed), str(s.failed),
            str(s.skipped), str(s.errors), f"{s.seconds:.2f}s", s.message,
        )  # fmt: skip
    if result.suites:
        out.print(table)
    from rich.markup import escape

    for s in result.suites:
        for failure in s.failures:
            out.print(f"[bold red]FAILED[/] {escape(failure['test'])} ({s.name})")
            for line in failure["output"].splitlines():
                out.print(f"    {escape(line)}", soft_wrap=True)
    if result.coverage is not None:
        if result.coverage_files and result.changed_coverage is None:
            files = Table(show_edge=False, pad_edge=False, title="files under 100%",
                          title_justify="left")  # fmt: skip
            for col in ("file", "cover", "missing lines"):
                files.add_column(col, justify="right" if col == "cover" else "left")
            for f in result.coverage_files:
                files.add_row(escape(f["file"]), f"{f['percent']:.1f}%", f["missing"])
            out.print(files)
        verdict = "ok" if result.coverage_ok else "[bold red]under the gate[/]"
        changed = result.changed_coverage
        if changed is None:
            out.print(f"coverage: {result.coverage:.1f}% (gate {result.gate:g}%) {verdict}")
        else:
            out.print(f"coverage of the changed lines: {changed.percent:.1f}% ({changed.covered}"
                      f" of {changed.total}, gate {result.gate:g}%) {verdict}")  # fmt: skip
            for where in changed.uncovered:
                out.print(f"  not covered: {escape(where)}")
        if result.coverage_xml:
            out.print(f"coverage xml: {escape(result.coverage_xml)}")
    for note in result.notes:
        out.print(f"note: {note}")
    if result.junit_xml:
        out.print(f"junit: {result.junit_xml}")
