"""doctor's checks one by one, on a project made in process (no tools needed for these)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.core import config
from mlopsctl.core.readiness.doctor import OPS_GUIDES, Doctor, Report
from mlopsctl.core.scaffold import create


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    create.plan_init(root, name="demo").apply()
    return root


def doctor(root: Path) -> Doctor:
    return Doctor(config.load(root))


def test_ops_guides(project: Path) -> None:
    check = doctor(project).ops_guides()
    assert check.status == "fail" and "MONITORING_GUIDE.md" in check.reason
    (project / "docs/ops").mkdir(exist_ok=True)
    for guide in OPS_GUIDES:
        (project / "docs/ops" / guide).write_text("# guide\n")
    assert doctor(project).ops_guides().status == "pass"


def test_env_template_covers_the_keys_in_use(project: Path) -> None:
    module = project / "src/demo/settings_user.py"
    module.write_text('import os\nURL = os.environ.get("SERVICE_URL_NOT_LISTED")\n')
    check = doctor(project).env_template()
    assert check.status == "fail" and "SERVICE_URL_NOT_LISTED" in check.reason
    with (project / ".env.template").open("a") as fh:
        fh.write("SERVICE_URL_NOT_LISTED=\n")
    assert doctor(project).env_template().status == "pass"


def test_a_deploy_environment_needs_every_service_health_checked(project: Path) -> None:
    compose = project / "docker/docker-compose.staging.yml"
    compose.write_text("services:\n  api:\n    image: x\n")
    assert doctor(project).deploy_health().status == "fail"
    compose.write_text("services:\n  api:\n    image: x\n    healthcheck: {test: [CMD, 'true']}\n")
    check = doctor(project).deploy_health()
    assert check.status == "pass" and "staging" in check.reason


def test_ml_tags_and_the_score_in_the_report(project: Path) -> None:
    (project / "tests/unit/test_1_1_x.py").write_text(
        'import pytest\n\n\n@pytest.mark.ml_test("data-9")\ndef test_x() -> None: ...\n'
    )
    d = doctor(project)
    check = d.ml_tags()
    assert check.status == "fail" and "data-9" in check.reason
    report = Report([check], d.ml_score())
    doc = report.as_dict()
    assert doc["score"] == 0 and doc["ml_test_score"]["score"] == 0
    assert json.dumps(doc)  # the --json document serialises


def test_the_score_is_the_share_of_checks_that_ran() -> None:
    from mlopsctl.core.readiness.doctor import Check

    checks = [Check("a", "a", "pass", ""), Check("b", "b", "fail", ""), Check("c", "c", "skip", "")]
    assert Report(checks).score == 50
    assert Report([Check("c", "c", "skip", "")]).score == 0
