"""check-branch, check-commit and the hooks against real repositories and real pre-commit."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git
from tests.system.conftest import BIN, mlopsctl


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "a.txt").write_text("a\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "feat: first")
    return root


@pytest.fixture
def path_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hooks run `mlopsctl` from PATH: the one installed beside this interpreter."""
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}{os.environ['PATH']}")


def commit_all(cwd: Path, message: str) -> subprocess.CompletedProcess[str]:
    git(cwd, "add", "-A")
    return subprocess.run(
        ["git", "commit", "-q", "-m", message], cwd=cwd, capture_output=True, text=True
    )


def test_branch_is_read_from_git(repo: Path) -> None:
    git(repo, "switch", "-q", "-c", "feature/stage6-monitoring-api")
    ok = mlopsctl(repo, "check-branch", "--json")
    assert ok.returncode == 0
    assert json.loads(ok.stdout) | {} == {
        "ok": True, "branch": "feature/stage6-monitoring-api", "source": "git HEAD",
        "kind": "feature", "reason": None, "suggestion": None,
    }  # fmt: skip
    git(repo, "switch", "-q", "-c", "Feature/Monitoring")
    bad = mlopsctl(repo, "check-branch")
    assert bad.returncode == 1
    assert "branch 'Feature/Monitoring' (from git HEAD)" in bad.stdout


def test_detached_head_without_and_with_ci_variables(repo: Path) -> None:
    git(repo, "checkout", "-q", "--detach")
    skipped = mlopsctl(repo, "check-branch")
    assert skipped.returncode == 0
    assert "skipped: HEAD is detached" in skipped.stdout
    assert mlopsctl(repo, "check-branch", "--strict").returncode == 1
    ci = mlopsctl(repo, "check-branch", env={"GITHUB_HEAD_REF": "feature/stage5-serving"})
    assert ci.returncode == 0 and "GITHUB_HEAD_REF" in ci.stdout
    bad_ci = mlopsctl(repo, "check-branch", "--format", "github", env={"CI_COMMIT_BRANCH": "wip"})
    assert bad_ci.returncode == 1
    assert bad_ci.stdout.startswith("::error title=check-branch::branch 'wip' (from GitLab")


def test_outside_git_without_a_name_exits_4(tmp_path: Path) -> None:
    out = mlopsctl(tmp_path, "check-branch")
    assert out.returncode == 4
    assert "No git repository" in out.stderr


def test_commit_msg_file_with_git_comments(repo: Path) -> None:
    msg = repo / ".git" / "COMMIT_EDITMSG"
    msg.write_text("feat: add x\n# Please enter the commit message\n#\n# On branch main\n")
    assert mlopsctl(repo, "check-commit", str(msg)).returncode == 0
    msg.write_text("feat:add x\n# comment\n")
    bad = mlopsctl(repo, "check-commit", str(msg))
    assert bad.returncode == 1
    assert "missing space after ':'; did you mean `feat: add x`?" in bad.stdout
    missing = mlopsctl(repo, "check-commit", str(repo / "nope"))
    assert missing.returncode == 2 and "Cannot read the message file" in missing.stderr


def test_commit_msg_file_follows_gits_comment_char(repo: Path) -> None:
    msg = repo / ".git" / "COMMIT_EDITMSG"
    template = "# Please enter the commit message for your changes. Lines starting\n#\n"
    msg.write_text("feat: add x\n#123 done\n" + template)
    assert mlopsctl(repo, "check-commit", str(msg)).returncode == 0  # '#123 done': a comment
    template = template.replace("#", ";")
    msg.write_text("feat: add x\n#123 done\n" + template)  # git keeps '#123 done' now
    for setting in (";", "auto"):
        git(repo, "config", "core.commentChar", setting)
        kept = mlopsctl(repo, "check-commit", str(msg))
        assert kept.returncode == 1, setting
        assert "blank line" in kept.stdout, kept.stdout
        msg.write_text(template + "; ------------------------ >8 ------------------------\nx\n")
        empty = mlopsctl(repo, "check-commit", str(msg))
        assert empty.returncode == 1 and "the commit message is empty" in empty.stdout
        msg.write_text("feat: add x\n#123 done\n" + template)


