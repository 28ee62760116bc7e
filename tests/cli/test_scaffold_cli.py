import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import git, snapshot

Cli = Callable[..., Any]


def test_init_creates_the_layout_on_main(tmp_path: Path, cli: Cli) -> None:
    result = cli(tmp_path, "init", "demo", "--name", "Demo Project")
    assert result.exit_code == 0, result.output
    root = tmp_path / "demo"
    for rel in [
        "mlops.yaml", ".gitignore", ".env.template", ".pre-commit-config.yaml", "pyproject.toml",
        "pytest.ini", "mypy.ini", "requirements.txt", "requirements-dev.txt", "Dockerfile.dev",
        "run_tests.sh", "run_docker_tests.sh", ".github/workflows/ci.yml",
        "scripts/validate_branch_name.sh", "src/demo_project/__init__.py",
        "docs/00-overview/naming-conventions.md", "docs/09-event-driven/README.md",
        ".mlops/generated.json",
    ]:  # fmt: skip
        assert (root / rel).is_file(), rel
    assert git(root, "symbolic-ref", "--short", "HEAD") == "main"
    assert ".env" in (root / ".gitignore").read_text().splitlines()
    assert "mlopsctl check-branch" in (root / "scripts/validate_branch_name.sh").read_text()
    assert "mlopsctl" in (root / "run_tests.sh").read_text()


def test_init_no_git_and_json(tmp_path: Path, cli: Cli) -> None:
    result = cli(tmp_path, "init", "p", "--no-git", "--json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["counts"]["create"] == len(doc["written"]) - 1  # + the record
    assert not (tmp_path / "p" / ".git").exists()


def test_init_dry_run_writes_nothing(tmp_path: Path, cli: Cli) -> None:
    result = cli(tmp_path, "init", "p", "--dry-run")
    assert result.exit_code == 0
    assert "would" in result.stdout
    assert not (tmp_path / "p").exists()


def test_init_conflict_and_force(tmp_path: Path, cli: Cli) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "README.md").write_text("mine\n")
    before = snapshot(root)
    result = cli(tmp_path, "init", "p")
    assert result.exit_code == 3
    assert "README.md already exists" in result.stderr
    assert snapshot(root) == before
    assert cli(tmp_path, "init", "p", "--force").exit_code == 0
    assert (root / "README.md").read_text() != "mine\n"


def test_init_bad_package(tmp_path: Path, cli: Cli) -> None:
    result = cli(tmp_path, "init", "123", "--no-git")
    assert result.exit_code == 2
    assert "--package" in result.stderr
    assert not (tmp_path / "123").exists()


def test_new_stage_creates_the_substage(project: Path, cli: Cli) -> None:
    result = cli(project, "new-stage", "6.1", "Monitoring API")
    assert result.exit_code == 0, result.output
    for rel in [
        "docs/06-monitoring/6.1-monitoring-api-implementation.md",
        "docs/06-monitoring/6.1-monitoring-api-testing.md",
        "tests/unit/test_6_1_monitoring_api.py",
        "tests/integration/test_6_1_monitoring_api.py",
        "tests/e2e/test_6_1_complete_workflow.py",
        "scripts/test/run_6_1_tests.sh",
        "scripts/setup/setup_stage_6.sh",
        "src/demo/monitoring/monitoring_api.py",
    ]:
        assert (project / rel).is_file(), rel
    assert not (project / "docker/docker-compose.stage-6.yml").exists()
    assert cli(project, "new-stage", "6.2", "alerts", "--with-compose").exit_code == 0
    assert (project / "docker/docker-compose.stage-6.yml").is_file()


def test_feature_defaults_to_the_stage_slug(project: Path, cli: Cli) -> None:
    assert cli(project, "new-stage", "5.1").exit_code == 0
    assert (project / "tests/unit/test_5_1_model_serving.py").is_file()


