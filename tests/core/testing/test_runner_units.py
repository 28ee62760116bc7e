"""The test runner's helpers: suites, stage filters, coverage ranges, JUnit counting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.core.testing import runner
from mlopsctl.errors import BadInput

JUNIT = """<testsuites><testsuite name="selected">
<testcase classname="tests.unit.test_1_1_a" name="test_ok" time="0.5"/>
<testcase classname="tests.unit.test_1_1_a" name="test_bad"><failure message="boom">trace</failure></testcase>
<testcase classname="tests.e2e.test_1_1_flow" name="test_flow" time="1.0"/>
<testcase classname="tests.e2e.test_1_1_flow" name="test_skip"><skipped/></testcase>
<testcase classname="tests.e2e.test_1_1_flow" name="test_err"><error message="setup">x</error></testcase>
</testsuite></testsuites>"""


def test_suites_in_order_and_all() -> None:
    assert runner.resolve_suites([], Path()) == ["unit", "integration", "e2e"]
    assert runner.resolve_suites(["e2e", "unit", "e2e"], Path()) == ["e2e", "unit"]
    assert runner.resolve_suites(["all"], Path()) == list(runner.SUITES)
    with pytest.raises(BadInput, match="Unknown suite 'smoke'"):
        runner.resolve_suites(["smoke"], Path())


def test_coverage_ranges() -> None:
    assert runner._ranges([7, 1, 2, 3, 9, 10]) == "1-3, 7, 9-10"
    assert runner._ranges([]) == ""


def test_junit_counts_split_by_suite(tmp_path: Path) -> None:
    import xml.etree.ElementTree as ET

    xml = tmp_path / "junit.xml"
    xml.write_text(JUNIT)
    unit, e2e = runner.SuiteResult("unit"), runner.SuiteResult("e2e")
    unit_el, e2e_el = ET.Element("testsuite"), ET.Element("testsuite")
    runner._add_junit_counts(unit, xml, unit_el, prefix="tests.unit.")
    runner._add_junit_counts(e2e, xml, e2e_el, prefix="tests.e2e.")
    assert (unit.passed, unit.failed, unit.skipped, unit.errors) == (1, 1, 0, 0)
    assert (e2e.passed, e2e.failed, e2e.skipped, e2e.errors) == (1, 0, 1, 1)
    assert unit.failures == [{"test": "tests/unit/test_1_1_a.py::test_bad", "output": "trace"}]
    assert len(list(unit_el)) == 2 and len(list(e2e_el)) == 3


def test_the_plugins_outcomes_are_read_or_nothing(tmp_path: Path) -> None:
    path = tmp_path / "ml.json"
    assert runner._read_tagged(path) == []
    path.write_text(json.dumps([{"nodeid": "t", "ids": ["data-1"], "outcome": "passed"}, 3]))
    assert runner._read_tagged(path) == [{"nodeid": "t", "ids": ["data-1"], "outcome": "passed"}]
    path.write_text("{broken")
    assert runner._read_tagged(path) == []


def test_a_suites_targets(tmp_path: Path) -> None:
    (tmp_path / "tests/unit").mkdir(parents=True)
    for name in ("test_6_1_a.py", "test_6_10_b.py", "test_6_1_c.sh"):
        (tmp_path / "tests/unit" / name).write_text("")
    assert runner.plan_suite(tmp_path, "unit", None) == (
        ["tests/unit"],
        [tmp_path / "tests/unit/test_6_1_c.sh"],
    )
    import re

    only = re.compile(r"^test_6_1_\w+\.(py|sh)$")
    assert runner.plan_suite(tmp_path, "unit", only) == (
        ["tests/unit/test_6_1_a.py"],
        [tmp_path / "tests/unit/test_6_1_c.sh"],
    )
    assert runner.plan_suite(tmp_path, "e2e", None) == ([], [])
