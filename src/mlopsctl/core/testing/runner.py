"""Staged test runs: pytest per suite under the project's Python, bash tests, coverage, JUnit.

Each suite is one pytest process (results read from its JUnit XML), plus one bash process per
``tests/<suite>/test_X_Y_*.sh``. Suites run in order; a suite with no tests is reported as
such, not failed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.core import proc
from mlopsctl.core.config import Config
from mlopsctl.core.conventions.ids import parse_stage
from mlopsctl.core.secrets import mask_text
from mlopsctl.errors import BadInput, Missing

if TYPE_CHECKING:
    import xml.etree.ElementTree as ET

    from mlopsctl.core.testing.affected import ChangedCoverage, Selection

SUITES = ("unit", "integration", "e2e", "performance", "security")
DEFAULT_SUITES = ("unit", "integration", "e2e")
STATE_DIR = ".mlops/state"
COVERAGE_STATE = f"{STATE_DIR}/coverage.json"


@dataclass
class Options:
    suites: list[str]
    stage: str | None = None
    cov: bool = False
    cov_fail_under: float | None = None
    junit_xml: Path | None = None
    cov_xml: Path | None = None
    workers: str | None = None
    env_name: str = "testing"
    env_required: bool = False
    fail_fast: bool = False
    pytest_args: list[str] = field(default_factory=list)
    stream: bool = True
    affected: bool = False  # only the tests the change from ``base`` affects
    base: str | None = None  # default: the merge base with the default branch
    # run in this process while the first suite's tests run (the CLI loads its table there)


@dataclass
class SuiteResult:
    name: str
    status: str = "passed"  # passed, failed, no tests, not affected, error
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    errors: int = 0
    seconds: float = 0.0
    message: str = ""
    junit: ET.Element | None = None
    failures: list[dict[str, str]] = field(default_factory=list)  # test, output
    ml_tests: list[dict[str, Any]] = field(default_factory=list)  # tagged: nodeid, ids, outcome

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.name,
            "status": self.status,
            "passed": self.passed,
            "failed": self.failed,
            "skipped": self.skipped,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "message": self.message,
            "failures": self.failures,
        }


@dataclass
class Run:
    python: str
    python_source: str
    env_files: list[str]
    suites: list[SuiteResult] = field(default_factory=list)
    coverage: float | None = None
    gate: float | None = None
    notes: list[str] = field(default_factory=list)
    junit_xml: str | None = None
    coverage_files: list[dict[str, Any]] = field(default_factory=list)  # under 100%
    coverage_xml: str | None = None
    affected: Selection | None = None
    changed_coverage: ChangedCoverage | None = None  # under --affected: the changed lines
    map_recorded: str | None = None  # the test map this run recorded
    ml_tests: list[dict[str, Any]] = field(default_factory=list)  # tagged tests' outcomes

    @property
    def coverage_ok(self) -> bool:
        if self.gate is None:
            return True
        if self.changed_coverage is not None:
            return self.changed_coverage.percent >= self.gate
        return self.coverage is None or self.coverage >= self.gate

    @property
    def ok(self) -> bool:
        return self.coverage_ok and all(
            s.status in ("passed", "no tests", "not affected") for s in self.suites
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "python": self.python,
            "python_source": self.python_source,
            "env_files": self.env_files,
            "suites": [s.as_dict() for s in self.suites],
            "coverage": None
            if self.coverage is None
            else {
                "total": round(self.coverage, 2),
                "gate": self.gate,
                "ok": self.coverage_ok,
                "files": self.coverage_files,
                "xml": self.coverage_xml,
            },
            "junit_xml": self.junit_xml,
            "notes": self.notes,
            "affected": None
            if self.affected is None
            else {
                **self.affected.as_dict(),
                "changed_coverage": None
                if self.changed_coverage is None
                else {
                    **self.changed_coverage.as_dict(),
                    "gate": self.gate,
                    "ok": self.coverage_ok,
                },
            },
            "test_map": self.map_recorded,
            "ml_tests": self.ml_tests,
        }


def resolve_suites(names: list[str], root: Path) -> list[str]:
    if not names:
        return list(DEFAULT_SUITES)
    out: list[str] = []
    for name in names:
        if name == "all":
            wanted = list(SUITES)  # a suite without a folder gets its "no tests" row
        elif name in SUITES:
            wanted = [name]
        else:
            raise BadInput(f"Unknown suite '{name}'; use {', '.join(SUITES)} or all.")
        out.extend(w for w in wanted if w not in out)
    return out


def select_python(root: Path, config: Config, environ: dict[str, str]) -> tuple[str, str]:
    """The interpreter that runs the tests, and why it was chosen."""
    configured = config.section("tests")["python"]
    if configured:
        candidate = Path(configured)
        path = candidate if candidate.is_absolute() else root / candidate
        found = str(path) if path.exists() else shutil.which(configured)
        if not found:
            raise Missing(f"mlops.yaml tests.python '{configured}' does not exist; fix the path.")
        return found, "mlops.yaml tests.python"
    venv = environ.get("VIRTUAL_ENV")
    if venv and (Path(venv) / "bin" / "python").exists():
        return str(Path(venv) / "bin" / "python"), f"active virtual environment ({venv})"
    local = root / ".venv" / "bin" / "python"
    if local.exists():
        return str(local), "the project's .venv"
    return sys.executable, "mlopsctl's own interpreter"


def stage_filter(text: str | None, config: Config) -> re.Pattern[str] | None:
    """``6.1`` matches ``test_6_1_*`` only (never ``test_6_10_*``); ``6`` every ``test_6_*``."""
    if text is None:
        return None
    x, y = parse_stage(text, config.stages)
    return re.compile(rf"^test_{x}_{y}_\w+\.(py|sh)$" if y else rf"^test_{x}_\d+_\w+\.(py|sh)$")


def plan_suite(
    root: Path, suite: str, pattern: re.Pattern[str] | None
) -> tuple[list[str], list[Path]]:
    """The pytest targets and bash tests of one suite."""
    folder = root / "tests" / suite
    if not folder.is_dir():
        return [], []
    bash = sorted(p for p in folder.rglob("test_*.sh") if pattern is None or pattern.match(p.name))
    if pattern is None:
        py = [str(folder.relative_to(root))] if any(folder.rglob("test_*.py")) else []
    else:
        py = sorted(
            str(p.relative_to(root)) for p in folder.rglob("test_*.py") if pattern.match(p.name)
        )
    return py, bash


def environment(root: Path, options: Options) -> tuple[dict[str, str], list[str]]:
    from mlopsctl.core.testing import envfiles

    merged = envfiles.load(root, options.env_name, required=options.env_required)
    env = {**merged.values(), **os.environ}
    env.setdefault("TEST_MODE", "true")
    env["MLOPS_PROJECT_ROOT"] = env.get("MLOPS_PROJECT_ROOT") or str(root)
    return env, merged.files


def has_module(python: str, module: str) -> bool:
    if os.path.abspath(python) == os.path.abspath(sys.executable):
        import importlib.util

        return importlib.util.find_spec(module) is not None
    code = f"import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('{module}') else 1)"
    return proc.run([python, "-c", code], check=False).returncode == 0


def run(
    config: Config,
    options: Options,
    on_suite: Callable[[str], None] | None = None,
    on_running: Callable[[str], None] | None = None,
    on_selection: Callable[[Selection], None] | None = None,
) -> Run:
    """Run the suites of ``options`` in order. ``on_suite`` is called before a suite starts,
    ``on_running`` while its process runs (the caller's chance to prepare its report)."""
    root = config.require_root()
    suites = resolve_suites(options.suites, root)
    pattern = stage_filter(options.stage, config)
    gate = options.cov_fail_under
    if gate is None and options.cov:
        gate = float(config.section("tests")["coverage_gate"])
    if options.junit_xml is not None and options.junit_xml.is_dir():
        raise BadInput(f"--junit-xml {options.junit_xml} is a folder; name a file, e.g. junit.xml.")
    if gate is not None and not 0 <= gate <= 100:  # also refuses nan
        raise BadInput(f"--cov-fail-under {gate:g} is outside 0-100; give a percentage.")
    from mlopsctl.core.readiness import mltest

    tagged = mltest.scan(root)
    if tagged.problems:
        more = f" ({len(tagged.problems) - 1} more like it)" if len(tagged.problems) > 1 else ""
        raise BadInput(f"{tagged.problems[0].rstrip('.')}{more}. Nothing ran.")
    selection = _select(root, config, options, suites) if options.affected else None
    env, env_files = environment(root, options)
    python, why = select_python(root, config, env)
    result = Run(python, why, env_files, gate=gate if options.cov else None, affected=selection)
    if selection is not None and on_selection is not None:
        on_selection(selection)
    if selection is not None and selection.nothing:
        result.notes.append(f"nothing to run: no change since {selection.base[:12]} "
                            f"({selection.base_source}) affects a test")  # fmt: skip
        return result
    partial = selection is not None and selection.everything is None
    records = options.cov and not partial and not options.stage and not options.pytest_args
    extra: list[str] = []
    if options.workers:
        if has_module(python, "xdist"):
            extra += ["-n", options.workers]
        else:
            result.notes.append(f"pytest-xdist is not installed in {python}; running serially")
    cov_file = root / ".coverage"
    if options.cov:
        if not has_module(python, "pytest_cov"):
            raise Missing(f"pytest-cov is not installed in {python}; pip install pytest-cov.")
        cov_file.unlink(missing_ok=True)
        env["COVERAGE_FILE"] = str(cov_file)
        package = config.section("tests")["package"] or config.package
        extra += [f"--cov={package}", "--cov-append", "--cov-report="]
        if records:
            extra.append("--cov-context=test")  # the test map: which test ran which line
    fork = bool(config.section("tests")["fork"])
    # mkdtemp, not TemporaryDirectory: a forked suite must not inherit a cleanup of this folder
    tmp = Path(tempfile.mkdtemp(prefix="mlopsctl-test-"))
    try:
        combined: dict[str, SuiteResult] = {}
        if partial:
            # the selected tests of every suite in one pytest process: one start, one
            # collection, one coverage start (the results are split by suite afterwards)
            chosen_all = {s: _chosen(selection, s, pattern) for s in suites}
            if sum(1 for s in suites if chosen_all[s][0]) > 1:
                if on_suite is not None:
                    on_suite(" + ".join(s for s in suites if chosen_all[s][0]) + " (selected)")
                combined = _run_combined(root, suites, chosen_all, python, env, extra, options,
                                         tmp, fork, on_running, bool(tagged.tags))  # fmt: skip
        for suite in suites:
            if suite in combined:
                res = combined[suite]
                result.suites.append(res)
                result.ml_tests.extend(res.ml_tests)
                if options.fail_fast and res.status in ("failed", "error"):
                    break
                continue
            if on_suite is not None:
                on_suite(suite)
            chosen = _chosen(selection, suite, pattern) if partial else None
            res = _run_suite(root, suite, pattern, python, env, extra, options, tmp, fork,
                             on_running, chosen, bool(tagged.tags))  # fmt: skip
            result.suites.append(res)
            result.ml_tests.extend(res.ml_tests)
            if res.status == "error" and not has_module(python, "pytest"):
                raise Missing(
                    f"pytest is not installed in {python} ({why}); install the test "
                    "dependencies there (python -m pip install -r requirements-dev.txt)."
                )
            if options.fail_fast and res.status in ("failed", "error"):
                break
        if options.cov:
            result.coverage, result.coverage_files, report = _coverage_report(
                python, root, env, tmp
            )
            if selection is not None:
                from mlopsctl.core.testing.affected import changed_coverage

                result.changed_coverage = changed_coverage(
                    report, root, selection.changed, sources(root, config)
                )
            if not partial:
                _record_coverage(root, result)
            if records:
                _record_map(root, python, env, cov_file, suites, result)
            if options.cov_xml is not None:
                _coverage_xml(python, root, env, options.cov_xml)
                result.coverage_xml = str(options.cov_xml)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if options.junit_xml is not None:
        result.junit_xml = str(options.junit_xml)
        _write_junit(options.junit_xml, result.suites)
    if result.ml_tests:
        mltest.write_record(root, result.ml_tests, _head(root))
    return result


def _head(root: Path) -> str | None:
    done = proc.run(["git", "rev-parse", "HEAD"], cwd=root, check=False)
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _run_suite(
    root: Path, suite: str, pattern: re.Pattern[str] | None, python: str, env: dict[str, str],
    extra: list[str], options: Options, tmp: Path, fork: bool,
    on_running: Callable[[str], None] | None,
    chosen: tuple[list[str], list[Path]] | None = None,
    ml_tests: bool = False,
) -> SuiteResult:  # fmt: skip
    import xml.etree.ElementTree as ET

    from mlopsctl.core.testing import pytest_process

    targets, bash = plan_suite(root, suite, pattern) if chosen is None else chosen
    bash = [b if b.is_absolute() else root / b for b in bash]
    res = SuiteResult(suite)
    if chosen is not None and not targets and not bash:
        res.status, res.message = "not affected", "no test of this suite ran the changed lines"
        return res
    suite_el = ET.Element("testsuite", name=suite)
    if targets:
        scratch = tmp / suite
        scratch.mkdir()
        xml = scratch / "junit.xml"
        # A forked suite counts its outcomes in process; JUnit only when a report is wanted.
        forked = fork and pytest_process.can_fork(python, env)
        junit = (
            [] if forked and options.junit_xml is None
            else [f"--junit-xml={xml}", "-o", f"junit_suite_name={suite}"]
        )  # fmt: skip
        plugin: list[str] = []
        plugin_path = None
        tagged_out = scratch / "ml-tests.json"
        if ml_tests:  # the outcomes of the tests tagged for the ML Test Score
            from mlopsctl.core.readiness.mltest import plugin_folder

            plugin, plugin_path = ["-p", "mlopsctl_ml_test"], plugin_folder()
            env = {**env, "MLOPSCTL_ML_TESTS_OUT": str(tagged_out)}
        start = time.perf_counter()
        started = pytest_process.start(
            python, [*targets, *junit, *plugin, *extra, *options.pytest_args], root, env,
            capture=not options.stream, scratch=scratch if forked else None,
            plugin_path=plugin_path,
        )  # fmt: skip
        try:
            if on_running is not None:
                on_running(suite)
        finally:
            done = started.wait()
        res.seconds += time.perf_counter() - start
        code, output = done.returncode, done.output
        res.ml_tests = _read_tagged(tagged_out)
        if "No module named pytest" in output:
            raise Missing(f"pytest is not installed in {python}; pip install pytest there.")
        if code == 4:
            message = _error_line(output) or "see pytest's message above"
            raise BadInput(f"pytest rejected the arguments of the {suite} suite: {message}")
        errors_before = res.errors
        counted = code in (0, 1, 2, 5) and (xml.exists() or done.counts is not None)
        # 2: interrupted, as by errors while collecting: those count as errors of the suite
        if counted and xml.exists():
            _add_junit_counts(res, xml, suite_el)
        elif counted and done.counts is not None:
            for key in ("passed", "failed", "skipped", "errors"):
                setattr(res, key, getattr(res, key) + done.counts[key])
            res.failures.extend(done.failures)
        if counted and code == 2 and res.errors > errors_before:
            res.message = _collection_message(res, python, root)
        elif code != 5 and (not counted or code == 2):
            res.status = "error"
            detail = _tail(output) or "see its output above"
            res.message = mask_text(f"pytest exited with {code}: {detail}")
    for script in bash:
        _run_bash(root, script, env, res, suite_el)
    res.junit = suite_el
    if res.status != "error":
        total = res.passed + res.failed + res.errors + res.skipped
        if res.failed or res.errors:
            res.status = "failed"
        elif total == 0:
            res.status = "no tests"
            where = f" for stage {options.stage}" if options.stage else ""
            res.message = f"no tests in tests/{suite}{where}"
    return res


def _run_combined(
    root: Path, suites: list[str], chosen: dict[str, tuple[list[str], list[Path]]],
    python: str, env: dict[str, str], extra: list[str], options: Options, tmp: Path,
    fork: bool, on_running: Callable[[str], None] | None, ml_tests: bool,
) -> dict[str, SuiteResult]:  # fmt: skip
    """The selected pytest targets of several suites in one pytest run, its JUnit report split
    back into one result per suite (each suite's bash tests run after, as always)."""
    import xml.etree.ElementTree as ET

    targets = [t for s in suites for t in chosen[s][0]]
    forced = Options(**{**options.__dict__, "junit_xml": tmp / "combined-report.xml"})
    whole = _run_suite(root, "selected", None, python, env, extra, forced, tmp, fork,
                       on_running, (targets, []), ml_tests)  # fmt: skip
    xml = tmp / "selected" / "junit.xml"
    out: dict[str, SuiteResult] = {}
    for suite in suites:
        if not chosen[suite][0]:
            continue
        res = SuiteResult(suite)
        suite_el = ET.Element("testsuite", name=suite)
        if xml.exists():
            _add_junit_counts(res, xml, suite_el, prefix=f"tests.{suite}.")
        res.seconds = sum(float(c.get("time") or 0) for c in suite_el.iter("testcase"))
        res.ml_tests = [t for t in whole.ml_tests if t["nodeid"].startswith(f"tests/{suite}/")]
        for script in chosen[suite][1]:
            _run_bash(root, script if script.is_absolute() else root / script, env, res,
                      suite_el)  # fmt: skip
        res.junit = suite_el
        if whole.status == "error":
            res.status, res.message = "error", whole.message
        elif res.failed or res.errors:
            res.status = "failed"
        out[suite] = res
    if whole.status != "error" and whole.errors > sum(r.errors for r in out.values()):
        first = next(iter(out.values()))  # errors collecting a module: the first suite's
        first.errors += whole.errors - sum(r.errors for r in out.values())
        first.status, first.message = "failed", whole.message or first.message
    return out


def _read_tagged(path: Path) -> list[dict[str, Any]]:
    """What the ml_test plugin wrote for one suite ([] when it wrote nothing readable)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _collection_message(res: SuiteResult, python: str, root: Path) -> str:
    """What stopped the suite's collection, in one sentence: the erroring modules, and where
    a module is missing, that the project's requirements are not installed in ``python``."""
    import re

    bad = [f["test"] for f in res.failures if "::" not in f["test"]]
    names = ", ".join(bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
    text = f"collection stopped on errors in {names or 'its modules'}"
    for failure in res.failures:
        missing = re.search(r"No module named '([^'.]+)", failure["output"])
        if not missing:
            continue
        module = missing.group(1)
        if _required(root, module):
            return (
                f"{text}: No module named '{module}' in {python}, so the project's "
                f"requirements are not installed there: run `{python} -m pip install -r "
                "requirements.txt`"
            )
        return (
            f"{text}: No module named '{module}' in {python}; install it there, and add it to "
            "requirements.txt if the project needs it"
        )
    return text


def _required(root: Path, module: str) -> bool:
    """Whether requirements.txt names the distribution of ``module`` (compared as pip
    normalises names: case, ``-``, ``_`` and ``.`` alike)."""
    import re

    try:
        text = (root / "requirements.txt").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    wanted = re.sub(r"[-_.]+", "-", module).lower()
    for line in text.splitlines():
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", line)
        if name and re.sub(r"[-_.]+", "-", name.group(1)).lower() == wanted:
            return True
    return False


def _error_line(text: str) -> str:
    """pytest's own ``...error: ...`` line, e.g. ``unrecognized arguments: --x``."""
    for line in text.splitlines():
        if "error:" in line:
            return line.split("error:", 1)[1].strip()
    return _tail(text)


def _tail(text: str | None) -> str:
    lines = [line for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _add_junit_counts(res: SuiteResult, xml: Path, suite_el: ET.Element, prefix: str = "") -> None:
    """Count the test cases of a JUnit file (only those whose class name starts with
    ``prefix``) into ``res``, and add them to ``suite_el``."""
    import xml.etree.ElementTree as ET

    from mlopsctl.core.testing.pytest_process import last_lines

    tree = ET.parse(xml)
    for case in tree.iter("testcase"):
        if prefix and not str(case.get("classname", "")).startswith(prefix):
            continue
        suite_el.append(case)
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            path = str(case.get("classname", "")).replace(".", "/")
            res.failures.append({
                "test": f"{path}.py::{case.get('name', '')}" if path else str(case.get("name")),
                "output": last_lines(bad.text or bad.get("message") or ""),
            })  # fmt: skip
        if case.find("failure") is not None:
            res.failed += 1
        elif case.find("error") is not None:
            res.errors += 1
        elif case.find("skipped") is not None:
            res.skipped += 1
        else:
            res.passed += 1


def _run_bash(
    root: Path, script: Path, env: dict[str, str], res: SuiteResult, suite_el: ET.Element
) -> None:
    import xml.etree.ElementTree as ET

    rel = str(script.relative_to(root))
    start = time.perf_counter()
    done = proc.run(["bash", rel], cwd=root, env=env, check=False)
    seconds = time.perf_counter() - start
    res.seconds += seconds
    case = ET.SubElement(
        suite_el,
        "testcase",
        classname=f"bash.{res.name}",
        name=rel,
        file=rel,
        time=f"{seconds:.3f}",
    )
    if done.returncode == 0:
        res.passed += 1
    else:
        from mlopsctl.core.testing.pytest_process import last_lines

        res.failed += 1
        failure = ET.SubElement(case, "failure", message=f"{rel} exited with {done.returncode}")
        failure.text = (done.stdout or "") + (done.stderr or "")
        res.failures.append({
            "test": rel,
            "output": last_lines(f"exit {done.returncode}\n{failure.text}"),
        })  # fmt: skip


def _coverage_report(
    python: str, root: Path, env: dict[str, str], tmp: Path
) -> tuple[float | None, list[dict[str, Any]], dict[str, Any]]:
    """The total, every measured file under 100% with its missing lines (as ranges), and
    coverage's JSON report."""
    out = tmp / "coverage.json"
    _, output = _coverage_cli(python, root, env, ["json", "-q", "-o", str(out)], tmp)
    if "No data" in output:
        return 0.0, [], {}  # the suites ran none of the package's code
    try:
        doc = json.loads(out.read_text())
        total = float(doc["totals"]["percent_covered"])
    except (OSError, ValueError, KeyError):
        return None, [], {}
    files = []
    for name, data in sorted(doc.get("files", {}).items()):
        summary = data.get("summary", {})
        percent = float(summary.get("percent_covered", 100.0))
        if percent < 100:
            files.append({
                "file": os.path.relpath(name, root) if os.path.isabs(name) else name,
                "percent": round(percent, 1),
                "missing": _ranges(data.get("missing_lines", [])),
            })  # fmt: skip
    return total, files, doc


def _ranges(lines: list[int]) -> str:
    """``[1, 2, 3, 7]`` as ``1-3, 7``."""
    spans: list[list[int]] = []
    for n in sorted(lines):
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}-{b}" for a, b in spans)


def _coverage_xml(python: str, root: Path, env: dict[str, str], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    _coverage_cli(python, root, env, ["xml", "-q", "-o", str(target.absolute())], target.parent)


def _coverage_cli(
    python: str, root: Path, env: dict[str, str], args: list[str], scratch: Path
) -> tuple[int, str]:
    """``python -m coverage ARGS`` in ``root`` under ``env``: (exit code, output). Under
    mlopsctl's own interpreter it runs as a fork of this process (as the suites do), which
    spares an interpreter start."""
    from mlopsctl.core.testing import pytest_process

    if not pytest_process.can_fork(python, env):
        done = proc.run([python, "-m", "coverage", *args], cwd=root, env=env, check=False)
        return done.returncode, (done.stdout or "") + (done.stderr or "")
    log = scratch / "coverage-cli.txt"
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        code = 1
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(root)
            os.environ.clear()
            os.environ.update(env)
            from coverage.cmdline import main as coverage_main

            code = int(coverage_main(args) or 0)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - whatever happens, the child ends here
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    try:
        return code, log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return code, ""


def _record_coverage(root: Path, result: Run) -> None:
    """Keep the last coverage figure for `mlopsctl doctor` (under the git-ignored state dir)."""
    from mlopsctl.core.fs import atomic_write

    doc = {"total": result.coverage, "gate": result.gate, "time": time.time(),
           "suites": [s.name for s in result.suites]}  # fmt: skip
    atomic_write(root / COVERAGE_STATE, json.dumps(doc).encode())


def _write_junit(path: Path, suites: list[SuiteResult]) -> None:
    import xml.etree.ElementTree as ET

    from mlopsctl.core.fs import atomic_write

    top = ET.Element("testsuites", name="mlopsctl test")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for res in suites:
        el = res.junit if res.junit is not None else ET.Element("testsuite", name=res.name)
        counts = {"tests": res.passed + res.failed + res.errors + res.skipped,
                  "failures": res.failed, "errors": res.errors, "skipped": res.skipped}  # fmt: skip
        for key, value in counts.items():
            el.set(key, str(value))
            totals[key] += value
        el.set("time", f"{res.seconds:.3f}")
        top.append(el)
    for key, value in totals.items():
        top.set(key, str(value))
    ET.indent(top)
    atomic_write(path, ET.tostring(top, encoding="utf-8", xml_declaration=True))


def sources(root: Path, config: Config) -> list[str]:
    """The folders of the measured package, relative to the project root."""
    package = str(config.section("tests")["package"] or config.package)
    folder = package.replace(".", "/")
    found = [f for f in (f"src/{folder}", folder) if (root / f).is_dir()]
    return found or [f"src/{folder}"]


def _select(root: Path, config: Config, options: Options, suites: list[str]) -> Selection:
    from mlopsctl.core.testing import affected, changes, testmap

    changes.require_repository(root)
    if options.base:
        base, why = changes.resolve(root, options.base), f"--base {options.base}"
    elif changes.head(root) is None:
        raise BadInput("This repository has no commit yet, so there is nothing to compare "
                       "with; commit once or run without --affected.")  # fmt: skip
    else:
        base, why = changes.default_base(root)
    return affected.select(root, base, why, lambda: testmap.load(root), sources(root, config),
                           suites)  # fmt: skip


def _chosen(
    selection: Selection | None, suite: str, pattern: re.Pattern[str] | None
) -> tuple[list[str], list[Path]]:
    """The selected pytest targets and bash tests of ``suite`` (``--stage`` applied)."""
    assert selection is not None

    def wanted(target: str) -> bool:
        return pattern is None or bool(pattern.match(target.split("::", 1)[0].rsplit("/", 1)[-1]))

    targets = [t for t in selection.targets(suite) if wanted(t)]
    bash = [Path(f) for f in sorted(selection.files)
            if f.startswith(f"tests/{suite}/") and f.endswith(".sh") and wanted(f)]  # fmt: skip
    return targets, bash


def _record_map(root: Path, python: str, env: dict[str, str], cov_file: Path,
                suites: list[str], result: Run) -> None:  # fmt: skip
    """Save the test map of this full run (a note, never a failure, when it cannot be)."""
    from mlopsctl.core.testing import changes, testmap

    commit = changes.head(root)
    if commit is None:
        result.notes.append("no test map recorded: the repository has no commit yet")
        return
    try:
        found = testmap.record(python, root, env, cov_file, commit, suites)
    except (testmap.Unusable, OSError, ValueError) as exc:
        result.notes.append(f"no test map recorded: {exc}")
        return
    result.map_recorded = testmap.MAP_FILE
    result.notes.append(f"test map recorded at {commit[:12]} ({len(found.tests)} tests) in "
                        f"{testmap.MAP_FILE}")  # fmt: skip
