"""Crashes during the apply step, at every write and rename (kill -9 at random moments is in
test_crash_kills.py).

After each crash every target holds its old content or its new one (never a part, never
missing when it existed), the record parses, and the next run finishes the job: the tree then
equals a run that was never interrupted, and no temporary file is left for git to see.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tests.helpers.forker import Done, Job, run_forked
from tests.system.conftest import mlopsctl

SCENARIOS = {
    "new stage with appends": ["new-stage", "6.2", "alerts", "--template", "monitoring"],
    "forced overwrite of an edited file": ["new-stage", "6.1", "latency", "--force"],
    "forced destroy of a stage": ["destroy-stage", "6.1", "--force"],
}


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".git" not in p.relative_to(root).parts
    }


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A committed project where 6.1 exists and its module was edited by the user."""
    from mlopsctl.core.scaffold import create

    root = tmp_path_factory.mktemp("crash") / "demo"
    create.plan_init(root, name="demo").apply()
    create.init_git(root)
    out = mlopsctl(root, "new-stage", "6.1", "latency")
    assert out.returncode == 0, out.stderr
    module = root / "src/demo/monitoring/latency.py"
    module.write_text(module.read_text() + "\n# the user's own line\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: base", "--no-verify")
    return root


def check_after_crash(old: dict[str, bytes], new: dict[str, bytes], now: dict[str, bytes]) -> None:
    for path in set(old) | set(new):
        if path.startswith(".mlops/tmp/"):
            continue
        assert now.get(path) in (old.get(path), new.get(path)), path
    record = now.get(".mlops/generated.json")
    assert record is not None
    json.loads(record)


def check_finished(project: Path, args: list[str], again: Done, new: dict[str, bytes]) -> None:
    """After the run that follows a crash: it finished the job, as if never interrupted."""
    if args[0] == "destroy-stage" and again.returncode == 2:
        # killed after its last change (the store folder's rmdir): it is done, and a destroy
        # of a substage that is gone says so
        assert "is not in .mlops/generated.json" in again.stderr
    else:
        assert again.returncode == 0, again.stderr
    assert tree(project) == new
    assert not (project / ".mlops/tmp").exists()
    status = git(project, "status", "--porcelain", "--untracked-files=all", "--", ".mlops")
    for line in status.splitlines():  # the record, and the content store's new and old files
        assert re.fullmatch(
            r"M \.mlops/generated\.json|(\?\?| D) \.mlops/objects/[0-9a-f]{64}", line
        ), line


def finish_and_compare(project: Path, args: list[str], new: dict[str, bytes]) -> None:
    out = mlopsctl(project, *args)
    check_finished(project, args, Done(out.returncode, out.stdout, out.stderr), new)


def copies(base: Path, folder: Path, count: int) -> list[Path]:
    out = []
    for i in range(count):
        project = folder / f"p{i}"
        shutil.copytree(base, project, symlinks=True)
        out.append(project)
    return out


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_a_crash_at_every_write_and_rename(base: Path, tmp_path: Path, scenario: str) -> None:
    """One crash per counted call, every crash point of the run; each run is a fork of one
    prepared interpreter (tests/helpers/forker.py), the next run too."""
    args = SCENARIOS[scenario]
    old = tree(base)
    reference, counting = copies(base, tmp_path / "first", 2)
    first = run_forked([Job(reference, args), Job(counting, args, limit=10**9)], tmp_path / "o1")
    assert [d.returncode for d in first] == [0, 0], [d.stderr for d in first]
    new = tree(reference)
    assert tree(counting) == new
    calls = first[1].calls
    assert new != old
    assert calls >= 3
    projects = copies(base, tmp_path / "crash", calls)
    crashed = run_forked(
        [Job(p, args, limit=k) for k, p in enumerate(projects, 1)], tmp_path / "o2"
    )
    for k, (project, done) in enumerate(zip(projects, crashed, strict=True), 1):
        assert done.returncode == 137, (k, done.stderr)
        check_after_crash(old, new, tree(project))
    again = run_forked([Job(p, args) for p in projects], tmp_path / "o3")
    for project, done in zip(projects, again, strict=True):
        check_finished(project, args, done, new)
    sys.stdout.write(f"\n{scenario}: {calls} crash points\n")


def test_temporary_files_are_invisible_to_git(base: Path, tmp_path: Path) -> None:
    args = SCENARIOS["new stage with appends"]
    warming, counting, project = copies(base, tmp_path / "c", 3)
    jobs = [Job(warming, args, limit=10**9), Job(counting, args, limit=10**9)]
    _, done = run_forked(jobs, tmp_path / "o1")  # the first warms the parse cache
    (crashed,) = run_forked([Job(project, args, limit=done.calls - 2)], tmp_path / "o2")
    assert crashed.returncode == 137  # among the renames
    assert (project / ".mlops/tmp").is_dir() and any((project / ".mlops/tmp").iterdir())
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert ".mlops/tmp" not in status
    assert os.listdir(project / ".mlops/tmp")
