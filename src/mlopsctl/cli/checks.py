"""``check-names``, ``check-branch``, ``check-commit``, ``check-push``: what the hooks run.

They load neither Typer, Rich, Jinja2 nor the Docker SDK; the work is in
:mod:`mlopsctl.core.conventions`, this module only prints.
"""

from __future__ import annotations

from mlopsctl.cli.plain import annotate, echo, emit_json
from mlopsctl.errors import one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from mlopsctl.cli.commands import CheckBranch, CheckCommit, CheckNames, CheckPush
    from mlopsctl.core.conventions import push
    from mlopsctl.core.conventions.commit import Finding


def _fmt(json_: bool, fmt: str) -> str:
    return "json" if json_ else fmt


def check_names(o: CheckNames) -> int:
    import os

    from mlopsctl.core import config
    from mlopsctl.core.conventions import naming

    fmt = _fmt(o.json, o.format)
    report = naming.check_tree(config.load(), o.paths, os.getcwd())
    if fmt == "json":
        emit_json(report.as_dict())
    else:
        for v in report.violations:
            if fmt == "github":
                echo(annotate("error", f"expected {v.expected}", v.path, f"check-names: {v.rule}"))
            else:
                hint = f"; did you mean {v.suggestion}?" if v.suggestion else ""
                echo(f"{v.path}: {v.rule}: expected {v.expected}{hint}")
        if fmt == "text" and not report.violations:
            echo(f"check-names: ok ({report.checked} file{'s' if report.checked != 1 else ''})")
        if fmt == "text" and report.violations:
            n = len(report.violations)
            echo(
                f"{n} file name{'s' if n > 1 else ''} break the naming rules "
                f"(checked {report.checked}).",
                err=True,
            )
    return 1 if report.violations else 0


def check_branch(o: CheckBranch) -> int:
    import os

    from mlopsctl.core import config
    from mlopsctl.core.conventions import branch
    from mlopsctl.core.git import repo

    fmt = _fmt(o.json, o.format)
    source = branch.resolve(o.branch, os.environ, repo.head_branch)
    if source.name is None:
        doc = {"ok": not o.strict, "skipped": source.skipped, "source": source.label}
        if fmt == "json":
            emit_json(doc)
        elif fmt == "github" and o.strict:
            echo(annotate("error", f"{source.skipped} (--strict)", title="check-branch"))
        else:
            echo(
                f"check-branch: skipped: {source.skipped}"
                + (" (--strict: failing)" if o.strict else "")
            )
        return 1 if o.strict else 0
    verdict = branch.Rules(config.load()).check(source.name)
    shown = one_line(verdict.name)
    if fmt == "json":
        emit_json(
            {
                "ok": verdict.ok,
                "branch": verdict.name,
                "source": source.label,
                "kind": verdict.kind,
                "reason": verdict.reason,
                "suggestion": verdict.suggestion,
            }
        )
    elif verdict.ok:
        echo(f"{shown}: ok ({verdict.kind} branch, from {source.label})")
    else:
        hint = f"; did you mean {verdict.suggestion}?" if verdict.suggestion else ""
        text = (
            f"branch '{shown}' (from {source.label}) breaks the branch rules: "
            f"{verdict.reason}{hint}"
        )
        echo(annotate("error", text, title="check-branch") if fmt == "github" else text)
    return 0 if verdict.ok else 1


def _failure(sha: str | None, subject: str, finding: Finding) -> dict[str, object]:
    return {
        "commit": sha,
        "subject": subject,
        "error": _masked(finding.error),
        "suggestion": _masked(finding.suggestion) if finding.suggestion else finding.suggestion,
    }


def _hint(finding: Finding) -> str:
    """The suggestion on the same line; a message of several lines keeps them, written as
    ``\\n`` (so a missing blank line before the body is not 'fixed' by dropping the body)."""
    if not finding.suggestion:
        return ""
    text = one_line(finding.suggestion.rstrip("\n"))
    if len(text) > 120:
        text = text[:117] + "..."
    return f"; did you mean `{text}`?"


def check_commit(o: CheckCommit) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.conventions import commit
    from mlopsctl.errors import BadInput

    fmt = _fmt(o.json, o.format)
    given = [x for x in (o.msg_file, o.message, o.range) if x is not None]
    if len(given) != 1:
        raise BadInput(
            "check-commit takes one of: a message file (the commit-msg hook's argument), "
            "--message TEXT or --range A..B."
        )
    section = config.load().section("commits")
    types, scope_pattern = list(section["types"]), section["scope_pattern"]
    if o.range is not None:
        return _check_range(o.range, types, scope_pattern, fmt)
    if o.msg_file is not None:
        text = commit.read_message_file(o.msg_file)
        cleaned = commit.clean_hook_message(text)
    else:
        cleaned = commit.clean(o.message or "")
    finding = commit.check(cleaned, types, scope_pattern)
    subject = _masked(one_line(cleaned.split("\n", 1)[0]))
    if fmt == "json":
        emit_json(
            {
                "ok": finding is None,
                "checked": 1,
                "failures": [_failure(None, subject, finding)] if finding else [],
            }
        )
    elif finding is None:
        if fmt == "text":
            echo(f"commit message: ok ({subject})")
    else:
        text = _masked(f"commit message '{subject}': {finding.error}{_hint(finding)}")
        echo(annotate("error", text, title="check-commit") if fmt == "github" else text)
    return 0 if finding is None else 1


