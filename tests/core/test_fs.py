"""fs: the containment rule, atomic writes, temporary names and the flock lock."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlopsctl.core import fs
from mlopsctl.errors import BadInput


@pytest.mark.parametrize(
    "rel", ["", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a\\b", "a\0b", ".git/HEAD",
            "sub/.git/config", ".GIT/hooks/x", "x" * 5000],
)  # fmt: skip
def test_paths_outside_the_project_or_inside_git_are_refused(tmp_path: Path, rel: str) -> None:
    with pytest.raises(BadInput):
        fs.inside(tmp_path, rel)


def test_a_link_out_of_the_root_is_refused_one_inside_is_not(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "in").mkdir(parents=True)
    (root / "out").symlink_to(tmp_path)
    (root / "alias").symlink_to(root / "in")
    with pytest.raises(BadInput, match="outside the project"):
        fs.inside(root, "out/x")
    assert fs.inside(root, "alias/x") == root / "alias" / "x"
    assert fs.inside(root, "a/b.txt") == root / "a" / "b.txt"


def test_atomic_write_replaces_whole_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    fs.atomic_write(target, b"one")
    fs.atomic_write(target, b"two", 0o600)
    assert target.read_bytes() == b"two"
    assert (target.stat().st_mode & 0o777) == 0o600
    assert os.listdir(tmp_path) == ["f.txt"]


def test_temporary_names_are_marked_and_bounded(tmp_path: Path) -> None:
    name = fs.temp_name(tmp_path / ("n" * 250))
    base = os.path.basename(name)
    assert base.endswith(fs.TMP_SUFFIX) and len(base) < 255


def test_the_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    first, second = fs.FileLock(tmp_path / "l"), fs.FileLock(tmp_path / "l")
    assert first.acquire("me, deploying")
    assert not second.acquire("you")
    assert second.holder() == "me, deploying"
    first.release()
    assert second.acquire("you")
    second.release()


def test_sha256() -> None:
    assert fs.sha256(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
