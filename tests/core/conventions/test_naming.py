import pytest

from mlopsctl.core.config import Config, default_data, validate
from mlopsctl.core.conventions import naming

RULES = naming.Rules(Config(None, default_data()))

VALID = [
    "run_tests.sh", "run_docker_tests.sh", "README.md", "Dockerfile.dev", "mlops.yaml",
    "scripts/setup/setup_mlops_git.sh", "scripts/setup/setup_stage_6.sh",
    "scripts/setup/legacy/Anything Goes.sh", "scripts/test/run_3_1_tests.sh",
    "scripts/test/run_integration_tests.sh", "scripts/deploy/deploy_production.sh",
    "scripts/deploy/rollback.sh", "scripts/deploy/switch_traffic.sh",
    "scripts/monitoring/check_health.sh", "scripts/security/security_scan.sh",
    "scripts/validate_branch_name.sh", "scripts/test/helper.py",
    "tests/unit/test_3_1_git_config.py", "tests/integration/test_3_1_docker_workflow.py",
    "tests/integration/test_3_1_docker_workflow.sh", "tests/e2e/test_3_1_complete_workflow.py",
    "tests/unit/__init__.py", "tests/unit/conftest.py", "tests/conftest.py", "tests/__init__.py",
    "tests/performance/test_load.py", "tests/security/test_auth.py",
    "tests/fixtures/stage_6/Data File.json", "tests/unit/data.json",
    "docker/docker-compose.main.yml", "docker/docker-compose.stage-5.yml",
    "docker/docker-compose.monitoring.yml", "docker/docker-compose.production.yml",
    "docker/docker-compose.model-serving.yml", "docker/.gitkeep", "docker/dockerfiles/Dockerfile.api",
    "docs/06-monitoring/6.1-monitoring-api-implementation.md",
    "docs/03-version-control/3.1-git-workflow-testing.md",
    "docs/05-model-serving/deployment-guide.md", "docs/05-model-serving/api-reference.md",
    "docs/06-monitoring/README.md", "docs/00-overview/naming-conventions.md", "docs/ops/X.md",
    "src/demo/Anything.py",
]  # fmt: skip

INVALID = [
    ("deploy.sh", "main runner"),
    ("Run_tests.sh", "main runner"),
    ("scripts/setup/install.sh", "setup script"),
    ("scripts/test/run_3_1.sh", "stage runner"),
    ("scripts/test/run_10_1_tests.sh", "stage runner"),
    ("scripts/deploy/push.sh", "deploy script"),
    ("scripts/monitoring/health.sh", "monitoring script"),
    ("tests/unit/test_git_config.py", "unit test"),
    ("tests/unit/test_10_1_x.py", "unit test"),
    ("tests/unit/test_6_0_x.py", "unit test"),
    ("tests/unit/Test_6_1_x.py", "unit test"),
    ("tests/integration/check_6_1_x.py", "integration test"),
    ("tests/e2e/test_workflow.py", "e2e test"),
    ("tests/performance/load.py", "performance test"),
    ("tests/test_everything.py", "tests folder"),
    ("docker/docker-compose.stage-x.yml", "compose file"),
    ("docker/docker-compose.stage-10.yml", "compose file"),
    ("docker/docker-compose.stagex.yml", "compose file"),
    ("docker/docker-compose.Main.yml", "compose file"),
    ("docker/compose.yml", "compose file"),
    ("docs/06-monitoring/3.1-git-workflow-implementation.md", "stage doc in its own stage folder"),
    ("docs/06-monitoring/notes.md", "stage doc"),
    ("docs/06-monitoring/6.1-Monitoring-implementation.md", "stage doc"),
]


@pytest.mark.parametrize("path", VALID)
def test_valid_names(path: str) -> None:
    assert RULES.check(path) is None


@pytest.mark.parametrize(("path", "rule"), INVALID)
def test_invalid_names_name_the_rule_and_pattern(path: str, rule: str) -> None:
    v = RULES.check(path)
    assert v is not None
    assert (v.path, v.rule) == (path, rule)
    assert v.expected


def test_stage_numbers_come_from_the_config() -> None:
    cfg = Config(None, validate({"stages": {6: {"slug": "monitoring"}, 10: {"slug": "platform"}}}))
    rules = naming.Rules(cfg)
    assert rules.check("tests/unit/test_10_1_x.py") is None
    assert rules.check("tests/unit/test_3_1_x.py") is not None
    assert rules.check("docs/10-platform/10.2-x-implementation.md") is None


def test_ignore_globs() -> None:
    cfg = Config(None, validate({"naming": {"ignore": ["tests/legacy_*", "deploy.sh"]}}))
    assert naming.check_paths(["deploy.sh", "tests/legacy_a.py", "tests/b.py"], cfg) == [
        naming.Violation("tests/b.py", "tests folder", "conftest.py or __init__.py")
    ]
