"""The ML Test Score (Breck, Cai, Nielsen, Salib, Sculley: "The ML Test Score: A Rubric for ML
Production Readiness and Technical Debt Reduction", IEEE Big Data 2017), from evidence.

28 tests in four sections, numbered as in the paper. Each counts:

- 1 (**automated**) when every pytest test tagged ``@pytest.mark.ml_test("<id>")`` passed in the
  last ``mlopsctl test`` run that ran it (the record: node id, outcome, date, commit);
- 0 (**failed**) when one of them failed, errored or was skipped there;
- 1 (**exempt**) while ``mlops.yaml`` ``ml_test_score.exempt.<id>: {reason, until}`` holds (0 and
  "expired" after ``until``);
- 0.5 (**manual**) while the document ``ml_test_score.manual.<id>`` names exists;
- 0 (**missing**) otherwise, with the template or marker that would cover it.

The final score is the minimum of the four section sums, read with the paper's bands.
Tags are read from the test files' source (:func:`scan`), so a tag on something that is not a
test, or an id that does not exist, is found before anything runs.
"""

from __future__ import annotations

import ast
import datetime
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SECTIONS: dict[str, tuple[str, tuple[str, ...]]] = {
    "data": ("Data", (
        "Feature expectations are captured in a schema",
        "All features are beneficial",
        "No feature's cost is too much",
        "Features adhere to meta-level requirements",
        "The data pipeline has appropriate privacy controls",
        "New features can be added quickly",
        "All input feature code is tested",
    )),
    "model": ("Model", (
        "Model specs are reviewed and submitted",
        "Offline and online metrics correlate",
        "All hyperparameters have been tuned",
        "The impact of model staleness is known",
        "A simpler model is not better",
        "Model quality is sufficient on important data slices",
        "The model is tested for considerations of inclusion",
    )),
    "infra": ("Infrastructure", (
        "Training is reproducible",
        "Model specs are unit tested",
        "The ML pipeline is integration tested",
        "Model quality is validated before serving",
        "The model is debuggable",
        "Models are canaried before serving",
        "Serving models can be rolled back",
    )),
    "monitor": ("Monitoring", (
        "Dependency changes result in notification",
        "Data invariants hold for inputs",
        "Training and serving are not skewed",
        "Models are not too stale",
        "Models are numerically stable",
        "Computing performance has not regressed",
        "Prediction quality has not regressed",
    )),
}  # fmt: skip
TITLES = {
    f"{key}-{n}": title
    for key, (_, titles) in SECTIONS.items()
    for n, title in enumerate(titles, 1)
}
# what would cover an item: the template whose generated tests carry its tag, or a hint
COVERED_BY = {
    "data-1": "the training template (new-stage X.Y NAME --template training)",
    "data-2": "the training template",
    "data-5": "the training template",
    "data-7": "the training template",
    "model-3": "the training template",
    "model-5": "the training template",
    "model-6": "the training template",
    "infra-1": "the training template",
    "infra-2": "the training template",
    "infra-3": "the training template",
    "infra-4": "the training or model-serving template",
    "infra-7": "the model-serving template",
    "monitor-2": "the model-serving template",
    "monitor-3": "the training template",
    "monitor-5": "the model-serving template",
    "monitor-6": "the monitoring template",
    "monitor-7": "the monitoring template",
}
BANDS = (
    (0.0, "More of a research project than a productionized system."),
    (1.0, "Not totally untested, but it is worth considering the possibility of serious holes "
          "in reliability."),
    (2.0, "There's been first pass at basic productionization, but additional investment may "
          "be needed."),
    (3.0, "Reasonably tested, but it's possible that more of those tests and procedures may be "
          "automated."),
    (5.0, "Strong levels of automated testing and monitoring, appropriate for mission-critical "
          "systems."),
    (float("inf"), "Exceptional levels of automated testing and monitoring."),
)  # fmt: skip
MARKER = "ml_test"
RECORD = ".mlops/state/ml-tests.json"
MAX_RECORD = 8 * 2**20


def band(score: float) -> str:
    """The paper's reading of a final score (0; up to 1; 2; 3; 5; above 5)."""
    return next(text for top, text in BANDS if score <= top)


# --- the tags, read from the source -------------------------------------------------------


@dataclass(frozen=True)
class Tag:
    id: str
    file: str  # relative to the project root
    line: int
    test: str  # the test's node id as pytest names it (without parameters)


@dataclass
class Scan:
    tags: list[Tag] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # one sentence each


def scan(root: Path) -> Scan:
    """Every ``ml_test`` tag in the project's Python files under ``tests/`` and ``src/``."""
    out = Scan()
    for folder in ("tests", "src"):
        base = root / folder
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if any(part.startswith(".") for part in path.relative_to(root).parts):
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
            if MARKER not in text:
                continue
            _scan_file(root, path, text, out)
    return out


