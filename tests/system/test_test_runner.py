"""`mlopsctl test` and `mlopsctl env` with real pytest runs on generated projects."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from mlopsctl.core import config
from mlopsctl.core.scaffold import create
from tests.conftest import git
from tests.system.conftest import BIN, mlopsctl


def run_json(cwd: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, dict]:
    cut = args.index("--") if "--" in args else len(args)
    out = mlopsctl(cwd, "test", *args[:cut], "--json", *args[cut:], env=env)
    return out.returncode, json.loads(out.stdout)


def suites(doc: dict) -> dict[str, dict]:
    return {s["suite"]: s for s in doc["suites"]}


@pytest.fixture
def staged(project: Path) -> Path:
    cfg = config.load(project)
    for sub, feature in [("6.1", "monitoring-api"), ("6.10", "drift-report"), ("6.2", "alerts")]:
        create.plan_new_stage(cfg, sub, feature).apply()
    return project


def test_default_suites_pass_and_report_counts(staged: Path) -> None:
    code, doc = run_json(staged)
    assert code == 0, doc
    got = suites(doc)
    assert list(got) == ["unit", "integration", "e2e"]
    assert (got["unit"]["passed"], got["integration"]["passed"], got["e2e"]["passed"]) == (18, 6, 3)
    assert doc["python_source"] == "mlopsctl's own interpreter"


def test_a_failing_integration_test_fails_integration_only(staged: Path) -> None:
    (staged / "tests/integration/test_6_1_broken.py").write_text(
        "def test_broken():\n    assert 1 == 2\n"
    )
    code, doc = run_json(staged, "integration")
    assert code == 1
    assert suites(doc)["integration"]["status"] == "failed"
    assert suites(doc)["integration"]["failed"] == 1
    code, doc = run_json(staged, "unit")
    assert code == 0 and suites(doc)["unit"]["status"] == "passed"
    code, doc = run_json(staged)  # every suite runs even after one fails
    assert code == 1 and list(suites(doc)) == ["unit", "integration", "e2e"]
    code, doc = run_json(staged, "integration", "e2e", "--fail-fast")
    assert code == 1 and list(suites(doc)) == ["integration"]


@pytest.mark.parametrize(
    ("stage", "unit_tests"),
    [("6.1", 6), ("6.10", 6), ("6.2", 6), ("6", 18)],
)
def test_stage_selects_exactly(staged: Path, stage: str, unit_tests: int) -> None:
    (staged / "tests/unit/test_3_1_other.py").write_text("def test_other():\n    pass\n")
    code, doc = run_json(staged, "unit", "--stage", stage)
    assert code == 0
    assert suites(doc)["unit"]["passed"] == unit_tests


def test_a_stage_without_tests_is_reported_not_failed(staged: Path) -> None:
    code, doc = run_json(staged, "unit", "--stage", "7.1")
    assert code == 0
    assert suites(doc)["unit"]["status"] == "no tests"
    code, doc = run_json(staged, "performance")
    assert code == 0 and suites(doc)["performance"]["status"] == "no tests"


def test_env_layering_seen_from_a_test(staged: Path) -> None:
    (staged / ".env").write_text("FROM_DOTENV=base\nLAYERED=base\nOVERRIDDEN=file\n")
    (staged / ".env.testing").write_text("LAYERED=testing\n")
    (staged / ".env.staging").write_text("LAYERED=staging\n")
    (staged / "tests/unit/test_6_1_env.py").write_text(
        "import os\n\n"
        "def test_env():\n"
        "    assert os.environ['FROM_DOTENV'] == 'base'\n"
        "    assert os.environ['LAYERED'] == os.environ['EXPECTED_LAYER']\n"
        "    assert os.environ['OVERRIDDEN'] == 'real'\n"
        "    assert os.environ['TEST_MODE'] == 'true'\n"
    )
    env = {"OVERRIDDEN": "real", "EXPECTED_LAYER": "testing"}
    code, doc = run_json(staged, "unit", "--stage", "6.1", env=env)
    assert code == 0, doc
    assert doc["env_files"] == [".env", ".env.testing"]
    code, _ = run_json(staged, "unit", "--stage", "6.1", "--env", "staging",
                       env={**env, "EXPECTED_LAYER": "staging"})  # fmt: skip
    assert code == 0
    code, _ = run_json(staged, "unit", "--stage", "6.1", env={**env, "EXPECTED_LAYER": "staging"})
    assert code == 1
    out = mlopsctl(staged, "test", "unit", "--env", "prod")
    assert out.returncode == 2 and ".env.prod does not exist" in out.stderr


def test_bash_tests_count_and_a_failing_one_fails(staged: Path) -> None:
    ok = staged / "tests/integration/test_6_1_script_ok.sh"
    ok.write_text('#!/usr/bin/env bash\n[ "$TEST_MODE" = true ]\n')
    bad = staged / "tests/integration/test_6_10_script_bad.sh"
    bad.write_text("#!/usr/bin/env bash\necho broken >&2\nexit 3\n")
    code, doc = run_json(staged, "integration", "--stage", "6.1")
    assert code == 0 and suites(doc)["integration"]["passed"] == 3
    code, doc = run_json(staged, "integration", "--stage", "6.10")
    assert code == 1
    assert (suites(doc)["integration"]["passed"], suites(doc)["integration"]["failed"]) == (2, 1)


def test_coverage_gate(staged: Path) -> None:
    code, doc = run_json(staged, "--cov")
    assert code == 0, doc
    assert doc["coverage"]["gate"] == 80 and doc["coverage"]["total"] >= 80
    recorded = json.loads((staged / ".mlops/state/coverage.json").read_text())
    assert recorded["total"] == pytest.approx(doc["coverage"]["total"], abs=0.01)
    code, doc = run_json(staged, "--cov-fail-under", "99.5")
    assert code == 1
    assert doc["coverage"]["ok"] is False
    assert all(s["status"] == "passed" for s in doc["suites"])
    (staged / "mlops.yaml").write_text(
        (staged / "mlops.yaml").read_text().replace("coverage_gate: 80", "coverage_gate: 100")
    )
    code, doc = run_json(staged, "unit", "--cov")
    assert code == 1 and doc["coverage"]["gate"] == 100
    out = mlopsctl(staged, "test", "--cov-fail-under", "120")
    assert out.returncode == 2 and "outside 0-100" in out.stderr


def test_one_valid_junit_file(staged: Path, tmp_path: Path) -> None:
    (staged / "tests/integration/test_6_2_script.sh").write_text("exit 1\n")
    report = tmp_path / "out" / "junit.xml"
    code, _ = run_json(staged, "--junit-xml", str(report))
    assert code == 1
    root = ET.parse(report).getroot()
    assert root.tag == "testsuites"
    names = [s.get("name") for s in root.findall("testsuite")]
    assert names == ["unit", "integration", "e2e"]
    assert root.get("tests") == str(18 + 7 + 3) and root.get("failures") == "1"
    bash_case = root.find(".//testcase[@name='tests/integration/test_6_2_script.sh']")
    assert bash_case is not None and bash_case.find("failure") is not None


def test_bad_input_exits_2(staged: Path) -> None:
    for args, words in [(["nope"], "Unknown suite 'nope'"), (["--stage", "6.x"], "Stage id '6.x'"),
                        (["--stage", "10"], "Stage id '10'")]:  # fmt: skip
        out = mlopsctl(staged, "test", *args)
        assert out.returncode == 2, out
        assert words in out.stderr


def test_pytest_arguments_pass_through_and_usage_errors_surface(staged: Path) -> None:
    code, doc = run_json(staged, "unit", "--", "-k", "health")
    assert code == 0 and suites(doc)["unit"]["passed"] == 3
    out = mlopsctl(staged, "test", "unit", "--json", "--", "--no-such-flag")
    assert out.returncode == 2
    assert "unrecognized arguments: --no-such-flag" in out.stderr


def test_workers_without_xdist_say_so(staged: Path) -> None:
    code, doc = run_json(staged, "unit", "-n", "2")
    assert code == 0
    has_xdist = (
        subprocess.run([sys.executable, "-c", "import xdist"], capture_output=True).returncode == 0
    )
    if not has_xdist:
        assert any("pytest-xdist is not installed" in n for n in doc["notes"])


def test_the_projects_venv_runs_the_tests(staged: Path) -> None:
    # A venv of its own that sees this interpreter's packages (pytest), whether this suite
    # runs in a virtual environment or not (--system-site-packages would see only the base
    # interpreter's, not an outer venv's).
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(staged / ".venv")], check=True
    )
    site = subprocess.run(
        [str(staged / ".venv/bin/python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    import sysconfig

    outer = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "outer.pth").write_text("\n".join(sorted(outer)) + "\n")
    code, doc = run_json(staged, "unit", "--stage", "6.1")
    assert code == 0
    assert doc["python"] == str(staged / ".venv/bin/python")
    assert doc["python_source"] == "the project's .venv"
    code, doc = run_json(
        staged, "unit", "--stage", "6.1", env={"VIRTUAL_ENV": str(Path(sys.prefix))}
    )
    assert doc["python_source"].startswith("active virtual environment")


def test_an_interpreter_without_pytest_is_named_with_the_fix(staged: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(staged / ".venv")], check=True
    )
    out = mlopsctl(staged, "test", "unit", env={"VIRTUAL_ENV": ""})
    assert out.returncode == 4, out.stdout + out.stderr
    assert out.stderr.strip().splitlines()[-1] == (
        f"mlopsctl: error: pytest is not installed in {staged / '.venv/bin/python'} (the "
        "project's .venv); install the test dependencies there (python -m pip install -r "
        "requirements-dev.txt)."
    )


def test_run_tests_sh_delegates(staged: Path) -> None:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    out = subprocess.run(
        ["./run_tests.sh", "--wsl", "unit"], cwd=staged, capture_output=True, text=True, env=env
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "unit" in out.stdout and "passed" in out.stdout
    bad = subprocess.run(
        ["./run_tests.sh", "nope"], cwd=staged, capture_output=True, text=True, env=env
    )
    assert bad.returncode == 2


def test_env_show_masks_secrets_and_check_finds_problems(staged: Path) -> None:
    template = (staged / ".env.template").read_text()
    (staged / ".env").write_text(template + "API_TOKEN=s3cr3t\n")
    show = mlopsctl(staged, "env", "show", "--json")
    assert show.returncode == 0
    values = {v["key"]: v["value"] for v in json.loads(show.stdout)["variables"]}
    assert values["API_TOKEN"] == "********" and values["MODEL_SERVING_PORT"] == "8080"
    assert "s3cr3t" not in mlopsctl(staged, "env", "show").stdout
    check = mlopsctl(staged, "env", "check", "--json")
    assert check.returncode == 0, check.stdout
    assert json.loads(check.stdout)["not_in_template"] == ["API_TOKEN"]
    (staged / ".env").write_text("TEST_MODE=true\n")
    check = mlopsctl(staged, "env", "check")
    assert check.returncode == 1
    assert "DATA_DIR is in .env.template but set by no .env file" in check.stdout
    (staged / ".env").write_text(template)
    git(staged, "add", "-f", ".env")
    check = mlopsctl(staged, "env", "check")
    assert check.returncode == 1 and ".env is tracked by git" in check.stdout


PROBE = """\
import atexit, json, os, sys, tempfile, time

