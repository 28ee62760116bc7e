from pathlib import Path

from mlopsctl.core import config
from mlopsctl.core.scaffold import create, record


def test_record_tells_pristine_modified_and_missing(project: Path) -> None:
    cfg = config.load(project)
    sc = create.plan_new_stage(cfg, "6.1", "monitoring-api")
    sc.apply()
    entries = record.load(project)
    unit = "tests/unit/test_6_1_monitoring_api.py"
    assert entries[unit].template == "stage"
    assert entries[unit].parameters == {"substage": "6.1", "feature": "monitoring-api"}
    assert entries["mlops.yaml"].template == "project"
    assert entries[unit].state(project) == "pristine"
    (project / unit).write_text("# edited\n")
    assert entries[unit].state(project) == "modified"
    (project / unit).unlink()
    assert entries[unit].state(project) == "missing"


def test_a_second_identical_run_does_not_touch_the_record(project: Path) -> None:
    cfg = config.load(project)
    create.plan_new_stage(cfg, "6.1").apply()
    again = create.plan_new_stage(cfg, "6.1")
    assert again.record is None
    assert again.plan.writes == []
