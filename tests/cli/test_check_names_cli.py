import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mlopsctl.main import main


def test_fresh_project_with_a_substage_is_clean(project: Path, cli: Any) -> None:
    assert cli(project, "new-stage", "6.1", "monitoring-api", "--with-compose").exit_code == 0
    result = cli(project, "check-names")
    assert result.exit_code == 0, result.output


def test_violations_one_line_each(project: Path, cli: Any) -> None:
    (project / "deploy.sh").write_text("#!/bin/sh\n")
    (project / "tests/unit/test_monitoring.py").write_text("")
    result = cli(project, "check-names")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "deploy.sh: main runner: expected run_<feature>.sh",
        "tests/unit/test_monitoring.py: unit test: expected test_<X>_<Y>_<feature>.py",
    ]


def test_ignored_files_are_not_checked(project: Path, cli: Any) -> None:
    (project / "logs/run_whatever.log").write_text("")
    (project / "data/Bad Name.sh").write_text("")
    assert cli(project, "check-names").exit_code == 0


def test_paths_are_relative_to_the_cwd(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "tests/unit/oops.py").write_text("")
    monkeypatch.chdir(project / "tests")
    assert main(["check-names", "unit/oops.py", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["violations"] == [
        {"path": "tests/unit/oops.py", "rule": "unit test", "expected": "test_<X>_<Y>_<feature>.py",
         "suggestion": None}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("wrong", "nearest"),
    [
        ("docker/docker-compose.stage5.yml", "docker/docker-compose.stage-5.yml"),
        ("docker/Docker_Compose_Main.yml", "docker/docker-compose.main.yml"),
        ("tests/unit/test_6_1-Foo.py", "tests/unit/test_6_1_foo.py"),
        ("docs/06-monitoring/6_1-Monitoring_API.md", "docs/06-monitoring/6.1-monitoring-api.md"),
        ("scripts/setup/Setup_Foo.sh", "scripts/setup/setup_foo.sh"),
        ("tests/performance/load.py", "tests/performance/test_load.py"),
    ],
)
def test_a_broken_name_gets_the_nearest_valid_one(
    project: Path, capsys: pytest.CaptureFixture[str], wrong: str, nearest: str
) -> None:
    (project / wrong).parent.mkdir(parents=True, exist_ok=True)
    (project / wrong).write_text("")
    assert main(["check-names", wrong]) == 1
    assert f"did you mean {nearest}?" in capsys.readouterr().out


def test_github_format(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    (project / "deploy.sh").write_text("")
    assert main(["check-names", "--format", "github", "deploy.sh"]) == 1
    assert capsys.readouterr().out.startswith(
        "::error file=deploy.sh,title=check-names%3A main runner::"
    )


def test_outside_a_project_and_outside_git_uses_the_defaults(tmp_path: Path, cli: Any) -> None:
    (tmp_path / "tests" / "unit").mkdir(parents=True)
    (tmp_path / "tests/unit/test_x.py").write_text("")
    result = cli(tmp_path, "check-names")
    assert result.exit_code == 1
    assert "tests/unit/test_x.py: unit test" in result.stdout


def test_the_fast_path_loads_no_heavy_module(project: Path) -> None:
    code = (
        "import sys; from mlopsctl.main import main; rc = main(['check-names']); "
        "heavy = [m for m in ('typer', 'rich', 'jinja2', 'git', 'docker', 'yaml', 'click') "
        "if m in sys.modules]; print(heavy); sys.exit(rc)"
    )
    subprocess.run([sys.executable, "-m", "mlopsctl", "check-names"], cwd=project, check=True)
    out = subprocess.run([sys.executable, "-c", code], cwd=project, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"
