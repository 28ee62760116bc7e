"""The ML Test Score as logic: reading tags from source, the record, and the score."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from mlopsctl.core.readiness import mltest

TODAY = datetime.date(2026, 12, 5)


def write(root: Path, rel: str, text: str) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_tags_on_functions_classes_and_modules(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tests/unit/test_a.py",
        """import pytest

pytestmark = [pytest.mark.unit, pytest.mark.ml_test("monitor-4")]


@pytest.mark.ml_test("data-1", "data-7")
def test_one() -> None: ...


@pytest.mark.ml_test("infra-2")
class TestSpec:
    def test_two(self) -> None: ...

    def helper(self) -> None: ...


def test_three() -> None: ...
""",
    )
    found = mltest.scan(tmp_path)
    assert found.problems == []
    got = sorted((t.id, t.test) for t in found.tags)
    f = "tests/unit/test_a.py::"
    assert got == sorted([
        ("data-1", f + "test_one"), ("data-7", f + "test_one"),
        ("infra-2", f + "TestSpec::test_two"),
        ("monitor-4", f + "test_one"), ("monitor-4", f + "TestSpec::test_two"),
        ("monitor-4", f + "test_three"),
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("rel", "code", "says"),
    [
        ("tests/unit/test_b.py", '@pytest.mark.ml_test("data-0")\ndef test_x(): ...\n',
         "id 'data-0' does not exist"),
        ("tests/unit/test_b.py", '@pytest.mark.ml_test("data-1")\ndef build(): ...\n',
         "build is tagged ml_test but is not a test"),
        ("tests/unit/test_b.py", "@pytest.mark.ml_test()\ndef test_x(): ...\n",
         "needs the id as a string literal"),
        ("tests/unit/helpers.py", '@pytest.mark.ml_test("data-1")\ndef test_x(): ...\n',
         "is not a test file"),
        ("src/pkg/mod.py", 'pytestmark = pytest.mark.ml_test("data-1")\n',
         "it is not a test file"),
    ],
)  # fmt: skip
def test_bad_tags_are_named_with_file_and_line(tmp_path: Path, rel: str, code: str,
                                               says: str) -> None:  # fmt: skip
    write(tmp_path, rel, "import pytest\n\n" + code)
    found = mltest.scan(tmp_path)
    assert len(found.problems) == 1 and says in found.problems[0]
    assert found.problems[0].startswith(rel)
    assert found.tags == []


def test_files_without_the_marker_and_broken_files_are_skipped(tmp_path: Path) -> None:
    write(tmp_path, "tests/unit/test_c.py", "def test_x(:\n    ml_test\n")  # a syntax error
    write(tmp_path, "tests/unit/test_d.py", "def test_y() -> None: ...\n")
    assert mltest.scan(tmp_path).tags == [] and mltest.scan(tmp_path).problems == []


def test_the_record_keeps_the_latest_outcome_per_test(tmp_path: Path) -> None:
    mltest.write_record(tmp_path, [
        {"nodeid": "tests/t.py::test_a", "ids": ["data-1"], "outcome": "failed"},
        {"nodeid": "tests/t.py::test_b", "ids": ["data-9", "data-2"], "outcome": "passed"},
    ], "abc")  # fmt: skip
    mltest.write_record(tmp_path, [
        {"nodeid": "tests/t.py::test_a", "ids": ["data-1"], "outcome": "passed"},
    ], "def")  # fmt: skip
    record = mltest.read_record(tmp_path)
    assert record["tests/t.py::test_a"].outcome == "passed"
    assert record["tests/t.py::test_a"].commit == "def"
    assert record["tests/t.py::test_b"].ids == ("data-2",)  # unknown ids are not kept


@pytest.mark.parametrize("text", ["{not json", '{"tests": 5}', '{"tests": [{"ids": 1}]}', "[]"])
def test_a_damaged_record_reads_as_empty(tmp_path: Path, text: str) -> None:
    write(tmp_path, mltest.RECORD, text)
    assert mltest.read_record(tmp_path) == {}


def scored(tmp_path: Path, settings: dict[str, object] | None = None) -> dict[str, dict]:
    score = mltest.compute(tmp_path, settings or {}, today=TODAY)
    return {i["id"]: i for s in score.sections for i in s["items"]} | {
        "_score": {"score": score.score, "band": score.band,
                   "sums": [s["points"] for s in score.sections]},
    }  # fmt: skip


def test_statuses_points_and_the_minimum(tmp_path: Path) -> None:
    write(
        tmp_path,
        "tests/unit/test_e.py",
        """import pytest