def test_probe():
    seen = {
        "argv0": os.path.basename(sys.argv[0]),
        "path0": sys.path[0],
        "cwd": os.getcwd(),
        "tmp": tempfile.gettempdir(),
        "tz": list(time.tzname),
        "layer": os.environ.get("LAYERED"),
        "test_mode": os.environ.get("TEST_MODE"),
        "extra_path": os.environ.get("EXTRA_ON_PATH", "") in sys.path,
        "forked": "mlopsctl.core.testing.pytest_process" in sys.modules,
    }
    out = os.environ["PROBE_OUT"]
    atexit.register(lambda: open(out + ".atexit", "w").close())
    with open(out, "w") as fh:
        json.dump(seen, fh)
"""


def set_fork(root: Path, on: bool) -> None:
    text = (root / "mlops.yaml").read_text()
    (root / "mlops.yaml").write_text(
        text.replace("fork: true", f"fork: {str(on).lower()}").replace(
            "fork: false", f"fork: {str(on).lower()}"
        )
    )


def probe(root: Path, out: Path, env: dict[str, str] | None = None) -> dict:
    code, doc = run_json(root, "unit", "--stage", "6.1", env={"PROBE_OUT": str(out), **(env or {})})
    assert code == 0, doc
    assert Path(f"{out}.atexit").is_file(), "the tests' exit handlers ran"
    return json.loads(out.read_text())


def test_a_forked_suite_sees_what_a_fresh_python_sees(staged: Path, tmp_path: Path) -> None:
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    (staged / ".env").write_text(f"LAYERED=base\nTMPDIR={tmpdir}\nTZ=XYZ-3\n")
    (staged / "tests/unit/test_6_1_probe.py").write_text(PROBE)
    forked = probe(staged, tmp_path / "forked.json")
    set_fork(staged, False)
    fresh = probe(staged, tmp_path / "fresh.json")
    assert (forked.pop("forked"), fresh.pop("forked")) == (True, False)
    assert forked == fresh
    assert fresh["argv0"] == "__main__.py" and fresh["path0"] == str(staged)
    assert fresh["tmp"] == str(tmpdir) and fresh["tz"] == ["XYZ", "XYZ"]
    assert (fresh["layer"], fresh["test_mode"]) == ("base", "true")


def test_start_up_variables_in_the_env_files_get_a_fresh_python(
    staged: Path, tmp_path: Path
) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    (staged / ".env").write_text(f"PYTHONPATH={extra}\nEXTRA_ON_PATH={extra}\n")
    (staged / "tests/unit/test_6_1_probe.py").write_text(PROBE)
    seen = probe(staged, tmp_path / "probe.json")
    assert seen["forked"] is False
    assert seen["extra_path"] is True


OUTCOMES = """\
import pytest

