"""Reading git: small subprocess calls, and the two reads the hooks need made without one.

``check-branch`` (the current branch) and ``check-commit`` (whether a comment character is
configured) run on every commit, so they read ``.git/HEAD`` and the config files' text
directly in the common case, and ask git itself whenever the case is not plain (a reftable
repository, an include directive, a configuration variable in the environment).
"""

from __future__ import annotations

import os

from mlopsctl.errors import BadInput, Missing, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path


def _git(args: list[str], cwd: Path | None = None, check: bool = False) -> tuple[int, str, str]:
    from mlopsctl.core import proc

    result = proc.run(["git", *args], cwd=cwd, check=check)
    return result.returncode, result.stdout, result.stderr


def toplevel(cwd: Path | None = None) -> Path | None:
    from pathlib import Path

    code, out, _ = _git(["rev-parse", "--show-toplevel"], cwd)
    return Path(out.strip()) if code == 0 else None


def git_dir(start: str | None = None) -> str | None:
    """The git folder of the repository around ``start`` (``$GIT_DIR`` first); None if none."""
    if os.environ.get("GIT_DIR"):
        return os.path.abspath(os.environ["GIT_DIR"])
    here = os.path.abspath(start or os.getcwd())
    while True:
        dot = os.path.join(here, ".git")
        if os.path.isdir(dot):
            return dot
        if os.path.isfile(dot):  # a worktree or submodule: "gitdir: <path>"
            try:
                with open(dot, encoding="utf-8") as fh:
                    line = fh.readline().strip()
            except (OSError, UnicodeError):
                return None
            if line.startswith("gitdir: "):
                return os.path.normpath(os.path.join(here, line[len("gitdir: ") :]))
            return None
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def head_branch(start: str | None = None) -> str | None:
    """The current branch (git's short symbolic HEAD); None when HEAD is detached.

    Read from ``HEAD`` itself; git is asked only where that file does not say it plainly.
    """
    folder = git_dir(start)
    if folder is not None:
        try:
            with open(os.path.join(folder, "HEAD"), encoding="utf-8") as fh:
                head = fh.read().strip()
        except (OSError, UnicodeError):
            head = ""
        if head.startswith("ref: refs/heads/") and head != "ref: refs/heads/.invalid":
            return head[len("ref: refs/heads/") :]
        if len(head) in (40, 64) and all(c in "0123456789abcdef" for c in head):
            return None
    code, out, _ = _git(["symbolic-ref", "--quiet", "--short", "HEAD"], start)  # type: ignore[arg-type]
    if code == 0:
        return out.strip() or None
    if code == 1:
        return None
    raise Missing(
        "No git repository here and no branch given; run inside a repository "
        "or pass the name: mlopsctl check-branch NAME."
    )


def _config_files() -> list[str]:
    home = os.path.expanduser("~")
    xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    files = ["/etc/gitconfig", os.path.join(xdg, "git", "config"), os.path.join(home, ".gitconfig")]
    for folder in os.environ.get("PATH", "").split(os.pathsep):  # a git of another prefix
        exe = os.path.join(folder or ".", "git")
        if os.path.isfile(exe):
            prefix = os.path.dirname(os.path.dirname(os.path.realpath(exe)))
            files.append(os.path.join(prefix, "etc", "gitconfig"))
            break
    if os.environ.get("GIT_CONFIG_GLOBAL"):
        files.append(os.environ["GIT_CONFIG_GLOBAL"])
    gdir = git_dir()
    if gdir is not None:
        files += [os.path.join(gdir, "config"), os.path.join(gdir, "config.worktree")]
        common = os.path.join(gdir, "commondir")
        if os.path.isfile(common):
            with open(common, encoding="utf-8", errors="replace") as fh:
                base = os.path.join(gdir, fh.read().strip())
            files.append(os.path.join(base, "config"))
    return files


def may_set_comment() -> bool:
    """False only when no configuration git reads can set core.commentChar/commentString."""
    if any(k.startswith("GIT_CONFIG") and k != "GIT_CONFIG_GLOBAL" for k in os.environ):
        return True  # -c options or GIT_CONFIG_COUNT: only git can tell
    if git_dir() is None:
        return True
    for path in _config_files():
        try:
            with open(path, "rb") as fh:
                text = fh.read().lower()
        except FileNotFoundError:
            continue
        except OSError:
            return True
        if b"comment" in text or b"include" in text:
            return True
    return False


def comment_setting(cwd: Path | None = None) -> str | None:
    """core.commentChar (or core.commentString, git 2.45+) as git reads it; None when unset."""
    if cwd is None and not may_set_comment():
        return None
    code, out, _ = _git(["config", "--get-regexp", r"^core\.comment(char|string)$"], cwd)
    values = [line.split(" ", 1)[1] for line in out.splitlines() if " " in line]
    return values[-1] if code == 0 and values else None


def listed_files(root: Path) -> list[str] | None:
    """Files git tracks or would track under ``root``, relative to it; None outside git."""
    code, out, _ = _git(["ls-files", "-z", "--cached", "--others", "--exclude-standard"], root)
    if code != 0:
        return None
    return sorted({p for p in out.split("\0") if p and (root / p).exists()})


