"""Conventional Commits 1.0.0 messages, checked with errors that point at the fault.

Import-light: ``check-commit`` runs in every commit-msg hook.
"""

from __future__ import annotations

import re

from mlopsctl.core.conventions import patterns
from mlopsctl.errors import BadInput, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from mlopsctl.core.git.repo import Commit

# core.commentChar=auto: git comments its template with the first of these that starts no
# line of the message; its own template lines tell which one it took.
AUTO_COMMENT_CHARS = "#;@!$%^&|:"
# Patterns are kept as text and compiled on first use (``re`` caches them): a hook that
# checks one plain message compiles two, not ten.
_TEMPLATE_LINE = r"(\S) (Please enter the commit message|-+ >8 -+$)"
# type, scope (with parentheses), "!", separator, description
HEADER = r"^(?P<type>[A-Za-z]+)(?P<scope>\([^()]*\))?(?P<bang>!)?(?P<sep>:\s*)(?P<desc>.*)$"
PASS_THROUGH = (
    r"Merge (branch|remote-tracking branch|pull request|tag|commit|[0-9a-f]{7,40}) ",
    r"Merge branch '",
    r'Revert "',
    r"(fixup|squash|amend)! ",
)
SYNTHETIC_MERGE = r"Merge [0-9a-f]{40} into [0-9a-f]{40}"
FOOTER = r"(?P<token>BREAKING[ -]CHANGE|[A-Za-z][A-Za-z0-9-]*)(?::\s| #)(?P<value>.*)"
SYNONYMS = {
    "add": "feat", "added": "feat", "adds": "feat", "feature": "feat", "implement": "feat",
    "new": "feat", "fixed": "fix", "fixes": "fix", "bugfix": "fix", "hotfix": "fix",
    "bug": "fix", "repair": "fix", "doc": "docs", "documentation": "docs", "readme": "docs",
    "tests": "test", "testing": "test", "refactoring": "refactor", "cleanup": "refactor",
    "update": "chore", "bump": "chore", "upgrade": "chore", "format": "style",
    "formatting": "style", "lint": "style", "performance": "perf", "optimize": "perf",
}  # fmt: skip


class Finding:
    """What is wrong with a message, and the message as it should probably read."""

    __slots__ = ("error", "suggestion")

    def __init__(self, error: str, suggestion: str | None = None) -> None:
        self.error = error
        self.suggestion = suggestion


def comment_char_of(message: str, configured: str | None) -> str:
    """The comment string git used in ``message``, from core.commentChar (or commentString)."""
    if configured and configured != "auto":
        return configured
    if configured == "auto":
        for line in message.splitlines():
            found = re.match(_TEMPLATE_LINE, line)
            if found and found.group(1) in AUTO_COMMENT_CHARS:
                return found.group(1)
    return "#"


MAX_MESSAGE = 1024 * 1024  # bytes: git's own commit messages are a few kilobytes


def read_message_file(path: str) -> str:
    """The text of a commit-msg hook's file (bad bytes replaced), read up to
    :data:`MAX_MESSAGE` (``/dev/zero`` is refused, not read for ever); unreadable or larger is
    bad input."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_MESSAGE + 1)
    except OSError as exc:
        raise BadInput(
            f"Cannot read the message file '{one_line(path)}' ({exc.strerror}); pass the file "
            "git gives the commit-msg hook, or --message TEXT."
        ) from None
    if len(data) > MAX_MESSAGE:
        raise BadInput(
            f"The message file '{one_line(path)}' is larger than {MAX_MESSAGE // 1024} KiB; a "
            "commit message is a subject and a few paragraphs: pass git's message file."
        )
    return data.decode("utf-8", "replace")


def clean_hook_message(text: str) -> str:
    """A hook's message without git's comments, in the comment character git used.

    The configuration is consulted only when a line could be a comment at all.
    """
    starts = {line[:1] for line in text.splitlines() if line}
    if not starts & set(AUTO_COMMENT_CHARS):
        return clean(text)
    from mlopsctl.core.git import repo

    return clean(text, comment_char_of(text, repo.comment_setting()))


def clean(message: str, comment_char: str = "#") -> str:
    """Drop git's comment lines and everything from the scissors line on."""
    scissors_start = f"{comment_char} -"
    lines = []
    for line in message.splitlines():
        if line.startswith(scissors_start) and _is_scissors(line[len(comment_char) :]):
            break
        if line.startswith(comment_char):
            continue
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    while lines and not lines[0]:
        lines.pop(0)
    return "\n".join(lines)


def check_commits(
    commits: Sequence[Commit], types: Sequence[str], scope_pattern: str | None, on_github: bool
) -> tuple[list[tuple[Commit, Finding]], list[str]]:
    """The commits of a range that break the rules, and the synthetic merges skipped.

    On GitHub Actions a pull request is checked out as a merge commit GitHub made itself
    ("Merge <sha> into <sha>"); nobody wrote that message, so it is not judged.
    """
    failures: list[tuple[Commit, Finding]] = []
    skipped: list[str] = []
    for c in commits:
        subject = c.message.split("\n", 1)[0]
        if on_github and len(c.parents) > 1 and re.fullmatch(SYNTHETIC_MERGE, subject):
            skipped.append(c.sha)
            continue
        finding = check(clean(c.message), types, scope_pattern)
        if finding is not None:
            failures.append((c, finding))
    return failures, skipped