def _marker_ids(node: ast.expr) -> list[tuple[str | None, int]] | None:
    """The ids of an ``...mark.ml_test(...)`` expression (None: not one; an id None: not a
    string literal)."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr == MARKER):
        return None
    if not node.args:
        return [(None, node.lineno)]
    return [
        (a.value if isinstance(a, ast.Constant) and isinstance(a.value, str) else None, a.lineno)
        for a in node.args
    ]


def _marks_of(value: ast.expr) -> list[ast.expr]:
    return list(value.elts) if isinstance(value, (ast.List, ast.Tuple)) else [value]


def _scan_file(root: Path, path: Path, text: str, out: Scan) -> None:
    rel = path.relative_to(root).as_posix()
    try:
        tree = ast.parse(text, filename=rel)
    except SyntaxError:
        return  # pytest reports it when the suite runs
    is_test_file = rel.startswith("tests/") and path.name.startswith("test_")
    module_ids: list[tuple[str | None, int]] = []
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in stmt.targets
        ):
            for mark in _marks_of(stmt.value):
                module_ids += _marker_ids(mark) or []

    def tests_in(body: list[ast.stmt], prefix: str) -> list[tuple[str, ast.AST]]:
        found: list[tuple[str, ast.AST]] = []
        for item in body:
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.append((f"{prefix}{item.name}", item))
            elif isinstance(item, ast.ClassDef):
                found.append((f"{prefix}{item.name}", item))
                found += tests_in(item.body, f"{prefix}{item.name}::")
        return found

    def is_test(name: str, node: ast.AST) -> bool:
        last = name.rsplit("::", 1)[-1]
        if isinstance(node, ast.ClassDef):
            return last.startswith("Test")
        return last.startswith("test") and all(
            part.startswith("Test") for part in name.split("::")[:-1]
        )

    everything = tests_in(tree.body, "")
    for name, node in everything:
        decorators = getattr(node, "decorator_list", [])
        ids = [i for d in decorators for i in (_marker_ids(d) or [])]
        if not ids:
            continue
        if not is_test_file or not is_test(name, node):
            where = "a test file" if not is_test_file else "a test"
            out.problems.append(
                f"{rel}:{getattr(node, 'lineno', 0)}: {name} is tagged ml_test but is not "
                f"{where}; tag test functions (test_*) in tests/**/test_*.py."
            )
            continue
        targets = (
            [n for n, sub in everything if n.startswith(f"{name}::") and is_test(n, sub)
             and not isinstance(sub, ast.ClassDef)]
            if isinstance(node, ast.ClassDef) else [name]
        )  # fmt: skip
        for tid, line in ids:
            _add(out, rel, line, tid, targets)
    if module_ids:
        if not is_test_file:
            out.problems.append(
                f"{rel}: its pytestmark tags ml_test but it is not a test file; tag tests in "
                "tests/**/test_*.py."
            )
            return
        targets = [n for n, sub in everything if is_test(n, sub)
                   and not isinstance(sub, ast.ClassDef)]  # fmt: skip
        for tid, line in module_ids:
            _add(out, rel, line, tid, targets)


def _add(out: Scan, rel: str, line: int, tid: str | None, targets: list[str]) -> None:
    if tid is None:
        out.problems.append(
            f"{rel}:{line}: ml_test needs the id as a string literal, e.g. "
            '@pytest.mark.ml_test("data-1").'
        )
        return
    if tid not in TITLES:
        out.problems.append(
            f"{rel}:{line}: ml_test id '{tid}' does not exist; use data-1..7, model-1..7, "
            "infra-1..7 or monitor-1..7 (the ML Test Score's numbering)."
        )
        return
    for target in targets:
        out.tags.append(Tag(tid, rel, line, f"{rel}::{target}"))


# --- the record of the last runs ------------------------------------------------------------


@dataclass(frozen=True)
class Result:
    nodeid: str
    ids: tuple[str, ...]
    outcome: str  # passed, failed, error, skipped
    when: str  # ISO 8601, UTC
    commit: str | None


def read_record(root: Path) -> dict[str, Result]:
    """The last recorded outcome of each tagged test (node id -> result). A damaged record is
    read as empty (it is mlopsctl's own cache, rewritten by the next run)."""
    path = root / RECORD
    try:
        if path.is_symlink() or path.stat().st_size > MAX_RECORD:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return {}
    out: dict[str, Result] = {}
    tests = data.get("tests") if isinstance(data, dict) else None
    for item in tests if isinstance(tests, list) else []:
        try:
            ids = tuple(str(i) for i in item["ids"])
            out[str(item["nodeid"])] = Result(str(item["nodeid"]), ids, str(item["outcome"]),
                                              str(item["when"]), item.get("commit"))  # fmt: skip
        except (KeyError, TypeError):
            continue
    return out


def write_record(root: Path, results: list[dict[str, Any]], commit: str | None) -> None:
    """Fold one run's tagged outcomes (from the pytest plugin) into the record."""
    from mlopsctl.core.fs import atomic_write

    known = read_record(root)
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for r in results:
        nodeid = str(r.get("nodeid", ""))
        ids = tuple(str(i) for i in r.get("ids", []) if str(i) in TITLES)
        if nodeid and ids:
            known[nodeid] = Result(nodeid, ids, str(r.get("outcome", "error")), now, commit)
    doc = {"version": 1, "tests": [
        {"nodeid": x.nodeid, "ids": list(x.ids), "outcome": x.outcome, "when": x.when,
         "commit": x.commit}
        for x in sorted(known.values(), key=lambda x: x.nodeid)
    ]}  # fmt: skip
    target = root / RECORD
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, (json.dumps(doc, indent=1) + "\n").encode())


