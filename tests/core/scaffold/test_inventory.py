"""inventory: substages found by the record and by file names, with each file's state."""

from __future__ import annotations

from pathlib import Path

from mlopsctl.core import config
from mlopsctl.core.git import repo
from mlopsctl.core.scaffold import create, inventory


def test_substages_from_the_record_and_from_file_names(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    create.plan_init(root, name="demo").apply()
    cfg = config.load_project(root)
    create.plan_new_stage(cfg, "6.1", "latency").apply()
    (root / "tests/unit/test_3_2_by_hand.py").write_text("def test_x():\n    pass\n")
    (root / "src/demo/monitoring/latency.py").write_text("# edited\n")
    found = {s.id: s for s in inventory.find(cfg, repo.walk_files(root))}
    assert set(found) == {"3.2", "6.1"}
    assert found["6.1"].feature == "latency"
    assert found["6.1"].files["src/demo/monitoring/latency.py"] == "modified"
    assert found["3.2"].files["tests/unit/test_3_2_by_hand.py"] == "present"
    missing = [p for p, s in found["3.2"].files.items() if s == "missing"]
    assert "scripts/test/run_3_2_tests.sh" in missing