def _is_scissors(rest: str) -> bool:
    """`` ------------------------ >8 ------------------------`` after the comment string."""
    left, sep, right = rest.partition(" >8 ")
    return bool(sep) and set(left.strip()) == {"-"} and set(right) == {"-"} and left[:1] == " "


def is_pass_through(header: str) -> bool:
    """Merge, revert, fixup!, squash! and amend! commits are accepted as they are."""
    if not header.startswith(("Merge ", "Revert ", "fixup! ", "squash! ", "amend! ")):
        return False
    return any(re.match(p, header) for p in PASS_THROUGH)


def check(message: str, types: Sequence[str], scope_pattern: str | None = None) -> Finding | None:
    """None when ``message`` (already cleaned) follows the rules, else what is wrong."""
    if not message.strip():
        return Finding("the commit message is empty; write `<type>: <description>`")
    lines = message.split("\n")
    header = lines[0]
    if is_pass_through(header):
        return None
    finding = _check_header(header, types, scope_pattern)
    if finding is not None:
        return finding
    if len(lines) > 1 and lines[1].strip():
        return Finding(
            "the body must be separated from the subject by a blank line",
            "\n".join([header, "", *lines[1:]]),
        )
    return _check_footers(lines[2:])


def _suggest_type(word: str, types: Sequence[str]) -> str | None:
    low = word.lower()
    if low in types:
        return low
    if SYNONYMS.get(low) in types:
        return SYNONYMS[low]
    import difflib

    close = difflib.get_close_matches(low, types, n=1, cutoff=0.6)
    return close[0] if close else None


def _check_header(header: str, types: Sequence[str], scope_pattern: str | None) -> Finding | None:
    allowed = ", ".join(types)
    bang_first = re.match(r"^([A-Za-z]+)!(\([^()]*\))(:.*)$", header)
    if bang_first:
        fixed = f"{bang_first.group(1)}{bang_first.group(2)}!{bang_first.group(3)}"
        return Finding("the '!' goes after the scope, right before the ':'", fixed)
    spaced = re.match(r"^([A-Za-z]+(?:\([^()]*\))?!?)\s+:\s*(.*)$", header)
    if spaced:
        return Finding("no space before the ':'", f"{spaced.group(1)}: {spaced.group(2)}")
    m = re.match(HEADER, header)
    if not m:
        no_colon = re.match(r"^(([a-z]+)(?:\([^()]*\))?!?) +(\S.*)$", header)
        if no_colon and no_colon.group(2) in types:
            return Finding(
                "missing ':' after the type", f"{no_colon.group(1)}: {no_colon.group(3)}"
            )
        word = header.partition(" ")[0]
        kind = _suggest_type(word.rstrip(":"), types) or "chore"
        return Finding(
            f"the subject must start with a type and ': ', e.g. `feat: add x` (types: {allowed})",
            f"{kind}: {_lower_first(header)}",
        )
    kind, scope, bang, sep, desc = (m.group(g) for g in ("type", "scope", "bang", "sep", "desc"))
    head = f"{kind}{scope or ''}{bang or ''}"
    if kind not in types:
        fix = _suggest_type(kind, types)
        return Finding(
            f"type '{kind}' is not allowed; use one of {allowed}",
            f"{fix}{scope or ''}{bang or ''}: {desc.strip()}" if fix else None,
        )
    if scope is not None:
        inner = scope[1:-1]
        if not inner.strip():
            return Finding("the scope is empty; drop the parentheses or name a scope",
                           f"{kind}{bang or ''}: {desc.strip()}")  # fmt: skip
        if scope_pattern and not patterns.fullmatch(scope_pattern, inner, "commits.scope_pattern"):
            return Finding(f"scope '{inner}' does not match the pattern {scope_pattern}")
    if sep == ":":
        if not desc.strip():
            return Finding("the description after ': ' is empty; say what the commit does")
        return Finding("missing space after ':'", f"{head}: {desc}")
    if sep != ": ":
        return Finding("exactly one space goes after ':'", f"{head}: {desc.strip()}")
    if not desc.strip():
        return Finding("the description after ': ' is empty; say what the commit does")
    if desc != desc.strip():
        return Finding("the description has trailing spaces", f"{head}: {desc.strip()}")
    return None


def _lower_first(text: str) -> str:
    """``Update readme`` -> ``update readme``; acronyms such as ``WIP`` stay as they are."""
    return text if text[:2].isupper() else text[:1].lower() + text[1:]


def _footer_block(body: list[str]) -> list[str]:
    """The trailing paragraph of the body when every line of it reads as a footer."""
    paragraphs: list[list[str]] = [[]]
    for line in body:
        if line.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    last = paragraphs[-1] if paragraphs[-1] else (paragraphs[-2] if len(paragraphs) > 1 else [])
    starts = [re.fullmatch(FOOTER, line) is not None or _bad_breaking(line) for line in last]
    return last if last and starts[0] else []


def _bad_breaking(line: str) -> bool:
    return re.match(r"^breaking[ -]change\s*:", line, re.IGNORECASE) is not None


def _check_footers(body: list[str]) -> Finding | None:
    for line in body:
        if _bad_breaking(line) and not line.startswith(("BREAKING CHANGE: ", "BREAKING-CHANGE: ")):
            rest = line.split(":", 1)[1].strip()
            return Finding(
                "a breaking-change footer is written `BREAKING CHANGE: <description>` "
                "(upper case, one space after ':')",
                f"BREAKING CHANGE: {rest}" if rest else None,
            )
    return None
