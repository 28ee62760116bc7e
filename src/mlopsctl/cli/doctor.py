"""``mlopsctl doctor``."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from mlopsctl.cli.plain import echo, emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import Doctor

MARKS = {"pass": "[green]pass[/]", "fail": "[bold red]fail[/]", "skip": "[dim]skip[/]",
         "automated": "[green]automated[/]", "manual": "[yellow]manual[/]",
         "exempt": "[blue]exempt[/]", "missing": "[dim]missing[/]",
         "failed": "[bold red]failed[/]"}  # fmt: skip


def doctor(o: Doctor) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.readiness import doctor as readiness
    from mlopsctl.errors import BadInput

    if o.fail_under is not None and not 0 <= o.fail_under <= 100:
        raise BadInput(f"--fail-under {o.fail_under:g} is outside 0-100; give a percentage.")
    if o.ml_min is not None and not 0 <= o.ml_min <= 7:
        raise BadInput(f"--ml-min {o.ml_min:g} is outside 0-7; the ML Test Score is 0 to 7.")
    from pathlib import Path

    page = Path(o.html) if o.html else None
    if page is not None and page.is_dir():
        raise BadInput(f"--html {page} is a folder; name a file, e.g. readiness.html.")
    cfg = config.load_project()
    if o.json or not sys.stderr.isatty():
        report = readiness.run(cfg)
    else:
        from rich.console import Console

        with Console(stderr=True).status("doctor: running the checks") as status:

            def progress(check: readiness.Check, done: int, total: int) -> None:
                status.update(f"doctor: {done}/{total} checks done ({check.title})")

            report = readiness.run(cfg, progress)
    doc = report.as_dict()
    if page is not None:
        from mlopsctl.core.fs import atomic_write
        from mlopsctl.core.readiness.page import render

        atomic_write(page.absolute(), render(cfg.name, doc).encode("utf-8"))
    if o.json:
        emit_json({**doc, "fail_under": o.fail_under, "ml_min": o.ml_min,
                   "html": None if page is None else str(page)})  # fmt: skip
    else:
        _print(report, doc)
        if page is not None:
            echo(f"wrote {page}", err=True)
    low = o.fail_under is not None and report.score < o.fail_under
    ml_low = o.ml_min is not None and doc["ml_test_score"]["score"] < o.ml_min
    return 1 if low or ml_low else 0


def _print(report: Any, doc: dict[str, Any]) -> None:
    from rich.markup import escape
    from rich.table import Table

    from mlopsctl.cli.tables import console

    table = Table(show_edge=False, pad_edge=False)
    for col in ("check", "status", "why", "fix"):
        table.add_column(col, overflow="fold")
    for c in report.checks:
        fix = escape(c.fix) if c.status != "pass" else ""
        table.add_row(c.title, MARKS[c.status], escape(c.reason), fix)
    out = console()
    out.print(table)
    out.print(f"readiness: {report.score}%")
    ml = doc["ml_test_score"]
    items = Table(show_edge=False, pad_edge=False, title="ML Test Score (Breck et al., 2017)")
    for col in ("id", "test", "status", "points", "evidence or fix"):
        items.add_column(col, overflow="fold")
    for section in ml["sections"]:
        for item in section["items"]:
            items.add_row(item["id"], escape(item["title"]), MARKS[item["status"]],
                          f"{item['points']:g}", escape(item["evidence"]))  # fmt: skip
        items.add_row("", f"[bold]{section['name']}[/]", "", f"[bold]{section['points']:g}[/]",
                      "", end_section=True)  # fmt: skip
    out.print(items)
    sums = ", ".join(f"{s['name'].lower()} {s['points']:g}" for s in ml["sections"])
    out.print(f"ML Test Score: {ml['score']:g} (the lowest of {sums}): {escape(ml['band'])}")