def _commits(n: int) -> str:
    return f"{n} commit" if n == 1 else f"{n} commits"


def _masked(text: str) -> str:
    """A message as printed: the secrets pasted into it (a URL password, a token) masked."""
    from mlopsctl.core.secrets import mask_text

    return mask_text(text)


def _check_range(spec: str, types: list[str], scope_pattern: str | None, fmt: str) -> int:
    import os

    from mlopsctl.core.conventions import commit
    from mlopsctl.core.git import repo

    commits = repo.commits_in_range(spec)
    on_github = bool(os.environ.get("GITHUB_ACTIONS"))
    found, skipped = commit.check_commits(commits, types, scope_pattern, on_github)
    failures = [
        _failure(c.sha, _masked(one_line(c.message.split("\n", 1)[0])), f) for c, f in found
    ]
    checked = len(commits) - len(skipped)
    if fmt == "json":
        emit_json(
            {
                "ok": not failures,
                "range": spec,
                "checked": checked,
                "skipped": skipped,
                "failures": failures,
            }
        )
        return 1 if failures else 0
    for (c, finding), f in zip(found, failures, strict=True):
        text = _masked(f"{c.sha[:10]} '{f['subject']}': {finding.error}{_hint(finding)}")
        echo(annotate("error", text, title="check-commit") if fmt == "github" else text)
    if fmt == "text":
        note = (
            f" ({len(skipped)} synthetic merge{'s' if len(skipped) != 1 else ''} skipped)"
            if skipped
            else ""
        )
        if failures:
            echo(
                f"{len(failures)} of {_commits(checked)} in {spec} break "
                f"Conventional Commits{note}."
            )
        else:
            echo(
                f"{_commits(checked)} in {spec} follow{'s' if checked == 1 else ''} "
                f"Conventional Commits{note}."
            )
    return 1 if failures else 0


def check_push(o: CheckPush) -> int:
    import sys

    from mlopsctl.core import config
    from mlopsctl.core.conventions import branch, push
    from mlopsctl.errors import BadInput

    fmt = _fmt(o.json, o.format)
    if sys.stdin is None or sys.stdin.isatty():
        raise BadInput(
            "check-push reads git's pre-push lines on standard input; it is the pre-push hook "
            "(mlopsctl hooks install), not a command to type."
        )
    # git writes ref names as bytes; a name that is not UTF-8 must still be named, not crash
    updates = push.parse(sys.stdin.buffer.read().decode("utf-8", "surrogateescape"))
    cfg = config.load()
    section = cfg.section("commits")
    reports = push.check(
        updates,
        o.remote,
        branch.Rules(cfg),
        list(section["types"]),
        section["scope_pattern"],
    )
    ok = all(r.ok for r in reports)
    if fmt == "json":
        emit_json(
            {
                "ok": ok,
                "remote": o.remote,
                "refs": [
                    {
                        "ok": r.ok,
                        "remote_ref": r.update.remote_ref,
                        "local_ref": r.update.local_ref,
                        "branch": r.branch,
                        "branch_ok": r.verdict.ok,
                        "reason": r.verdict.reason,
                        "suggestion": r.verdict.suggestion,
                        "checked": len(r.commits),
                        "failures": [
                            _failure(c.sha, _masked(one_line(c.message.split("\n", 1)[0])), f)
                            for c, f in r.failures
                        ],
                    }
                    for r in reports
                ],
            }
        )
        return 0 if ok else 1
    for r in reports:
        _print_ref(r, o.remote, fmt)
    return 0 if ok else 1


def _print_ref(r: push.RefReport, remote: str, fmt: str) -> None:
    shown, remote_shown = one_line(r.branch), one_line(remote)

    def say(text: str) -> None:
        echo(annotate("error", text, title="check-push") if fmt == "github" else text)

    if not r.verdict.ok:
        hint = (
            f"; push it under a valid name: git push {remote_shown} "
            f"{one_line(r.update.local_ref.removeprefix('refs/heads/'))}:{r.verdict.suggestion}"
            if r.verdict.suggestion and "<" not in r.verdict.suggestion
            else ""
        )
        say(
            f"push to '{shown}' on {remote_shown} breaks the branch rules: {r.verdict.reason}{hint}"
        )
    for c, finding in r.failures:
        subject = one_line(c.message.split("\n", 1)[0])
        say(f"{c.sha[:10]} '{subject}' (pushed to {shown}): {finding.error}{_hint(finding)}")
    if r.failures:
        n = len(r.failures)
        say(
            f"{n} of {_commits(len(r.commits))} pushed to '{shown}' break Conventional Commits; "
            "reword them (git rebase -i, reword) and push again."
        )
    if r.ok and fmt == "text":
        n = len(r.commits)
        follow = "new commit follows" if n == 1 else "new commits follow"
        echo(f"{shown}: ok ({r.verdict.kind} branch, {n} {follow} Conventional Commits)")
