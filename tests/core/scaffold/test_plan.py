import os
from pathlib import Path

import pytest

from mlopsctl.core.scaffold import lifecycle, plan, record
from mlopsctl.core.scaffold.render import RenderedFile
from mlopsctl.errors import Conflict


def build(root: Path, files: list[RenderedFile], force: bool = False) -> plan.Plan:
    """The plan of writing ``files`` into ``root`` for one instance nothing recorded yet."""
    change = lifecycle.Change(record.Instance("t", "t", {}, "0"), files)
    return lifecycle.plan(root, record.Record(), {"t": change}, "create", force).plan


def f(path: str, text: str, existing: str = "conflict") -> RenderedFile:
    return RenderedFile(path, text.encode(), path.endswith(".sh"), existing)


def test_actions(tmp_path: Path) -> None:
    (tmp_path / "same.txt").write_text("same")
    (tmp_path / "differs.txt").write_text("mine")
    (tmp_path / "kept.sh").write_text("mine")
    files = [f("new/a.txt", "a"), f("same.txt", "same"), f("differs.txt", "theirs"),
             f("kept.sh", "theirs", existing="keep")]  # fmt: skip
    p = build(tmp_path, files)
    assert {a.path: a.action for a in p.actions} == {
        "new/a.txt": "create", "same.txt": "identical", "differs.txt": "conflict", "kept.sh": "keep",
    }  # fmt: skip
    forced = build(tmp_path, files, force=True)
    assert [a.path for a in forced.writes] == ["differs.txt", "new/a.txt"]


def test_conflicts_write_nothing(tmp_path: Path) -> None:
    (tmp_path / "differs.txt").write_text("mine")
    p = build(tmp_path, [f("new.txt", "a"), f("differs.txt", "theirs")])
    with pytest.raises(Conflict, match="differs.txt already exists"):
        plan.apply(p)
    assert not (tmp_path / "new.txt").exists()
    assert (tmp_path / "differs.txt").read_text() == "mine"


def test_apply_writes_modes_and_leaves_no_temporaries(tmp_path: Path) -> None:
    p = build(tmp_path, [f("a/run_x.sh", "#!/bin/sh\n"), f("a/b.txt", "b")])
    written = plan.apply(p, extra={".mlops/r.json": b"{}"})
    assert sorted(written) == [".mlops/r.json", "a/b.txt", "a/run_x.sh"]
    assert os.access(tmp_path / "a/run_x.sh", os.X_OK)
    assert not os.access(tmp_path / "a/b.txt", os.X_OK)
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["b.txt", "run_x.sh"]


def test_a_failure_midway_rolls_everything_back(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("old")
    (tmp_path / "blocker").write_text("a file where a folder is needed")
    files = [f("keep.txt", "new"), f("fresh/x.txt", "x"), f("blocker/child.txt", "boom")]
    p = build(tmp_path, files, force=True)
    with pytest.raises(OSError):
        plan.apply(p)
    assert (tmp_path / "keep.txt").read_text() == "old"
    assert not (tmp_path / "fresh").exists()
    assert sorted(x.name for x in tmp_path.iterdir()) == ["blocker", "keep.txt"]