def walk_files(root: Path) -> list[str]:
    """Every file under ``root`` outside hidden folders, for trees that are not in git."""
    from pathlib import Path

    out: list[str] = []
    skip = {"__pycache__", "node_modules", "venv", ".venv"}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in skip]
        base = Path(folder).relative_to(root)
        out.extend((base / f).as_posix() for f in files)
    return sorted(out)


def tracked_env_files(root: Path) -> list[str]:
    """Every ``.env`` file git tracks anywhere under ``root`` (templates and examples aside)."""
    code, out, _ = _git(["ls-files", "-z", "--", ":(glob)**/.env", ":(glob)**/.env.*"], root)
    if code != 0:
        return []
    keep = (".env.template", ".env.example", ".env.sample", ".env.dist")
    return sorted(p for p in out.split("\0") if p and not p.endswith(keep))


def is_tracked(root: Path, name: str) -> bool:
    """Whether git tracks the file ``name`` (relative to ``root``)."""
    code, _, _ = _git(["ls-files", "--error-unmatch", "--", name], cwd=root)
    return code == 0


def status_lines(root: Path) -> list[str]:
    """``git status --porcelain``: one line per changed or untracked path."""
    code, out, _ = _git(["status", "--porcelain"], root)
    return out.splitlines() if code == 0 else []


def init(root: Path, branch: str = "main") -> None:
    from mlopsctl.core import proc

    proc.run(["git", "init", "--quiet", "--initial-branch", branch], cwd=root)


class Commit:
    __slots__ = ("message", "parents", "sha")

    def __init__(self, sha: str, parents: list[str], message: str) -> None:
        self.sha = sha
        self.parents = parents
        self.message = message


LOG_FORMAT = "--format=%H%x1f%P%x1f%B%x1e"  # sha, parents, message; records end with \x1e


def commits_in_range(spec: str, cwd: Path | None = None) -> list[Commit]:
    """Every commit in ``A..B`` (or ``A...B``), oldest first, read with one ``git log``.

    A range that does not resolve is bad input, except in a shallow clone, where the missing
    history is the cause and the check must not pass silently.
    """
    if (
        ".." not in spec
        or spec.startswith(("..", "-"))
        or spec.endswith("..")
        or not spec.isprintable()
        or any(side.startswith("-") for side in spec.replace("...", "..").split(".."))
    ):
        raise BadInput(
            f"--range '{one_line(spec)}' is not A..B of two revisions; "
            "e.g. --range origin/main..HEAD."
        )
    # --end-of-options: whatever the range says, git never takes it as an option
    code, out, err = _git(["log", "--reverse", LOG_FORMAT, "--end-of-options", spec, "--"], cwd)
    if code != 0:
        shallow = _git(["rev-parse", "--is-shallow-repository"], cwd)[1].strip() == "true"
        if shallow:
            raise Missing(
                f"the clone is shallow and the range {spec} cannot be resolved, so its commits "
                "cannot be checked; fetch the history (git fetch --unshallow, or "
                "actions/checkout with fetch-depth: 0)."
            )
        if toplevel(cwd) is None:
            raise Missing("No git repository here; run check-commit --range inside one.")
        detail = err.strip().splitlines()[0] if err.strip() else "git log failed"
        raise BadInput(f"--range '{spec}' does not resolve ({detail}); name existing revisions.")
    if _git(["rev-parse", "--is-shallow-repository"], cwd)[1].strip() == "true":
        left = spec.split("...")[0] if "..." in spec else spec.split("..")[0]
        base = _git(["merge-base", left, spec.split("..")[-1].lstrip(".") or "HEAD"], cwd)
        if base[0] != 0:
            raise Missing(
                f"the clone is shallow and {spec} reaches past its history, so some commits "
                "cannot be checked; fetch the history (git fetch --unshallow, or "
                "actions/checkout with fetch-depth: 0)."
            )
    return _parse_log(out)


def _parse_log(out: str) -> list[Commit]:
    commits = []
    for record in out.split("\x1e"):
        record = record.strip("\n")
        if not record:
            continue
        sha, parents, message = record.split("\x1f", 2)
        commits.append(Commit(sha, parents.split(), message.strip("\n")))
    return commits


def is_commit(sha: str, cwd: Path | None = None) -> bool:
    """Whether ``sha`` names a commit this repository has."""
    return _git(["cat-file", "-e", "--end-of-options", f"{sha}^{{commit}}"], cwd)[0] == 0


def commits_pushed(
    local_sha: str, remote_sha: str | None, remote: str, cwd: Path | None = None
) -> list[Commit]:
    """The commits a push of ``local_sha`` sends, oldest first.

    With the remote's current commit known here, they are ``remote_sha..local_sha``;
    otherwise (a new branch, or a remote ahead of this clone) every commit of ``local_sha``
    that no remote-tracking branch of ``remote`` has yet (all of them when ``remote`` is a
    URL with no remote-tracking branches).
    """
    if remote_sha is not None and is_commit(remote_sha, cwd):
        revs = ["--end-of-options", f"{remote_sha}..{local_sha}"]
    else:  # --not twice: only the remote-tracking branches are excluded
        revs = ["--not", f"--remotes={remote}", "--not", "--end-of-options", local_sha]
    code, out, err = _git(["log", "--reverse", LOG_FORMAT, *revs, "--"], cwd)
    if code != 0:
        detail = err.strip().splitlines()[0] if err.strip() else "git log failed"
        raise BadInput(f"the pushed commit {local_sha} cannot be read ({detail}).")
    return _parse_log(out)
