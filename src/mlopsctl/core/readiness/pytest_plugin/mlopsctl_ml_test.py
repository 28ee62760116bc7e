"""A pytest plugin that ``mlopsctl test`` loads into each suite (``-p mlopsctl_ml_test``): the
``ml_test`` marker, and the outcome of every test tagged with it, written as JSON to
``$MLOPSCTL_ML_TESTS_OUT`` at the end of the session for the ML Test Score.

Standard library only, and alone in its folder: mlopsctl puts the folder on ``PYTHONPATH`` of
a project's own interpreter, which need not have mlopsctl installed. Works under xdist: the
tags travel to the controller as user properties of each report.
"""

from __future__ import annotations

import json
import os
from typing import Any

KEY = "ml_test"
OUT = "MLOPSCTL_ML_TESTS_OUT"
_outcomes: dict[str, dict[str, Any]] = {}


def pytest_configure(config: Any) -> None:
    config.addinivalue_line(
        "markers",
        "ml_test(id): the ML Test Score test this test is evidence for "
        "(data-1..7, model-1..7, infra-1..7, monitor-1..7)",
    )


def pytest_collection_modifyitems(items: list[Any]) -> None:
    for item in items:
        for mark in item.iter_markers(KEY):
            for tid in mark.args:
                item.user_properties.append((KEY, str(tid)))


def pytest_runtest_logreport(report: Any) -> None:
    ids = [value for name, value in getattr(report, "user_properties", []) if name == KEY]
    if not ids:
        return
    entry = _outcomes.setdefault(report.nodeid, {"nodeid": report.nodeid, "ids": ids,
                                                 "outcome": "passed"})  # fmt: skip
    if report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"
    elif report.failed:
        entry["outcome"] = "failed" if report.when == "call" else "error"


def pytest_sessionfinish(session: Any) -> None:
    path = os.environ.get(OUT)
    if not path or hasattr(session.config, "workerinput"):
        return  # not asked, or an xdist worker (the controller writes)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(sorted(_outcomes.values(), key=lambda e: e["nodeid"]), fh)
