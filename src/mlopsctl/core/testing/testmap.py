"""The test map: which test executed which lines of which file, as a full ``--cov`` run saw it.

Recorded from coverage.py's dynamic contexts (pytest-cov's ``--cov-context=test``): every
line keeps the node ids of the tests that ran it, and the lines that ran outside any test
(module-level code, run when pytest imported the module) are kept apart. The map lives in
``.mlops/state/test-map.json`` (git-ignored, so ``git clean -X`` removes it and a CI cache
restores it) and names the commit it was recorded at; each file keeps the git blob of the
text it was measured on, so a file that was edited when the map was recorded is judged as
wholly changed.

The map is a cache, not a source of truth: one that is missing, damaged, a link, tracked by
git or over its bound is not used (the run then runs everything and says why).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAP_FILE = ".mlops/state/test-map.json"
VERSION = 1
MAX_MAP = 64 * 1024 * 1024

# Run by the tests' own Python (which has coverage, since it has pytest-cov): the contexts of
# every measured line, through coverage.py's public CoverageData API.
DUMP = """
import json, sys
from coverage import CoverageData
data = CoverageData(sys.argv[1])
data.read()
json.dump({f: data.contexts_by_lineno(f) for f in data.measured_files()}, sys.stdout)
"""


class Unusable(Exception):
    """The map cannot be used; the message says why (one sentence)."""


@dataclass
class TestMap:
    commit: str
    suites: list[str]
    tests: list[str]  # node ids; lines refer to them by index
    files: dict[str, dict[int, list[int]]] = field(default_factory=dict)  # path: line: tests
    imported: dict[str, set[int]] = field(default_factory=dict)  # lines run outside any test
    blobs: dict[str, str] = field(default_factory=dict)  # path: git blob measured
    recorded_at: float = 0.0

    def tests_of(self, path: str, line: int) -> list[str]:
        return [self.tests[i] for i in self.files.get(path, {}).get(line, ())]

    def knows(self, path: str) -> bool:
        return path in self.files or path in self.imported

    def as_json(self) -> dict[str, Any]:
        return {
            "version": VERSION,
            "commit": self.commit,
            "recorded_at": self.recorded_at,
            "suites": self.suites,
            "tests": self.tests,
            "files": {
                path: {
                    "lines": {str(n): ids for n, ids in sorted(lines.items())},
                    "imported": sorted(self.imported.get(path, ())),
                    "blob": self.blobs.get(path, ""),
                }
                for path, lines in sorted({**{p: {} for p in self.imported}, **self.files}.items())
            },
        }


def build(contexts: dict[str, dict[str, list[str]]], root: Path, commit: str,
          suites: list[str]) -> TestMap:  # fmt: skip
    """A map from ``{file: {line: [context, ...]}}`` as coverage.py reports it."""
    index: dict[str, int] = {}
    found = TestMap(commit=commit, suites=list(suites), tests=[], recorded_at=time.time())
    for name, lines in contexts.items():
        path = os.path.relpath(name, root) if os.path.isabs(name) else name
        path = Path(path).as_posix()
        if path.startswith("../"):
            continue
        for number, names in lines.items():
            line = int(number)
            for context in names:
                test = context.rsplit("|", 1)[0] if "|" in context else context
                if not test:
                    found.imported.setdefault(path, set()).add(line)
                    continue
                i = index.setdefault(test, len(index))
                ids = found.files.setdefault(path, {}).setdefault(line, [])
                if i not in ids:
                    ids.append(i)
    found.tests = sorted(index, key=index.__getitem__)
    return found


def record(python: str, root: Path, env: dict[str, str], coverage_file: Path, commit: str,
           suites: list[str]) -> TestMap:  # fmt: skip
    """Read the contexts of ``coverage_file`` with the tests' Python and save the map."""
    from mlopsctl.core import proc
    from mlopsctl.core.fs import atomic_write

    done = proc.run([python, "-c", DUMP, str(coverage_file)], cwd=root, env=env, check=False)
    if done.returncode != 0:
        raise Unusable(f"coverage could not read {coverage_file.name}: "
                       f"{(done.stderr or '').strip().splitlines()[-1:]}")  # fmt: skip
    found = build(json.loads(done.stdout or "{}"), root, commit, suites)
    found.blobs = _blobs(root, sorted({*found.files, *found.imported}))
    target = root / MAP_FILE
    if target.is_symlink():
        target.unlink()  # never written through a link
    atomic_write(target, json.dumps(found.as_json(), separators=(",", ":")).encode())
    return found


