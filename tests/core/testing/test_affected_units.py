"""Pure units of --affected: parsing `git diff -U0`, judging a changed path, the map's checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.core.testing import affected, changes, testmap

DIFF = """diff --git a/src/p/m.py b/src/p/m.py
index 1..2 100644
--- a/src/p/m.py
+++ b/src/p/m.py
@@ -3 +3 @@ def f():
-    return 1
+    return 2
@@ -10,0 +11,2 @@ def g():
+    x = 1
+    y = 2
@@ -20,2 +21,0 @@
-gone
-gone
diff --git "a/src/p/\\303\\251.py" "b/src/p/\\303\\251.py"
new file mode 100644
--- /dev/null
+++ "b/src/p/\\303\\251.py"
@@ -0,0 +1,2 @@
+a
+b
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
"""


def test_a_diff_gives_both_sides_of_each_hunk() -> None:
    m, new, binary = changes.parse(DIFF)
    assert (m.path, m.old_path) == ("src/p/m.py", "src/p/m.py")
    assert m.new_lines == {3, 11, 12}
    assert m.old_lines == {3, 10, 11, 20, 21}  # an insertion after 10 asks about 10 and 11
    assert (new.path, new.old_path, new.new_lines) == ("src/p/é.py", None, {1, 2})
    assert binary.whole


@pytest.mark.parametrize(("path", "verdict"), [
    ("src/p/m.py", "code"), ("tests/unit/test_1_1_x.py", "test"), ("tests/e2e/test_1_1.sh", "test"),
    ("docs/x.md", "ignore"), ("README.md", "ignore"), (".github/workflows/ci.yml", "ignore"),
])  # fmt: skip
def test_judge(path: str, verdict: str) -> None:
    assert affected.judge(changes.FileChange(path, path), ["src/p"]) == verdict


@pytest.mark.parametrize("path", [
    "tests/conftest.py", "requirements-dev.txt", "pyproject.toml", "mlops.yaml",
    "tests/helpers.py", "scripts/run.py", "models/x.json", "src/p/conftest.py",
])  # fmt: skip
def test_changes_no_map_can_judge_run_everything(path: str) -> None:
    verdict = affected.judge(changes.FileChange(path, path), ["src/p"])
    assert verdict not in ("code", "test", "ignore") and path in str(verdict)


def test_a_map_round_trips_and_refuses_what_is_not_one(tmp_path: Path) -> None:
    built = testmap.build({"src/p/m.py": {"1": [""], "3": ["tests/unit/test_a.py::t|run", ""]}},
                          tmp_path, "a" * 40, ["unit"])  # fmt: skip
    assert built.tests_of("src/p/m.py", 3) == ["tests/unit/test_a.py::t"]
    assert built.imported["src/p/m.py"] == {1, 3}
    again = testmap._parse(json.loads(json.dumps(built.as_json())))
    assert again.files == built.files and again.imported == built.imported
    for bad in ({"version": 2}, {**built.as_json(), "commit": "x"},
                {**built.as_json(), "files": {"../x.py": {}}},
                {**built.as_json(), "files": {"a.py": {"lines": {"1": [99]}}}}):  # fmt: skip
        with pytest.raises((ValueError, KeyError)):
            testmap._parse(bad)


def test_ranges_and_compact() -> None:
    assert affected.ranges([1, 2, 3, 7]) == ["1-3", "7"]
    assert affected._compact(["a.py:3", "a.py:4", "b.py:9"]) == ["a.py:3-4", "b.py:9"]
