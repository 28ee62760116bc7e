"""`mlopsctl test --affected`: real pytest runs with coverage contexts on a generated project
with five substages; the map is recorded once per module and every test works on a copy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlopsctl.core import config
from mlopsctl.core.testing import affected, runner, testmap
from tests.conftest import git
from tests.system.conftest import mlopsctl

STAGES = [("1.1", "ingest"), ("2.1", "features"), ("3.1", "versioning"), ("6.1", "monitor-api"),
          ("8.1", "autoscale")]  # fmt: skip


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A committed project with five substages and the test map of a full --cov run."""
    from mlopsctl.core.scaffold import create

    home = tmp_path_factory.mktemp("affected-home")
    (home / ".gitconfig").write_text("[user]\n\tname = T\n\temail = t@example.invalid\n"
                                     "[init]\n\tdefaultBranch = main\n")  # fmt: skip
    saved = {k: os.environ.get(k) for k in ("HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM")}
    os.environ.update(HOME=str(home), GIT_CONFIG_GLOBAL=str(home / ".gitconfig"),
                      GIT_CONFIG_NOSYSTEM="1")  # fmt: skip
    try:
        root = tmp_path_factory.mktemp("affected") / "demo"
        create.plan_init(root, name="demo").apply()
        create.init_git(root)
        cfg = config.load(root)
        for sub, feature in STAGES:
            create.plan_new_stage(cfg, sub, feature).apply()
            cfg = config.load(root)
        git(root, "add", "-A")
        git(root, "commit", "-qm", "feat: five substages", "--no-verify")
        done = mlopsctl(root, "test", "unit", "integration", "e2e", "--cov", "--json")
        assert done.returncode == 0, done.stdout + done.stderr
        assert json.loads(done.stdout)["test_map"] == testmap.MAP_FILE
        yield root
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def demo(recorded: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "demo"
    shutil.copytree(recorded, copy, symlinks=True)
    return copy


def affected_run(root: Path, *args: str) -> tuple[int, dict]:
    done = mlopsctl(root, "test", "unit", "integration", "e2e", "--affected", *args, "--json")
    return done.returncode, json.loads(done.stdout)


def selected(doc: dict) -> list[str]:
    return [s["test"] for s in doc["affected"]["selected"]]


def edit(root: Path, path: str, old: str, new: str) -> None:
    file = root / path
    text = file.read_text()
    assert old in text, (path, old)
    file.write_text(text.replace(old, new, 1))


MODULE = "src/demo/data_pipeline/ingest.py"
OTHER = "src/demo/feature_store/features.py"


def test_an_edited_line_runs_only_the_tests_that_executed_it(demo: Path) -> None:
    edit(demo, MODULE, "size = self.settings.batch_size", "size = max(1, self.settings.batch_size)")
    code, doc = affected_run(demo, "--cov")
    assert code == 0, doc
    chosen = selected(doc)
    assert chosen and all("test_1_1_" in t for t in chosen), chosen
    assert all(
        r.startswith(f"{MODULE}:") for s in doc["affected"]["selected"] for r in s["reasons"]
    )
    ran = sum(s["passed"] for s in doc["suites"])
    assert ran == len(chosen)  # exactly the selected tests ran, and passed
    assert doc["affected"]["changed_coverage"]["percent"] == 100.0


def test_a_regression_in_another_module_is_selected_and_fails(demo: Path) -> None:
    edit(demo, OTHER, "return cls(enabled=enabled, batch_size=batch_size)",
         "return cls(enabled=enabled, batch_size=batch_size + 1)")  # fmt: skip
    code, doc = affected_run(demo)
    assert code == 1
    failures = [f["test"] for s in doc["suites"] for f in s["failures"]]
    assert failures and all("test_2_1_" in f for f in failures), failures
    assert not any("test_1_1_" in t for t in selected(doc))


def test_new_uncovered_code_fails_the_changed_lines_gate_until_a_new_test_covers_it(
    demo: Path,
) -> None:
    (demo / MODULE).write_text((demo / MODULE).read_text() + (
        "\n\ndef checksum(records: list[dict[str, Any]]) -> int:\n"
        "    total = 0\n    for record in records:\n        total += len(record)\n"
        "    return total\n"
    ))  # fmt: skip
    code, doc = affected_run(demo, "--cov")
    assert code == 1
    changed = doc["affected"]["changed_coverage"]
    assert changed["ok"] is False and changed["percent"] < 80
    assert any(u.startswith(f"{MODULE}:") for u in changed["uncovered"]), changed
    full = mlopsctl(demo, "test", "unit", "integration", "e2e", "--cov", "--json")
    assert full.returncode == 0, full.stdout  # the total still passes its gate
    assert json.loads(full.stdout)["coverage"]["total"] >= 80
    git(demo, "checkout", "-q", "--", ".")  # the full run recorded a map at the same commit
    (demo / MODULE).write_text((demo / MODULE).read_text() + (
        "\n\ndef checksum(records: list[dict[str, Any]]) -> int:\n"
        "    total = 0\n    for record in records:\n        total += len(record)\n"
        "    return total\n"
    ))  # fmt: skip
    new_test = "tests/unit/test_1_1_checksum.py"
    (demo / new_test).write_text(
        "from demo.data_pipeline.ingest import checksum\n\n\n"
        "def test_checksum():\n    assert checksum([{'a': 1}, {}]) == 1\n"
    )
    code, doc = affected_run(demo, "--cov")
    assert code == 0, doc
    assert new_test in selected(doc)
    assert doc["affected"]["changed_coverage"]["uncovered"] == []


def test_a_conftest_edit_runs_everything(demo: Path) -> None:
    (demo / "tests/conftest.py").write_text((demo / "tests/conftest.py").read_text() + "\n# x\n")
    code, doc = affected_run(demo)
    assert code == 0
    assert "tests/conftest.py" in doc["affected"]["everything"]
    assert sum(s["passed"] for s in doc["suites"]) == 5 * 6 + 5 * 2 + 5  # every test ran


def test_nothing_changed_runs_nothing(demo: Path) -> None:
    done = mlopsctl(demo, "test", "--affected")
    assert done.returncode == 0, done.stderr
    assert "nothing to run" in done.stdout
    code, doc = affected_run(demo)
    assert code == 0 and doc["suites"] == [] and selected(doc) == []


def test_maps_that_cannot_judge_run_everything(demo: Path) -> None:
    edit(demo, MODULE, "size = self.settings.batch_size", "size = max(1, self.settings.batch_size)")
    doc_map = demo / testmap.MAP_FILE
    good = doc_map.read_text()
    doc_map.write_text(good.replace(json.loads(good)["commit"], "f" * 40))
    _, doc = affected_run(demo)
    assert "not an ancestor of HEAD" in doc["affected"]["everything"]
    doc_map.write_text("{not json")
    _, doc = affected_run(demo)
    assert "damaged" in doc["affected"]["everything"]
    doc_map.write_text(good)
    subprocess.run(["git", "add", "-f", testmap.MAP_FILE], cwd=demo, check=True)
    _, doc = affected_run(demo)
    assert "tracked by git" in doc["affected"]["everything"]  # a pull request cannot plant one
    subprocess.run(["git", "rm", "-q", "--cached", testmap.MAP_FILE], cwd=demo, check=True)
    doc_map.unlink()
    _, doc = affected_run(demo)
    assert "no test map yet" in doc["affected"]["everything"]


def test_bad_input(demo: Path, tmp_path: Path) -> None:
    done = mlopsctl(demo, "test", "--affected", "--base", "no-such-branch")
    assert done.returncode == 2 and "--base 'no-such-branch'" in done.stderr
    done = mlopsctl(demo, "test", "--base", "main")
    assert done.returncode == 2 and "--affected" in done.stderr
    shutil.rmtree(demo / ".git")
    done = mlopsctl(demo, "test", "--affected")
    assert done.returncode == 4 and "not a git repository" in done.stderr


def test_stage_and_suites_narrow_the_selection(demo: Path) -> None:
    edit(demo, MODULE, "size = self.settings.batch_size", "size = max(1, self.settings.batch_size)")
    edit(demo, OTHER, "size = self.settings.batch_size", "size = max(1, self.settings.batch_size)")
    done = mlopsctl(demo, "test", "unit", "--affected", "--stage", "2.1", "--json")
    doc = json.loads(done.stdout)
    assert done.returncode == 0 and [s["suite"] for s in doc["suites"]] == ["unit"]
    assert doc["suites"][0]["passed"] == 2  # the 2.1 tests that ran batches, not 1.1's


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_no_test_that_ran_an_edited_line_is_left_out(recorded: Path, data: st.DataObject) -> None:
    """For random edits to random covered lines, every test whose recorded contexts include an
    edited line is selected (no false negatives against the map)."""
    found = testmap.load(recorded)
    paths = sorted(found.files)
    picks = data.draw(st.lists(st.sampled_from(
        [(p, n) for p in paths for n in found.files[p]]), min_size=1, max_size=4, unique=True))  # fmt: skip
    saved = {p: (recorded / p).read_text() for p, _ in picks}
    try:
        for path, line in picks:
            lines = (recorded / path).read_text().splitlines(keepends=True)
            how = data.draw(st.sampled_from(["append", "replace", "insert-after"]))
            text = lines[line - 1]
            indent = text[: len(text) - len(text.lstrip())]
            if how == "append":
                lines[line - 1] = text.rstrip("\n") + "  # edited\n"
            elif how == "replace":
                lines[line - 1] = f"{indent}pass  # was: {text.strip()}\n"
            else:
                lines.insert(line, f"{indent}pass\n")
            (recorded / path).write_text("".join(lines))
        cfg = config.load(recorded)
        head = git(recorded, "rev-parse", "HEAD")
        chosen = affected.select(recorded, head, "HEAD", lambda: found,
                                 runner.sources(recorded, cfg), ["unit", "integration", "e2e"])  # fmt: skip
        if chosen.everything is None:
            for path, line in picks:
                for test in found.tests_of(path, line):
                    assert test in chosen.tests, (path, line, test)
        else:
            assert "import" in chosen.everything  # only module-level code runs everything
    finally:
        for path, text in saved.items():
            (recorded / path).write_text(text)