def _blobs(root: Path, paths: list[str]) -> dict[str, str]:
    """The git blob id of each file's current text (``git hash-object``, one process)."""
    import subprocess

    existing = [p for p in paths if (root / p).is_file()]
    if not existing:
        return {}
    listing = "\n".join(existing) + "\n"
    done = subprocess.run(["git", "hash-object", "--stdin-paths"], cwd=root, check=False,
                          input=listing, capture_output=True, text=True)  # fmt: skip
    ids = done.stdout.split() if done.returncode == 0 else []
    return dict(zip(existing, ids, strict=False)) if len(ids) == len(existing) else {}


def load(root: Path) -> TestMap:
    """The recorded map, validated as untrusted input (:class:`Unusable` says why not)."""
    path = root / MAP_FILE
    if path.is_symlink():
        raise Unusable(f"{MAP_FILE} is a link; a map is only ever a file that a run wrote")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise Unusable(
            f"no test map yet ({MAP_FILE}): a full `mlopsctl test --cov` run records it"
        ) from None
    if size > MAX_MAP:
        raise Unusable(f"{MAP_FILE} is over {MAX_MAP // 2**20} MiB")
    if _tracked(root, MAP_FILE):
        raise Unusable(f"{MAP_FILE} is tracked by git; a map comes from a run or a CI cache, "
                       "never from the repository (git rm --cached it)")  # fmt: skip
    try:
        doc = json.loads(path.read_bytes())
        return _parse(doc)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise Unusable(f"{MAP_FILE} is damaged ({exc}); a full run records a new one") from None


def _parse(doc: Any) -> TestMap:
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise ValueError(f"not a version {VERSION} map")
    commit, suites, tests = doc["commit"], doc["suites"], doc["tests"]
    if not (isinstance(commit, str) and len(commit) in (40, 64) and _hex(commit)):
        raise ValueError("its commit is not a commit id")
    if not (isinstance(suites, list) and all(isinstance(s, str) for s in suites)):
        raise ValueError("suites is not a list of names")
    if not (isinstance(tests, list) and all(isinstance(t, str) for t in tests)):
        raise ValueError("tests is not a list of node ids")
    found = TestMap(commit=commit, suites=suites, tests=tests,
                    recorded_at=float(doc.get("recorded_at") or 0))  # fmt: skip
    files = doc["files"]
    if not isinstance(files, dict):
        raise ValueError("files is not a table")
    for path, entry in files.items():
        if not isinstance(entry, dict) or path.startswith("/") or ".." in path.split("/"):
            raise ValueError(f"file entry {path!r}")
        lines: dict[int, list[int]] = {}
        for number, ids in entry.get("lines", {}).items():
            if not isinstance(ids, list) or not all(
                isinstance(i, int) and 0 <= i < len(tests) for i in ids
            ):
                raise ValueError(f"{path} line {number}")
            lines[int(number)] = ids
        if lines:
            found.files[path] = lines
        imported = entry.get("imported", [])
        if not (isinstance(imported, list) and all(isinstance(n, int) for n in imported)):
            raise ValueError(f"{path} imported lines")
        if imported:
            found.imported[path] = set(imported)
        blob = entry.get("blob", "")
        if not isinstance(blob, str):
            raise ValueError(f"{path} blob")
        if blob:
            found.blobs[path] = blob
    return found


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def _tracked(root: Path, name: str) -> bool:
    from mlopsctl.core.git.repo import is_tracked

    return is_tracked(root, name)