@pytest.mark.ml_test("data-1")
def test_pass() -> None: ...


@pytest.mark.ml_test("data-2")
@pytest.mark.parametrize("x", [1, 2])
def test_param(x: int) -> None: ...


@pytest.mark.ml_test("model-1")
def test_not_run_yet() -> None: ...
""",
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/review.md").write_text("reviewed")
    (tmp_path / mltest.RECORD).parent.mkdir(parents=True)
    (tmp_path / mltest.RECORD).write_text(json.dumps({"tests": [
        {"nodeid": "tests/unit/test_e.py::test_pass", "ids": ["data-1"], "outcome": "passed",
         "when": "2026-12-01T10:00:00Z", "commit": "0123456789"},
        {"nodeid": "tests/unit/test_e.py::test_param[1]", "ids": ["data-2"],
         "outcome": "passed", "when": "2026-12-01T10:00:00Z", "commit": None},
        {"nodeid": "tests/unit/test_e.py::test_param[2]", "ids": ["data-2"],
         "outcome": "skipped", "when": "2026-12-01T10:00:00Z", "commit": None},
        {"nodeid": "tests/gone.py::test_old", "ids": ["data-3"], "outcome": "passed",
         "when": "2026-12-01T10:00:00Z", "commit": None},
    ]}))  # fmt: skip
    items = scored(tmp_path, {
        "manual": {"infra-1": "docs/review.md", "infra-2": "docs/none.md"},
        "exempt": {"monitor-1": {"reason": "r1", "until": TODAY},
                   "monitor-2": {"reason": "r2", "until": TODAY - datetime.timedelta(1)}},
    })  # fmt: skip
    assert (items["data-1"]["status"], items["data-1"]["points"]) == ("automated", 1.0)
    assert items["data-1"]["evidence"].endswith("passed on 2026-12-01 at 01234567")
    assert items["data-2"]["status"] == "failed"  # one parameter was skipped
    assert "test_param[2] skipped" in items["data-2"]["evidence"]
    assert items["data-3"]["status"] == "missing"  # a record of a test no longer tagged
    assert (
        items["model-1"]["status"] == "missing"
        and "has not run yet" in items["model-1"]["evidence"]
    )
    assert (items["infra-1"]["status"], items["infra-1"]["points"]) == ("manual", 0.5)
    assert items["infra-2"]["points"] == 0 and "does not exist" in items["infra-2"]["evidence"]
    assert (items["monitor-1"]["status"], items["monitor-1"]["points"]) == ("exempt", 1.0)
    assert "expired on 2026-12-04" in items["monitor-2"]["evidence"]
    assert items["_score"]["sums"] == [1.0, 0.0, 0.5, 1.0]
    assert items["_score"]["score"] == 0.0
    assert items["_score"]["band"].startswith("More of a research project")


@pytest.mark.parametrize(
    ("score", "starts"),
    [(0, "More of a research"), (0.5, "Not totally untested"), (1, "Not totally untested"),
     (1.5, "There's been first pass"), (3, "Reasonably tested"), (4.5, "Strong levels"),
     (5, "Strong levels"), (5.5, "Exceptional")],
)  # fmt: skip
def test_the_papers_bands(score: float, starts: str) -> None:
    assert mltest.band(score).startswith(starts)


def test_28_tests_in_four_sections() -> None:
    assert len(mltest.TITLES) == 28
    assert mltest.TITLES["infra-1"] == "Training is reproducible"
    assert mltest.TITLES["monitor-7"] == "Prediction quality has not regressed"
    assert set(mltest.COVERED_BY) <= set(mltest.TITLES)
