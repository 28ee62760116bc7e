"""Which tests a change affects: the changed lines looked up in the test map.

A test is selected when it executed a line that changed (or, for a line no test executed,
the nearest executed line above and below it: an edit inside a function reaches the tests
that ran the function). New and edited test files are selected whole. A change that the map
cannot judge selects everything, with the reason: a conftest, the project's configuration or
requirements, a non-Python file that is not documentation, a test helper, Python outside the
measured package, a line that runs at import (module-level code every test may depend on),
a map recorded at a commit that is not an ancestor of HEAD, or no usable map.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from mlopsctl.core.testing import changes as changes_mod
from mlopsctl.core.testing.changes import FileChange
from mlopsctl.core.testing.testmap import TestMap, Unusable

EVERYTHING_FILES = (
    "conftest.py", "pyproject.toml", "setup.cfg", "setup.py", "tox.ini", "pytest.ini",
    "mlops.yaml", ".coveragerc", "requirements*.txt", "requirements*.in", "constraints*.txt",
    ".env", ".env.*", "noxfile.py", "Pipfile*", "poetry.lock", "uv.lock",
)  # fmt: skip
IGNORED = ("*.md", "*.rst", "LICENSE*", "CHANGELOG*", ".gitignore", ".pre-commit-config.yaml",
           ".dockerignore")  # fmt: skip
IGNORED_FOLDERS = ("docs", ".github", ".mlops")


@dataclass
class Selection:
    base: str
    base_source: str
    map_commit: str | None = None
    everything: str | None = None  # why every test runs; None: only what is listed
    tests: dict[str, list[str]] = field(default_factory=dict)  # node id: reasons
    files: dict[str, str] = field(default_factory=dict)  # whole test file: reason
    changed: list[FileChange] = field(default_factory=list)  # base to work tree

    @property
    def nothing(self) -> bool:
        return self.everything is None and not self.tests and not self.files

    def targets(self, suite: str) -> list[str]:
        """The pytest targets of ``suite`` (node ids and whole files), in a stable order."""
        prefix = f"tests/{suite}/"
        files = sorted(f for f in self.files if f.startswith(prefix) and f.endswith(".py"))
        ids = sorted(t for t in self.tests if t.startswith(prefix)
                     and t.split("::", 1)[0] not in self.files)  # fmt: skip
        return files + ids

    def as_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "base_source": self.base_source,
            "map_commit": self.map_commit,
            "everything": self.everything,
            "changed_files": sorted(c.name for c in self.changed),
            "selected": [
                *({"test": f, "reasons": [r]} for f, r in sorted(self.files.items())),
                *(
                    {"test": t, "reasons": r}
                    for t, r in sorted(self.tests.items())
                    if t.split("::", 1)[0] not in self.files
                ),
            ],
        }


def is_test_file(path: str) -> bool:
    p = PurePosixPath(path)
    return (
        bool(p.parts) and p.parts[0] == "tests"
        and (fnmatch.fnmatch(p.name, "test_*.py") or fnmatch.fnmatch(p.name, "*_test.py")
             or fnmatch.fnmatch(p.name, "test_*.sh"))
    )  # fmt: skip


def judge(change: FileChange, sources: list[str]) -> str | None:
    """What a file's change means: ``"test"``, ``"code"``, ``"ignore"``, or the reason that
    every test must run (any other text)."""
    path = change.name
    p = PurePosixPath(path)
    if any(fnmatch.fnmatch(p.name, g) for g in EVERYTHING_FILES):
        return f"{path} changed, and it can change any test"
    if is_test_file(path):
        return "test"
    if p.parts and p.parts[0] == "tests":
        return f"{path} changed: a test helper or fixture can change any test"
    if (p.parts and p.parts[0] in IGNORED_FOLDERS) or any(
        fnmatch.fnmatch(p.name, g) for g in IGNORED
    ):
        return "ignore"
    if p.suffix == ".py":
        if any(path == s or path.startswith(f"{s}/") for s in sources):
            return "code"
        return f"{path} is Python outside the measured package ({', '.join(sources)})"
    return f"{path} changed and is not Python code that the map can judge"


def select(
    root: Path, base: str, base_source: str, load_map: Any, sources: list[str],
    suites: list[str],
) -> Selection:  # fmt: skip
    """Select the tests the change from ``base`` to the work tree affects.

    ``load_map``: a callable returning the :class:`TestMap` (raises :class:`Unusable`), so
    that a change no map is needed for (only tests, or nothing) never reads one."""
    found = Selection(base=base, base_source=base_source)
    found.changed = changes_mod.between(root, base)
    code: list[FileChange] = []
    for change in found.changed:
        verdict = judge(change, sources)
        if verdict == "test":
            if change.path is not None:
                found.files[change.path] = (
                    "new test file" if change.old_path is None else "edited test file"
                )
        elif verdict == "code":
            code.append(change)
        elif verdict != "ignore":
            found.everything = verdict
            return found
    if not code:
        return found
    try:
        test_map = load_map()
    except Unusable as exc:
        found.everything = str(exc)
        return found
    found.map_commit = test_map.commit
    head = changes_mod.head(root)
    if head is None or not changes_mod.is_ancestor(root, test_map.commit, head):
        found.everything = (f"the test map was recorded at {test_map.commit[:12]}, which is not "
                            "an ancestor of HEAD")  # fmt: skip
        return found
    missing = [s for s in suites if s not in test_map.suites]
    if missing:
        found.everything = f"the test map has no record of the {', '.join(missing)} suite"
        return found
    reason = _lookup(root, base, test_map, {c.name for c in code}, found)
    if reason:
        found.everything = reason
    return found


def _lookup(root: Path, base: str, test_map: TestMap, names: set[str], found: Selection) -> str:
    """Add the tests that ran the changed lines, in the map's coordinates: the lines changed
    since the map's commit, plus (when the map is newer than ``base``) the lines changed
    from ``base`` to the map's commit. Returns a reason to run everything, or ""."""
    since_map = changes_mod.between(root, test_map.commit)
    lines: dict[str, set[int]] = {}
    whole: set[str] = set()
    for change in since_map:
        if change.old_path in names or change.path in names:
            if change.old_path is None:
                continue  # a new file: no test ran it yet
            lines.setdefault(change.old_path, set()).update(change.old_lines)
            if change.whole:
                whole.add(change.old_path)
    if base != test_map.commit and changes_mod.is_ancestor(root, base, test_map.commit):
        for change in changes_mod.between(root, base, test_map.commit):
            if change.path in names:
                lines.setdefault(change.path, set()).update(change.new_lines)
                if change.whole:
                    whole.add(change.path)
    for path in names:
        blob = test_map.blobs.get(path)
        if test_map.knows(path) and blob and blob != _blob_at(root, test_map.commit, path):
            whole.add(path)  # the map measured an edited copy: its lines say nothing exact
    for path in sorted(lines.keys() | whole):
        if path in whole:
            measured = set(test_map.files.get(path, {})) | test_map.imported.get(path, set())
            if test_map.imported.get(path):
                return f"{path} changed as a whole and runs at import (module-level code)"
            wanted = measured
        else:
            wanted = lines[path]
        for line in sorted(wanted):
            if line in test_map.imported.get(path, set()) and not test_map.tests_of(path, line):
                return (f"{path}:{line} runs at import (module-level code), which every test "
                        "may depend on")  # fmt: skip
            tests = test_map.tests_of(path, line) or _neighbours(test_map, path, line)
            for test in tests:
                reasons = found.tests.setdefault(test, [])
                where = f"{path}:{line}"
                if where not in reasons:
                    reasons.append(where)
    for reasons in found.tests.values():
        reasons[:] = _compact(reasons)
    return ""