def test_running_twice_changes_nothing(project: Path, cli: Cli) -> None:
    assert cli(project, "new-stage", "6.1", "monitoring-api").exit_code == 0
    before = snapshot(project)
    result = cli(project, "new-stage", "6.1", "monitoring_api", "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["written"] == []
    assert snapshot(project) == before


def test_conflict_exits_3_and_keeps_the_users_file(project: Path, cli: Cli) -> None:
    assert cli(project, "new-stage", "6.1", "monitoring-api").exit_code == 0
    unit = project / "tests/unit/test_6_1_monitoring_api.py"
    unit.write_text("# my tests\n")
    (project / "docs/06-monitoring/6.1-monitoring-api-testing.md").unlink()
    before = snapshot(project)
    result = cli(project, "new-stage", "6.1", "monitoring-api")
    assert result.exit_code == 3
    assert "tests/unit/test_6_1_monitoring_api.py already exists" in result.stderr
    assert "--force" in result.stderr
    assert snapshot(project) == before  # the missing doc was not recreated either
    assert unit.read_text() == "# my tests\n"
    assert cli(project, "new-stage", "6.1", "monitoring-api", "--force").exit_code == 0
    assert "def test_" in unit.read_text()


def test_dry_run_shows_the_plan_and_writes_nothing(project: Path, cli: Cli) -> None:
    before = snapshot(project)
    result = cli(project, "new-stage", "6.1", "x", "--dry-run", "--json")
    assert result.exit_code == 0
    actions = {a["path"]: a["action"] for a in json.loads(result.stdout)["actions"]}
    assert actions["tests/unit/test_6_1_x.py"] == "create"
    assert snapshot(project) == before


BAD_STAGE_IDS = ["6", "6.x", "10.1", "0.1", "6.1.2"]
BAD_FEATURES = ["a/b", "../etc", "..", "a;rm -rf", "$(touch pwned)", ".hidden", "a.b"]


@pytest.mark.parametrize("stage_id", BAD_STAGE_IDS)
def test_bad_stage_ids_exit_2_and_change_nothing(project: Path, cli: Cli, stage_id: str) -> None:
    before = snapshot(project)
    result = cli(project, "new-stage", stage_id, "feature")
    assert result.exit_code == 2
    assert f"Stage id '{stage_id}'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot(project) == before


@pytest.mark.parametrize("feature", BAD_FEATURES)
def test_unsafe_features_exit_2_and_change_nothing(project: Path, cli: Cli, feature: str) -> None:
    before = snapshot(project)
    result = cli(project, "new-stage", "6.1", feature)
    assert result.exit_code == 2
    assert f"Feature name '{feature}'" in result.stderr
    assert snapshot(project) == before
    assert not (project / "pwned").exists()


def test_set_values_are_checked(project: Path, cli: Cli) -> None:
    result = cli(project, "new-stage", "6.1", "x", "--set", "colour=red")
    assert result.exit_code == 2
    assert "no such parameter (parameters: with_compose)" in result.stderr
    result = cli(project, "new-stage", "6.1", "x", "--set", "with_compose")
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr
    assert cli(project, "new-stage", "6.1", "x", "--set", "with_compose=yes").exit_code == 0
    assert (project / "docker/docker-compose.stage-6.yml").is_file()


def test_project_template_overrides_and_a_broken_one_writes_nothing(
    project: Path, cli: Cli
) -> None:
    folder = project / "templates/stage/files/{{docs_dir}}"
    folder.mkdir(parents=True)
    (folder / "{{stage_id}}-{{feature}}-implementation.md.j2").write_text("# ours {{ stage_id }}\n")
    assert cli(project, "new-stage", "6.1", "x").exit_code == 0
    assert (project / "docs/06-monitoring/6.1-x-implementation.md").read_text() == "# ours 6.1\n"
    (folder / "{{stage_id}}-{{feature}}-testing.md.j2").write_text("{{ no_such_value }}\n")
    before = snapshot(project)
    result = cli(project, "new-stage", "6.2", "y")
    assert result.exit_code == 2
    assert "'no_such_value' is undefined" in result.stderr
    assert snapshot(project) == before


def test_outside_a_project_new_stage_exits_4(tmp_path: Path, cli: Cli) -> None:
    result = cli(tmp_path, "new-stage", "6.1", "x")
    assert result.exit_code == 4
    assert "mlopsctl init" in result.stderr


def test_bad_config_exits_2_naming_the_key(project: Path, cli: Cli) -> None:
    (project / "mlops.yaml").write_text("project: {name: x, package: x}\ntests: {coverage: 5}\n")
    result = cli(project, "new-stage", "6.1", "x")
    assert result.exit_code == 2
    assert "mlops.yaml: key 'tests.coverage' is unknown" in result.stderr


def test_stages_reports_file_states(project: Path, cli: Cli) -> None:
    assert cli(project, "new-stage", "6.1", "monitoring-api").exit_code == 0
    (project / "tests/unit/test_6_1_monitoring_api.py").write_text("# edited\n")
    (project / "scripts/test/run_6_1_tests.sh").unlink()
    (project / "tests/unit/test_3_2_hand_made.py").write_text("def test_x(): pass\n")
    result = cli(project, "stages", "--json")
    assert result.exit_code == 0
    subs = {s["id"]: s for s in json.loads(result.stdout)["substages"]}
    states = {f["path"]: f["state"] for f in subs["6.1"]["files"]}
    assert states["tests/unit/test_6_1_monitoring_api.py"] == "modified"
    assert states["scripts/test/run_6_1_tests.sh"] == "missing"
    assert states["tests/e2e/test_6_1_complete_workflow.py"] == "pristine"
    hand = {f["path"]: f["state"] for f in subs["3.2"]["files"]}
    assert hand["tests/unit/test_3_2_hand_made.py"] == "present"
    assert hand["docs/03-version-control/3.2-hand-made-implementation.md"] == "missing"
    text = cli(project, "stages")
    assert "modified" in text.stdout and "6.1" in text.stdout


def test_templates_list(project: Path, cli: Cli) -> None:
    result = cli(project, "templates", "list", "--json")
    assert result.exit_code == 0
    found = {t["name"]: t for t in json.loads(result.stdout)["templates"]}
    assert found["stage"]["parameters"][0]["name"] == "with_compose"
    assert found["project"]["kind"] == "project"


def test_version_and_help_through_a_real_process() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "mlopsctl", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.startswith("mlopsctl ")
    help_ = subprocess.run(
        [sys.executable, "-m", "mlopsctl", "--help"], capture_output=True, text=True
    )
    assert help_.returncode == 0
    for command in ("init", "new-stage", "stages", "check-names", "templates"):
        assert command in help_.stdout
    sub = subprocess.run(
        [sys.executable, "-m", "mlopsctl", "check-names", "--help"], capture_output=True, text=True
    )
    assert sub.returncode == 0 and "naming rules" in sub.stdout


def test_debug_shows_the_trace(project: Path, cli: Cli) -> None:
    result = cli(project, "--debug", "new-stage", "6.x")
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