@pytest.fixture
def broken_setup():
    raise RuntimeError("setup")

@pytest.fixture
def broken_teardown():
    yield
    raise RuntimeError("teardown")

def test_passes(): pass
def test_fails(): assert False
def test_skips(): pytest.skip("no")
@pytest.mark.xfail
def test_xfails(): assert False
@pytest.mark.xfail
def test_xpasses(): pass
@pytest.mark.xfail(strict=True)
def test_xpasses_strictly(): pass
def test_setup_errors(broken_setup): pass
def test_teardown_errors(broken_teardown): pass
def test_fails_and_teardown_errors(broken_teardown): assert False
"""


def test_forked_counts_match_the_junit_counts(staged: Path, tmp_path: Path) -> None:
    (staged / "tests/unit/test_6_1_outcomes.py").write_text(OUTCOMES)
    (staged / "tests/unit/test_6_1_uncollectable.py").write_text("import no_such_module\n")
    (staged / "tests/unit/test_6_1_skipped_module.py").write_text(
        "import pytest\npytest.skip('later', allow_module_level=True)\n"
    )
    counted = {}
    for fork, extra in [(True, []), (True, ["--junit-xml", str(tmp_path / "j.xml")]),
                        (False, [])]:  # fmt: skip
        set_fork(staged, fork)
        code, doc = run_json(
            staged, "unit", "--stage", "6.1", *extra, "--", "--continue-on-collection-errors"
        )
        assert code == 1
        unit = suites(doc)["unit"]
        counted[(fork, bool(extra))] = tuple(
            unit[k] for k in ("passed", "failed", "skipped", "errors")
        )
    # passed: 6 generated, passes, xpasses; failed: fails, xpasses_strictly, fails_and_...;
    # skipped: skips, xfails, the skipped module; errors: setup_errors, teardown_errors, the
    # collection error, and the teardown of fails_and_teardown_errors (its own JUnit testcase)
    assert set(counted.values()) == {(8, 3, 3, 4)}, counted


@pytest.mark.parametrize(
    ("death", "code"), [("os._exit(7)", 7), ("os.kill(os.getpid(), signal.SIGKILL)", 137)]
)
def test_a_suite_that_dies_is_an_error_either_way(staged: Path, death: str, code: int) -> None:
    (staged / "tests/unit/test_6_1_dies.py").write_text(
        f"import os, signal\n\ndef test_dies():\n    {death}\n"
    )
    for fork in (True, False):
        set_fork(staged, fork)
        exit_code, doc = run_json(staged, "unit", "--stage", "6.1")
        assert exit_code == 1
        unit = suites(doc)["unit"]
        assert unit["status"] == "error", unit
        assert f"pytest exited with {code}" in unit["message"], unit