def test_range_checks_every_commit(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "-c", "feature/stage6-x")
    for i, message in enumerate(["feat: one", "bad two", "fix(stage6): three", "docs:four"]):
        (repo / f"f{i}.txt").write_text(str(i))
        commit_all(repo, message)
    out = mlopsctl(repo, "check-commit", "--range", f"{base}..HEAD", "--json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["checked"] == 4
    assert [f["subject"] for f in doc["failures"]] == ["bad two", "docs:four"]
    assert doc["failures"][1]["suggestion"] == "docs: four"
    text = mlopsctl(repo, "check-commit", "--range", f"{base}..HEAD")
    assert "2 of 4 commits" in text.stdout
    good = mlopsctl(repo, "check-commit", "--range", f"{base}..HEAD~3")
    assert good.returncode == 0 and "1 commit in" in good.stdout
    assert mlopsctl(repo, "check-commit", "--range", "nope..HEAD").returncode == 2
    assert mlopsctl(repo, "check-commit", "--range", "HEAD").returncode == 2


def test_merge_commits_pass_in_a_range(repo: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    git(repo, "switch", "-q", "-c", "feature/stage1-a")
    (repo / "b.txt").write_text("b")
    commit_all(repo, "feat: b")
    git(repo, "switch", "-q", "main")
    (repo / "c.txt").write_text("c")
    commit_all(repo, "fix: c")
    git(repo, "merge", "-q", "--no-ff", "--no-edit", "feature/stage1-a")
    out = mlopsctl(repo, "check-commit", "--range", f"{base}..HEAD", "--json")
    assert out.returncode == 0, out.stdout
    assert json.loads(out.stdout)["checked"] == 3


def test_shallow_clone_fails_loudly(repo: Path, tmp_path: Path) -> None:
    base = git(repo, "rev-parse", "HEAD")
    for i in range(3):
        (repo / f"s{i}").write_text(str(i))
        commit_all(repo, f"feat: s{i}")
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo}", str(clone)], check=True)
    out = mlopsctl(clone, "check-commit", "--range", f"{base}..HEAD")
    assert out.returncode == 4
    assert "shallow" in out.stderr and "fetch-depth: 0" in out.stderr
    out = mlopsctl(clone, "check-commit", "--range", "HEAD~2..HEAD")
    assert out.returncode == 4


def test_native_hooks_check_the_pushed_branch_not_head(
    repo: Path, tmp_path: Path, path_env: None
) -> None:
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(repo, "remote", "add", "origin", str(remote))
    out = mlopsctl(repo, "hooks", "install", "--mode", "native", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["hooks"] == ["pre-commit", "commit-msg", "pre-push"]
    git(repo, "branch", "Bad_Branch")
    git(repo, "branch", "docs/good-one")
    push_bad = subprocess.run(
        ["git", "push", "-q", "origin", "Bad_Branch"], cwd=repo, capture_output=True, text=True
    )
    assert push_bad.returncode != 0
    assert "push to 'Bad_Branch' on origin breaks" in push_bad.stdout + push_bad.stderr
    git(repo, "switch", "-q", "-c", "Also_Bad")
    push_good = subprocess.run(
        ["git", "push", "-q", "origin", "docs/good-one"], cwd=repo, capture_output=True, text=True
    )
    assert push_good.returncode == 0, push_good.stderr
    git(repo, "switch", "-q", "main")
    (repo / "n.txt").write_text("n")
    assert commit_all(repo, "nope").returncode != 0
    assert commit_all(repo, "feat: n").returncode == 0


def test_foreign_hooks_are_never_replaced_silently(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "commit-msg"
    hook.write_text("#!/bin/sh\necho mine\n")
    hook.chmod(0o755)
    out = mlopsctl(repo, "hooks", "install", "--mode", "native")
    assert out.returncode == 3
    assert "not written by mlopsctl" in out.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    assert not (repo / ".git/hooks/pre-commit").exists()
    forced = mlopsctl(repo, "hooks", "install", "--mode", "native", "--force")
    assert forced.returncode == 0
    assert (repo / ".git/hooks/commit-msg.pre-mlopsctl").read_text() == "#!/bin/sh\necho mine\n"
    again = mlopsctl(repo, "hooks", "install", "--mode", "native")
    assert again.returncode == 0  # our own hooks are ours to replace


def test_pre_commit_framework_in_a_generated_project(tmp_path: Path, path_env: None) -> None:
    init = mlopsctl(tmp_path, "init", "proj")
    assert init.returncode == 0, init.stderr
    root = tmp_path / "proj"
    assert mlopsctl(root, "new-stage", "6.1", "monitoring-api").returncode == 0
    out = mlopsctl(root, "hooks", "install")
    assert out.returncode == 0, out.stderr
    assert "via pre-commit" in out.stdout
    assert "pre-commit" in (root / ".git/hooks/commit-msg").read_text()
    rejected = commit_all(root, "bad message")
    assert rejected.returncode != 0
    assert "did you mean `chore: bad message`" in rejected.stdout + rejected.stderr
    assert git(root, "rev-list", "--all") == ""
    accepted = commit_all(root, "feat: initial layout")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert git(root, "log", "--format=%s") == "feat: initial layout"
    (root / "tests/unit/test_wrong.py").write_text("")
    named = commit_all(root, "test: add a badly named test")
    assert named.returncode != 0
    assert "tests/unit/test_wrong.py: unit test" in named.stdout + named.stderr


def test_pre_commit_pre_push_checks_the_pushed_branch(tmp_path: Path, path_env: None) -> None:
    assert mlopsctl(tmp_path, "init", "proj").returncode == 0
    root = tmp_path / "proj"
    assert mlopsctl(root, "hooks", "install").returncode == 0
    assert commit_all(root, "feat: initial layout").returncode == 0
    remote = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(remote))
    git(root, "remote", "add", "origin", str(remote))
    git(root, "branch", "Bad_Branch")
    git(root, "branch", "docs/good-one")
    bad = subprocess.run(
        ["git", "push", "-q", "origin", "Bad_Branch"], cwd=root, capture_output=True, text=True
    )
    assert bad.returncode != 0
    assert "push to 'Bad_Branch' on origin breaks" in bad.stdout + bad.stderr
    git(root, "switch", "-q", "-c", "Also_Bad")
    good = subprocess.run(
        ["git", "push", "-q", "origin", "docs/good-one"], cwd=root, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stdout + good.stderr


# --- without the virtual environment, and what a push sends --------------------------------

BARE_PATH = "/usr/bin:/bin"  # a shell from an IDE: no virtual environment, no pyenv shims


def bare_env() -> dict[str, str]:
    env = {"HOME": os.environ["HOME"], "PATH": BARE_PATH, "LANG": "C.UTF-8"}
    for tool in ("mlopsctl", "pre-commit"):
        assert shutil.which(tool, path=BARE_PATH) is None, f"{tool} is on {BARE_PATH}"
    return env


def bare_git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, env=bare_env(), timeout=300
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A generated project with a bare remote, hooks installed from this interpreter."""
    assert mlopsctl(tmp_path, "init", "proj").returncode == 0
    root = tmp_path / "proj"
    git(root, "config", "user.email", "dev@example.com")
    git(root, "config", "user.name", "Dev")
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    git(root, "remote", "add", "origin", str(tmp_path / "remote.git"))
    return root


@pytest.mark.parametrize("mode", ["pre-commit", "native"])
def test_hooks_run_without_mlopsctl_on_path(project: Path, mode: str) -> None:
    out = mlopsctl(project, "hooks", "install", "--mode", mode)
    assert out.returncode == 0, out.stderr
    assert git(project, "config", "--get", "mlopsctl.python") == sys.executable
    git(project, "add", "-A")
    rejected = bare_git(project, "commit", "-q", "-m", "bad message")
    assert rejected.returncode != 0
    assert "did you mean `chore: bad message`" in rejected.stdout + rejected.stderr
    assert "not found" not in rejected.stdout + rejected.stderr
    accepted = bare_git(project, "commit", "-q", "-m", "feat: initial layout")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    (project / "tests/unit/test_wrong.py").write_text("")
    git(project, "add", "-A")
    named = bare_git(project, "commit", "-q", "-m", "test: add a badly named test")
    assert named.returncode != 0
    assert "tests/unit/test_wrong.py: unit test" in named.stdout + named.stderr
    git(project, "config", "--unset", "mlopsctl.python")
    lost = bare_git(project, "commit", "-q", "-m", "test: add a badly named test")
    assert lost.returncode != 0
    assert "mlopsctl not found: activate the environment" in lost.stdout + lost.stderr
    assert git(project, "log", "--format=%s") == "feat: initial layout"


def remote_refs(project: Path) -> dict[str, str]:
    out = git(project, "ls-remote", "--refs", "origin")
    return {ref: sha for sha, ref in (line.split("\t") for line in out.splitlines())}


@pytest.mark.parametrize("mode", ["pre-commit", "native"])
def test_a_push_is_checked_by_its_remote_names_and_new_commits(project: Path, mode: str) -> None:
    assert mlopsctl(project, "hooks", "install", "--mode", mode).returncode == 0
    git(project, "add", "-A")
    assert bare_git(project, "commit", "-q", "-m", "feat: initial layout").returncode == 0
    first = bare_git(project, "push", "-q", "origin", "main")
    assert first.returncode == 0, first.stdout + first.stderr
    head = git(project, "rev-parse", "HEAD")

    # a good local name under a bad remote name, with no new commit to send
    renamed = bare_git(project, "push", "origin", "main:Bad_Name")
    assert renamed.returncode != 0
    said = renamed.stdout + renamed.stderr
    assert "push to 'Bad_Name' on origin breaks the branch rules" in said
    assert "git push origin main:experiment/bad-name" in said
    assert remote_refs(project) == {"refs/heads/main": head}

    # commits made with --no-verify are checked when they are pushed
    git(project, "commit", "-q", "--no-verify", "--allow-empty", "-m", "wip stuff")
    git(project, "commit", "-q", "--no-verify", "--allow-empty", "-m", "fix: a good one")
    pushed = bare_git(project, "push", "origin", "main")
    assert pushed.returncode != 0
    said = pushed.stdout + pushed.stderr
    assert "'wip stuff' (pushed to main)" in said
    assert "1 of 2 commits pushed to 'main' break Conventional Commits" in said
    assert "fix: a good one" not in said
    assert remote_refs(project) == {"refs/heads/main": head}

    # every ref of one push is checked, a new branch by the commits the remote lacks
    git(project, "reset", "-q", "--hard", head)
    git(project, "switch", "-q", "-c", "docs/usage")
    git(project, "commit", "-q", "--no-verify", "--allow-empty", "-m", "docs: usage")
    git(project, "branch", "Also_Bad", head)
    both = bare_git(project, "push", "origin", "docs/usage", "Also_Bad")
    assert both.returncode != 0
    assert "push to 'Also_Bad' on origin" in both.stdout + both.stderr
    assert "refs/heads/docs/usage" not in remote_refs(project)
    alone = bare_git(project, "push", "-q", "origin", "docs/usage")
    assert alone.returncode == 0, alone.stdout + alone.stderr

    # deleting a branch and pushing a tag send nothing to check
    git(project, "tag", "Not_A_Branch_Name", head)
    assert bare_git(project, "push", "-q", "origin", "Not_A_Branch_Name").returncode == 0
    assert bare_git(project, "push", "-q", "origin", ":docs/usage").returncode == 0
    assert set(remote_refs(project)) == {"refs/heads/main", "refs/tags/Not_A_Branch_Name"}


def test_check_push_reads_only_gits_lines(project: Path) -> None:
    head_line = "refs/heads/main " + "1" * 40 + " refs/heads/main " + "0" * 40
    for text in ("not a line\n", head_line.replace("1" * 40, "zz"), "a b c d e\n"):
        out = mlopsctl(project, "check-push", "origin", input=text)
        assert out.returncode == 2, (text, out.stdout, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1
        assert "is not '<local ref> <local sha> <remote ref> <remote sha>'" in out.stderr
    nothing = mlopsctl(project, "check-push", "origin", "--json", input="")
    assert nothing.returncode == 0 and json.loads(nothing.stdout) == {
        "ok": True, "remote": "origin", "refs": [],
    }  # fmt: skip
    deletion = "(delete) " + "0" * 40 + " refs/heads/Bad " + "2" * 40 + "\n"
    assert mlopsctl(project, "check-push", "origin", input=deletion).returncode == 0


def test_switching_modes_and_reinstalling_keeps_each_hook_running_once(project: Path) -> None:
    hooks = project / ".git" / "hooks"
    foreign = hooks / "commit-msg"
    foreign.write_text('#!/bin/sh\necho foreign >> "$(git rev-parse --git-dir)/foreign.log"\n')
    foreign.chmod(0o755)
    assert mlopsctl(project, "hooks", "install", "--mode", "native", "--force").returncode == 0
    assert (hooks / "commit-msg.pre-mlopsctl").is_file()
    for _ in range(2):
        out = mlopsctl(project, "hooks", "install", "--mode", "pre-commit")
        assert out.returncode == 0, out.stderr
    assert not (hooks / "commit-msg.pre-mlopsctl").exists()
    assert "echo foreign" in (hooks / "commit-msg.legacy").read_text()
    assert not (hooks / "pre-push.legacy").exists()  # ours is never kept as pre-commit's legacy
    assert "pre-commit" in (hooks / "pre-push.pre-mlopsctl").read_text()
    assert "check-push" in (hooks / "pre-push").read_text()
    git(project, "add", "-A")
    assert bare_git(project, "commit", "-q", "-m", "bad message").returncode != 0
    assert bare_git(project, "commit", "-q", "-m", "feat: initial layout").returncode == 0
    assert (project / ".git/foreign.log").read_text() == "foreign\nforeign\n"
    pushed = bare_git(project, "push", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    assert (pushed.stdout + pushed.stderr).count("main: ok (main branch") == 1