# --- the score ------------------------------------------------------------------------------


@dataclass
class Item:
    id: str
    title: str
    status: str  # automated, manual, exempt, missing, failed
    points: float
    evidence: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class Score:
    sections: list[dict[str, Any]]
    score: float
    band: str
    problems: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"sections": self.sections, "score": self.score, "band": self.band,
                "problems": self.problems}  # fmt: skip


def _base(nodeid: str) -> str:
    return nodeid.split("[", 1)[0]


def compute(root: Path, settings: Mapping[str, Any], today: datetime.date | None = None) -> Score:
    """The score of the project at ``root`` from its tags, the record and ``settings``
    (``mlops.yaml`` ``ml_test_score``, validated)."""
    found = scan(root)
    record = read_record(root)
    if record and _tracked(root, RECORD):  # outcomes come from runs, never from a pull request
        found.problems.append(
            f"{RECORD} is tracked by git, so its outcomes are not counted (a record of test "
            f"runs comes from a run on this machine or in CI); `git rm --cached {RECORD}`."
        )
        record = {}
    today = today or datetime.date.today()
    manual = settings.get("manual") or {}
    exempt = settings.get("exempt") or {}
    by_id: dict[str, list[Tag]] = {}
    for tag in found.tags:
        by_id.setdefault(tag.id, []).append(tag)
    sections: list[dict[str, Any]] = []
    sums: list[float] = []
    for key, (name, titles) in SECTIONS.items():
        items = []
        for n, title in enumerate(titles, 1):
            tid = f"{key}-{n}"
            items.append(_item(root, tid, title, by_id.get(tid, []), record, manual.get(tid),
                                exempt.get(tid), today))  # fmt: skip
        total = sum(i.points for i in items)
        sums.append(total)
        sections.append({"key": key, "name": name, "points": total,
                         "items": [i.as_dict() for i in items]})  # fmt: skip
    score = min(sums)
    return Score(sections, score, band(score), found.problems)


def _item(
    root: Path, tid: str, title: str, tags: list[Tag], record: dict[str, Result],
    manual: str | None, exempt: dict[str, Any] | None, today: datetime.date,
) -> Item:  # fmt: skip
    ran = [
        r for r in record.values()
        if tid in r.ids and any(_base(r.nodeid) == t.test for t in tags)
    ]  # fmt: skip
    bad = [r for r in ran if r.outcome != "passed"]
    if bad:
        first = bad[0]
        return Item(tid, title, "failed", 0.0,
                    f"{first.nodeid} {first.outcome} on {first.when[:10]}"
                    + (f" and {len(bad) - 1} more" if len(bad) > 1 else ""))  # fmt: skip
    if ran:
        last = max(r.when for r in ran)
        names = ", ".join(sorted({r.nodeid for r in ran})[:2])
        more = f" and {len(ran) - 2} more" if len(ran) > 2 else ""
        commit = next((r.commit for r in ran if r.commit), None)
        at = f" at {commit[:8]}" if commit else ""
        return Item(tid, title, "automated", 1.0, f"{names}{more} passed on {last[:10]}{at}")
    if exempt is not None:
        until = exempt["until"]
        if until >= today:
            return Item(tid, title, "exempt", 1.0,
                        f"exempt until {until.isoformat()}: {exempt['reason']}")  # fmt: skip
        return Item(tid, title, "missing", 0.0,
                    f"the exemption expired on {until.isoformat()} ({exempt['reason']}); cover "
                    "it or renew ml_test_score.exempt." + tid)  # fmt: skip
    if manual is not None:
        if (root / manual).is_file():
            return Item(tid, title, "manual", 0.5, f"documented in {manual}")
        return Item(tid, title, "missing", 0.0,
                    f"ml_test_score.manual.{tid} names {manual}, which does not exist")  # fmt: skip
    if tags:
        why = f"{tags[0].test} is tagged but has not run yet: run `mlopsctl test`"
        return Item(tid, title, "missing", 0.0, why)
    how = COVERED_BY.get(tid)
    fix = (
        f"covered by {how}" if how else
        f'tag a test @pytest.mark.ml_test("{tid}"), document it in '
        f"ml_test_score.manual.{tid}, or exempt it"
    )  # fmt: skip
    return Item(tid, title, "missing", 0.0, fix)


def _tracked(root: Path, name: str) -> bool:
    from mlopsctl.core.git.repo import is_tracked

    return is_tracked(root, name)


def plugin_folder() -> str:
    """The folder of the pytest plugin that reports tagged outcomes (stdlib only, so that it
    loads under any interpreter that runs a project's tests)."""
    return os.path.join(os.path.dirname(__file__), "pytest_plugin")