def _neighbours(test_map: TestMap, path: str, line: int) -> list[str]:
    """The tests of the nearest line above and below ``line`` that a test executed."""
    executed = sorted(test_map.files.get(path, {}))
    above = [n for n in executed if n < line]
    below = [n for n in executed if n > line]
    out: list[str] = []
    for n in ([above[-1]] if above else []) + ([below[0]] if below else []):
        out += [t for t in test_map.tests_of(path, n) if t not in out]
    return out


def _blob_at(root: Path, commit: str, path: str) -> str | None:
    code, out, _ = changes_mod._git(root, "rev-parse", "-q", "--verify", f"{commit}:{path}")
    return out.strip() if code == 0 else None


def _compact(reasons: list[str]) -> list[str]:
    """``["a.py:3", "a.py:4", "b.py:9"]`` as ``["a.py:3-4", "b.py:9"]``."""
    by_file: dict[str, list[int]] = {}
    for reason in reasons:
        path, _, line = reason.rpartition(":")
        if line.isdigit():
            by_file.setdefault(path, []).append(int(line))
        else:
            by_file.setdefault(reason, [])
    return [f"{path}:{r}" if lines else path for path, lines in by_file.items()
            for r in (ranges(lines) if lines else [""])]  # fmt: skip


def ranges(lines: list[int] | set[int]) -> list[str]:
    """``[1, 2, 3, 7]`` as ``["1-3", "7"]``."""
    spans: list[list[int]] = []
    for n in sorted(lines):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return [str(a) if a == b else f"{a}-{b}" for a, b in spans]


@dataclass
class ChangedCoverage:
    covered: int
    total: int
    uncovered: list[str]  # path:start-end

    @property
    def percent(self) -> float:
        return 100.0 if self.total == 0 else 100.0 * self.covered / self.total

    def as_dict(self) -> dict[str, Any]:
        return {"percent": round(self.percent, 2), "covered": self.covered,
                "lines": self.total, "uncovered": self.uncovered}  # fmt: skip


def changed_coverage(report: dict[str, Any], root: Path, changed: list[FileChange],
                     sources: list[str]) -> ChangedCoverage:  # fmt: skip
    """The changed executable lines of the measured package and how many the run executed,
    from a ``coverage json`` report."""
    import os

    files: dict[str, Any] = {}
    for name, data in (report.get("files") or {}).items():
        rel = os.path.relpath(name, root) if os.path.isabs(name) else name
        files[PurePosixPath(rel).as_posix()] = data
    covered = total = 0
    uncovered: list[str] = []
    for change in sorted(changed, key=lambda c: c.name):
        path = change.path
        if path is None or judge(change, sources) != "code" or path not in files:
            continue
        data = files[path]
        executed = set(data.get("executed_lines") or [])
        executable = executed | set(data.get("missing_lines") or [])
        wanted = executable if change.whole else change.new_lines & executable
        missing = wanted - executed
        covered += len(wanted) - len(missing)
        total += len(wanted)
        uncovered += [f"{path}:{r}" for r in ranges(missing)]
    return ChangedCoverage(covered, total, uncovered)
