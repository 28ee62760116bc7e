"""``mlopsctl test``: import-light like the hook commands, so its overhead over pytest is small.

Rich is imported while the first suite's tests run (see ``Options.meanwhile``), so the summary
table costs no start-up time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlopsctl.cli.fastargs import Parser
from mlopsctl.cli.report import emit_json


def _prefetch() -> None:
    """Import what the summary table needs (called while the first pytest process runs)."""
    import rich.console
    import rich.table  # noqa: F401


def run_tests(
    suites: list[str], stage: str | None = None, cov: bool = False,
    cov_fail_under: float | None = None, junit_xml: str | None = None, workers: str | None = None,
    env_name: str | None = None, fail_fast: bool = False, pytest_args: list[str] | None = None,
    json_: bool = False,
) -> int:  # fmt: skip
    from mlopsctl.core import config, testrun

    cfg = config.load_project()
    options = testrun.Options(
        suites=suites, stage=stage, cov=cov or cov_fail_under is not None,
        cov_fail_under=cov_fail_under, junit_xml=Path(junit_xml).absolute() if junit_xml else None,
        workers=workers, env_name=env_name or "testing", env_required=env_name is not None,
        fail_fast=fail_fast, pytest_args=list(pytest_args or []), stream=not json_,
        meanwhile=None if json_ else _prefetch,
    )  # fmt: skip

    def announce(suite: str) -> None:
        if not json_:
            print(f"── {suite} ──", flush=True)

    result = testrun.run(cfg, options, on_suite=announce)
    if json_:
        emit_json(result.as_dict())
    else:
        _render(result)
    return 0 if result.ok else 1


def _render(result: Any) -> None:
    from rich.table import Table

    from mlopsctl.cli.output import console

    out = console()
    out.print(f"python: {result.python} ({result.python_source})")
    if result.env_files:
        out.print(f"environment: {', '.join(result.env_files)} (TEST_MODE=true)")
    styles = {"passed": "green", "failed": "bold red", "error": "bold red", "no tests": "yellow"}
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
    out.print(table)
    if result.coverage is not None:
        verdict = "ok" if result.coverage_ok else "[bold red]under the gate[/]"
        out.print(f"coverage: {result.coverage:.1f}% (gate {result.gate:g}%) {verdict}")
    for note in result.notes:
        out.print(f"note: {note}")
    if result.junit_xml:
        out.print(f"junit: {result.junit_xml}")


def parser() -> Parser:
    p = Parser("test")
    p.add_argument("suites", nargs="*")
    p.add_argument("--stage")
    p.add_argument("--cov", action="store_true")
    p.add_argument("--cov-fail-under", type=float)
    p.add_argument("--junit-xml")
    p.add_argument("-n", dest="workers")
    p.add_argument("--env", dest="env_name")
    p.add_argument("--fail-fast", action="store_true")
    p.add_argument("--json", action="store_true")
    return p


def main(args: list[str]) -> int:
    """``mlopsctl test ...`` from raw arguments (no Typer)."""
    args = args[1:]
    pytest_args: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, pytest_args = args[:cut], args[cut + 1 :]
    ns = parser().parse_args(args)
    return run_tests(
        ns.suites, ns.stage, ns.cov, ns.cov_fail_under, ns.junit_xml, ns.workers,
        ns.env_name, ns.fail_fast, pytest_args, ns.json,
    )  # fmt: skip
