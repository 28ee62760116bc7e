"""The real wheel, installed in a fresh venv, creates a project that outside validators accept."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.system.conftest import REPO, run, tool

pytestmark = pytest.mark.slow


def test_the_wheel_carries_every_template(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "mlopsctl/templates/" + p.relative_to(REPO / "templates").as_posix()
        for p in (REPO / "templates").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    assert expected, "no templates found in the checkout"
    assert expected <= names, sorted(expected - names)[:5]


@pytest.fixture(scope="module")
def generated(venv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("work")
    env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("VIRTUAL_ENV", None)
    mlopsctl = str(venv / "bin" / "mlopsctl")
    where = run(
        [str(venv / "bin" / "python"), "-c", "import mlopsctl; print(mlopsctl.__file__)"], work
    )
    assert str(venv) in where.stdout, "the venv imports mlopsctl from outside itself"
    run([mlopsctl, "init", "proj", "--name", "proj"], work, env)
    root = work / "proj"
    run([mlopsctl, "new-stage", "6.1", "monitoring-api", "--with-compose"], root, env)
    run([mlopsctl, "new-stage", "3.1", "Git Workflow"], root, env)
    return root


def test_generated_tests_pass_with_plain_pytest(generated: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=generated,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_check_names_accepts_the_project(generated: Path, venv: Path) -> None:
    run([str(venv / "bin" / "mlopsctl"), "check-names"], generated)


def test_pre_commit_config_is_valid(generated: Path) -> None:
    run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        generated,
    )


def test_shellcheck_passes_on_every_script(generated: Path) -> None:
    scripts = sorted(str(p.relative_to(generated)) for p in generated.rglob("*.sh"))
    assert "run_tests.sh" in scripts and "scripts/test/run_6_1_tests.sh" in scripts
    run([tool("shellcheck"), *scripts], generated)


def test_actionlint_passes_on_the_workflow(generated: Path) -> None:
    run([tool("actionlint"), ".github/workflows/ci.yml"], generated)


def test_validate_pyproject(generated: Path) -> None:
    run([tool("validate-pyproject"), "pyproject.toml"], generated)
