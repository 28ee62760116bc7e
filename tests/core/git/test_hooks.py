"""Installing the git hooks into a real repository in a temporary folder (native mode; the
pre-commit mode runs in tests/system/test_git_hooks.py)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlopsctl.core.git import hooks
from mlopsctl.errors import BadInput, Conflict, Missing


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def test_native_hooks_and_the_launcher_are_installed(repo: Path) -> None:
    done = hooks.install(repo, mode="native")
    folder = repo / ".git" / "hooks"
    assert done.mode == "native" and Path(done.hooks_dir) == folder
    assert {"pre-commit", "commit-msg", "pre-push"} <= set(done.hooks)
    for name in ("pre-commit", "commit-msg", "pre-push"):
        text = (folder / name).read_text()
        assert hooks.MARKER in text and (folder / name).stat().st_mode & 0o111
    assert (folder / hooks.LAUNCHER).is_file()
    python = subprocess.run(["git", "config", "--local", hooks.PYTHON_KEY], cwd=repo,
                            capture_output=True, text=True).stdout.strip()  # fmt: skip
    assert python and Path(python).exists()
    again = hooks.install(repo, mode="native")  # our own hooks are replaced, never kept
    assert again.backups == []


def test_a_foreign_hook_is_a_conflict_unless_forced(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\necho mine\n")
    with pytest.raises(Conflict, match="were not written by mlopsctl"):
        hooks.install(repo, mode="native")
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    done = hooks.install(repo, mode="native", force=True)
    assert done.backups and Path(done.backups[0]).read_text() == "#!/bin/sh\necho mine\n"


def test_the_hooks_path_is_honoured(repo: Path) -> None:
    subprocess.run(["git", "config", "core.hooksPath", "githooks"], cwd=repo, check=True)
    assert hooks.hooks_dir(repo) == repo / "githooks"


def test_bad_mode_and_no_repository(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="--mode 'x'"):
        hooks.install(tmp_path, mode="x")
    with pytest.raises(Missing, match="No git repository"):
        hooks.hooks_dir(tmp_path)
