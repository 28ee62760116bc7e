"""The ml_test pytest plugin in a real pytest run of its own (a fresh interpreter with only
the plugin's folder on PYTHONPATH, as mlopsctl runs it under a project's own Python)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from mlopsctl.core.readiness.mltest import plugin_folder

TESTS = """import pytest


@pytest.mark.ml_test("data-1")
def test_pass() -> None:
    pass


@pytest.mark.ml_test("model-5")
def test_fail() -> None:
    assert False


@pytest.mark.ml_test("infra-1")
@pytest.mark.skip(reason="later")
def test_skipped() -> None:
    pass


@pytest.fixture
def broken() -> None:
    raise RuntimeError("setup")


@pytest.mark.ml_test("infra-2")
def test_error(broken: None) -> None:
    pass


def test_untagged() -> None:
    pass
"""


def test_tagged_outcomes_are_written_for_the_record(tmp_path: Path) -> None:
    (tmp_path / "test_tags.py").write_text(TESTS)
    out = tmp_path / "ml.json"
    env = {**os.environ, "PYTHONPATH": plugin_folder(), "MLOPSCTL_ML_TESTS_OUT": str(out)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "-p", "mlopsctl_ml_test", "--strict-markers", "test_tags.py"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout  # one test fails
    found = {
        e["nodeid"].split("::")[1]: (e["ids"], e["outcome"]) for e in json.loads(out.read_text())
    }
    assert found == {
        "test_pass": (["data-1"], "passed"),
        "test_fail": (["model-5"], "failed"),
        "test_skipped": (["infra-1"], "skipped"),
        "test_error": (["infra-2"], "error"),
    }
