"""The hook commands (check-names, check-branch, check-commit), import-light.

They run on every commit, so this module and what it imports load neither Typer, Rich,
Jinja2, GitPython nor the Docker SDK. ``mlopsctl.main`` sends hook invocations here directly;
the Typer commands of the same names call the same functions (for help and completion).
"""

from __future__ import annotations

import sys
from pathlib import Path

from mlopsctl.cli.fastargs import Parser
from mlopsctl.cli.report import annotate, emit_json

FORMATS = ("text", "json", "github")


def check_names(paths: list[str], fmt: str = "text") -> int:
    from mlopsctl.core import config, naming

    report = naming.check_tree(config.load(), paths, Path.cwd())
    if fmt == "json":
        emit_json(report.as_dict())
    else:
        for v in report.violations:
            if fmt == "github":
                print(annotate("error", f"expected {v.expected}", v.path, f"check-names: {v.rule}"))
            else:
                print(f"{v.path}: {v.rule}: expected {v.expected}")
        if fmt == "text" and report.violations:
            n = len(report.violations)
            print(
                f"{n} file name{'s' if n > 1 else ''} break the naming rules "
                f"(checked {report.checked}).",
                file=sys.stderr,
            )
    return 1 if report.violations else 0


def check_branch(name: str | None, strict: bool = False, fmt: str = "text") -> int:
    import os

    from mlopsctl.core import branch, config

    source = branch.resolve(name, os.environ, branch.git_head)
    if source.name is None:
        doc = {"ok": not strict, "skipped": source.skipped, "source": source.label}
        if fmt == "json":
            emit_json(doc)
        elif fmt == "github" and strict:
            print(annotate("error", f"{source.skipped} (--strict)", title="check-branch"))
        else:
            print(
                f"check-branch: skipped: {source.skipped}"
                + (" (--strict: failing)" if strict else "")
            )
        return 1 if strict else 0
    verdict = branch.Rules(config.load()).check(source.name)
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
        print(f"{verdict.name}: ok ({verdict.kind} branch, from {source.label})")
    else:
        hint = f"; did you mean {verdict.suggestion}?" if verdict.suggestion else ""
        text = (
            f"branch '{verdict.name}' (from {source.label}) breaks the branch rules: "
            f"{verdict.reason}{hint}"
        )
        print(annotate("error", text, title="check-branch") if fmt == "github" else text)
    return 0 if verdict.ok else 1


def check_commit(
    msg_file: str | None, message: str | None, spec: str | None, fmt: str = "text"
) -> int:
    from mlopsctl.core import commit, config
    from mlopsctl.errors import BadInput

    given = [x for x in (msg_file, message, spec) if x is not None]
    if len(given) != 1:
        raise BadInput(
            "check-commit takes one of: a message file (the commit-msg hook's argument), "
            "--message TEXT or --range A..B."
        )
    section = config.load().section("commits")
    types, scope_pattern = list(section["types"]), section["scope_pattern"]
    if spec is not None:
        return _check_range(spec, types, scope_pattern, fmt)
    if msg_file is not None:
        try:
            with open(msg_file, encoding="utf-8", errors="replace") as fh:
                text = fh.read()
        except OSError as exc:
            raise BadInput(f"Cannot read the message file {msg_file} ({exc.strerror}).") from None
    else:
        text = message or ""
    if msg_file is not None:  # a hook's file: comments in git's comment character
        from mlopsctl.core import gitio

        cleaned = commit.clean(text, commit.comment_char_of(text, gitio.comment_setting()))
    else:
        cleaned = commit.clean(text)
    finding = commit.check(cleaned, types, scope_pattern)
    subject = cleaned.split("\n", 1)[0]
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
            print(f"commit message: ok ({subject})")
    else:
        hint = (
            f"; did you mean `{finding.suggestion.splitlines()[0]}`?" if finding.suggestion else ""
        )
        text = f"commit message '{subject}': {finding.error}{hint}"
        print(annotate("error", text, title="check-commit") if fmt == "github" else text)
    return 0 if finding is None else 1


def _failure(sha: str | None, subject: str, finding: object) -> dict[str, object]:
    return {
        "commit": sha,
        "subject": subject,
        "error": getattr(finding, "error", None),
        "suggestion": getattr(finding, "suggestion", None),
    }


def _check_range(spec: str, types: list[str], scope_pattern: str | None, fmt: str) -> int:
    import os
    import re

    from mlopsctl.core import commit, gitio

    commits = gitio.commits_in_range(spec)
    failures, skipped = [], []
    synthetic = re.compile(r"^Merge [0-9a-f]{40} into [0-9a-f]{40}$")
    for c in commits:
        subject = c.message.split("\n", 1)[0]
        if len(c.parents) > 1 and synthetic.match(subject) and os.environ.get("GITHUB_ACTIONS"):
            skipped.append(c.sha)
            continue
        finding = commit.check(commit.clean(c.message), types, scope_pattern)
        if finding is not None:
            failures.append(_failure(c.sha, subject, finding))
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
    else:
        for f in failures:
            sug = f["suggestion"]
            hint = f"; did you mean `{str(sug).splitlines()[0]}`?" if sug else ""
            text = f"{str(f['commit'])[:10]} '{f['subject']}': {f['error']}{hint}"
            print(annotate("error", text, title="check-commit") if fmt == "github" else text)
        if fmt == "text":
            note = f" ({len(skipped)} synthetic merge skipped)" if skipped else ""
            if failures:
                bad = len(failures)
                print(f"{bad} of {checked} commits in {spec} break Conventional Commits{note}.")
            else:
                print(f"{checked} commits in {spec} follow Conventional Commits{note}.")
    return 1 if failures else 0


def parser(command: str) -> Parser:
    p = Parser(command)
    p.add_argument("--json", action="store_true")
    p.add_argument("--format", choices=FORMATS, default="text")
    if command == "check-names":
        p.add_argument("paths", nargs="*")
    elif command == "check-branch":
        p.add_argument("name", nargs="?")
        p.add_argument("--strict", action="store_true")
    else:
        p.add_argument("msg_file", nargs="?")
        p.add_argument("--message", "-m")
        p.add_argument("--range", dest="spec")
    return p


def main(args: list[str]) -> int:
    """Run one hook command from raw arguments (no Typer)."""
    command = args[0]
    ns = parser(command).parse_args(args[1:])
    fmt = "json" if ns.json else ns.format
    if command == "check-names":
        return check_names(ns.paths, fmt)
    if command == "check-branch":
        return check_branch(ns.name, ns.strict, fmt)
    return check_commit(ns.msg_file, ns.message, ns.spec, fmt)
