"""repo: what git tracks, HEAD read without git, ranges and pushed commits, on real repositories."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core.git import repo
from mlopsctl.errors import BadInput
from tests.conftest import git


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    root = tmp_path / "r"
    root.mkdir()
    repo.init(root)
    (root / "a.txt").write_text("a\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / ".gitignore").write_text("ignored/\n")
    (root / "ignored").mkdir()
    (root / "ignored" / "x").write_text("x\n")
    git(root, "add", "a.txt", ".gitignore")
    git(root, "commit", "-qm", "feat: first")
    (root / "b.txt").write_text("b\n")
    git(root, "add", "b.txt")
    git(root, "commit", "-qm", "fix: second")
    return root


def test_listed_files_are_tracked_and_untracked_but_not_ignored(repository: Path) -> None:
    assert repo.listed_files(repository) == [".env", ".gitignore", "a.txt", "b.txt"]
    assert repo.listed_files(repository.parent) is None  # outside any repository


def test_head_is_read_and_a_tracked_env_file_is_found(repository: Path) -> None:
    assert repo.head_branch(str(repository)) == "main"
    git(repository, "add", "-f", ".env")
    assert repo.tracked_env_files(repository) == [".env"]


def test_a_range_lists_its_commits_and_an_option_is_refused(repository: Path) -> None:
    commits = repo.commits_in_range("HEAD~1..HEAD", repository)
    assert [c.message.splitlines()[0] for c in commits] == ["fix: second"]
    with pytest.raises(BadInput):
        repo.commits_in_range("--output=/tmp/x", repository)


def test_commits_pushed_are_those_the_remote_lacks(repository: Path) -> None:
    first = git(repository, "rev-parse", "HEAD~1")
    head = git(repository, "rev-parse", "HEAD")
    pushed = repo.commits_pushed(head, first, "origin", repository)
    assert [c.sha for c in pushed] == [head]
