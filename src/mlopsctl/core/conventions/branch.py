"""Branch rules (``conventions.md`` §5) and where the branch name comes from.

Import-light: ``check-branch`` runs on every commit and push.
"""

from __future__ import annotations

import re

from mlopsctl.core.conventions import patterns
from mlopsctl.errors import BadInput, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from mlopsctl.core.config import Config

MAX_NAME = 255  # git refuses longer ref names on most file systems

DESC = r"[a-z0-9]+(?:-[a-z0-9]+)*"
ISSUE = r"(?:[0-9]+|[A-Z][A-Z0-9]*-[0-9]+)"
SEMVER = (
    r"v?(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?"
)
PREFIXES = {
    "feature": "feature",
    "feat": "feature",
    "features": "feature",
    "experiment": "experiment",
    "experiments": "experiment",
    "exp": "experiment",
    "bugfix": "bugfix",
    "bug": "bugfix",
    "fix": "bugfix",
    "hotfix": "hotfix",
    "hot": "hotfix",
    "docs": "docs",
    "doc": "docs",
    "documentation": "docs",
    "release": "release",
    "releases": "release",
}
# (source label, environment variable), in the order they are consulted after the argument.
ENV_SOURCES = (
    ("pre-push, remote ref", "PRE_COMMIT_REMOTE_BRANCH"),  # what the push creates there
    ("pre-push", "PRE_COMMIT_LOCAL_BRANCH"),
    ("GitHub pull request", "GITHUB_HEAD_REF"),
    ("GitLab merge request", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME"),
    ("GitHub", "GITHUB_REF_NAME"),
    ("GitLab", "CI_COMMIT_REF_NAME"),
    ("GitLab", "CI_COMMIT_BRANCH"),
    ("Jenkins", "BRANCH_NAME"),
    ("Buildkite", "BUILDKITE_BRANCH"),
)


class Verdict:
    """The outcome of checking one branch name."""

    __slots__ = ("kind", "name", "reason", "suggestion")

    def __init__(
        self, name: str, kind: str | None, reason: str | None = None, suggestion: str | None = None
    ) -> None:
        self.name = name
        self.kind = kind
        self.reason = reason
        self.suggestion = suggestion

    @property
    def ok(self) -> bool:
        return self.reason is None


class Rules:
    def __init__(self, config: Config) -> None:
        section = config.section("branches")
        self.kinds: list[str] = list(section["kinds"])
        self.extra: list[str] = list(section["extra"])
        self.stages = sorted(config.stages)
        stage = "(?:" + "|".join(str(n) for n in self.stages) + ")"
        shapes = {
            "main": r"main",
            "develop": r"develop",
            "feature": rf"feature/stage{stage}-{DESC}",
            "ticket": rf"feature/[A-Z][A-Z0-9]*-[0-9]+-{DESC}",
            "experiment": rf"experiment/{DESC}",
            "bugfix": rf"bugfix/{ISSUE}-{DESC}",
            "hotfix": rf"hotfix/{ISSUE}-{DESC}",
            "docs": rf"docs/{DESC}",
            "release": rf"release/{SEMVER}",
        }
        self.shapes = {k: shapes[k] for k in self.kinds}
        self._compiled: dict[str, re.Pattern[str]] = {}

    def _matches(self, kind: str, name: str) -> bool:
        """Whether ``name`` is a branch of ``kind``; a pattern compiles only when its
        literal prefix fits (the hooks' start-up pays for one or two, not nine)."""
        shape = self.shapes[kind]
        head, slash, _ = shape.partition("/")
        if not slash:
            return name == shape
        if not name.startswith(head + "/"):
            return False
        if kind not in self._compiled:
            self._compiled[kind] = re.compile(shape)
        return self._compiled[kind].fullmatch(name) is not None

    def check(self, name: str) -> Verdict:
        if len(name.encode("utf-8", "surrogateescape")) > MAX_NAME:
            raise BadInput(
                f"branch name '{one_line(name[:40])}...' is longer than {MAX_NAME} bytes; "
                "use a shorter name."
            )
        for kind in self.shapes:
            if self._matches(kind, name):
                return Verdict(name, kind)
        for i, extra in enumerate(self.extra):
            if patterns.fullmatch(extra, name, f"branches.extra[{i}]"):
                return Verdict(name, "extra")
        reason, suggestion = self._explain(name)
        if suggestion is not None and "<N>" not in suggestion and not self.check_quick(suggestion):
            suggestion = None
        return Verdict(name, None, reason, suggestion)

    def check_quick(self, name: str) -> bool:
        return any(self._matches(k, name) for k in self.shapes) or any(
            patterns.fullmatch(p, name, f"branches.extra[{i}]") for i, p in enumerate(self.extra)
        )

    def _allowed(self) -> str:
        shapes = {
            "main": "main",
            "develop": "develop",
            "feature": "feature/stage<N>-<desc>",
            "ticket": "feature/<KEY>-<n>-<desc>",
            "experiment": "experiment/<desc>",
            "bugfix": "bugfix/<issue>-<desc>",
            "hotfix": "hotfix/<issue>-<desc>",
            "docs": "docs/<desc>",
            "release": "release/<semver>",
        }
        return ", ".join(shapes[k] for k in self.kinds)

    def _explain(self, name: str) -> tuple[str, str | None]:
        prefix, slash, rest = name.partition("/")
        if not slash:
            # Feature_Monitoring: the kind is there, only its slash is missing
            m = re.match(r"^([A-Za-z]+)[-_ ]+(.+)$", name)
            kind = PREFIXES.get(m.group(1).lower()) if m else None
            if m and kind is not None and (kind in self.shapes or kind == "feature"):
                fixed = f"{kind}/{m.group(2)}"
                slashed = self.check(fixed)
                return (
                    f"a branch type is followed by '/': {kind}/...; allowed: {self._allowed()}",
                    fixed if slashed.ok else slashed.suggestion,
                )
            desc = kebab(name)
            return (
                f"a branch needs a type prefix; allowed: {self._allowed()}",
                f"experiment/{desc}" if desc else None,
            )
        kind = PREFIXES.get(prefix.lower())
        if kind is None or (kind not in self.shapes and kind != "feature"):
            known = sorted({k.split("/")[0] for k in self._allowed().split(", ") if "/" in k})
            guess = f"{kind}/{rest}" if kind in self.shapes else None
            return (f"unknown branch type '{prefix}/'; use one of {', '.join(known)}", guess)
        if prefix != kind:
            fixed = f"{kind}/{rest}"
            verdict = self.check(fixed) if kind in self.shapes else None
            return (
                f"the branch type is '{kind}/', not '{prefix}/'",
                fixed if verdict and verdict.ok else (verdict.suggestion if verdict else None),
            )
        if kind == "feature":
            return self._explain_feature(rest)
        if kind in ("bugfix", "hotfix"):
            m = re.match(rf"^({ISSUE})[-_]?(.*)$", rest)
            if not m:
                return (
                    f"{kind} branches start with an issue number: {kind}/<issue>-<desc>",
                    None,
                )
            desc = kebab(m.group(2))
            if not desc:
                return (f"{kind} branches need a description after the issue number", None)
            return ("<desc> must be lower-case kebab-case", f"{kind}/{m.group(1)}-{desc}")
        if kind == "release":
            m = re.match(r"^(v?)(\d+)(?:\.(\d+))?(?:\.(\d+))?$", rest)
            if m:
                parts = [m.group(2), m.group(3) or "0", m.group(4) or "0"]
                return (
                    "a release branch is named by a full semantic version (MAJOR.MINOR.PATCH)",
                    f"release/{m.group(1)}{'.'.join(str(int(p)) for p in parts)}",
                )
            return ("a release branch is named by a semantic version: release/1.2.0", None)
        desc = kebab(rest)
        return ("<desc> must be lower-case kebab-case", f"{kind}/{desc}" if desc else None)

    def _explain_feature(self, rest: str) -> tuple[str, str | None]:
        stages = ", ".join(str(n) for n in self.stages)
        m = re.match(r"^stage[-_ ]?(\d+)[-_ ]?(.*)$", rest, re.IGNORECASE)
        if m:
            n, desc = int(m.group(1)), kebab(m.group(2))
            if n not in self.stages:
                return (f"stage {n} is not a stage of this project ({stages})", None)
            if not desc:
                return ("feature branches need a description: feature/stage<N>-<desc>", None)
            return (
                "feature branches are named feature/stage<N>-<desc>",
                f"feature/stage{n}-{desc}",
            )
        t = re.match(r"^([A-Za-z][A-Za-z0-9]*)[-_](\d+)[-_]?(.*)$", rest)
        if t and "ticket" in self.shapes and kebab(t.group(3)):
            return (
                "a ticket key is upper case: feature/<KEY>-<n>-<desc>",
                f"feature/{t.group(1).upper()}-{t.group(2)}-{kebab(t.group(3))}",
            )
        desc = kebab(rest) or "<desc>"
        return (
            f"feature branches name their stage: feature/stage<N>-<desc> with N one of {stages}",
            None if desc == "<desc>" else f"feature/stage<N>-{desc}",
        )


def kebab(text: str) -> str:
    """Lower-case kebab-case: ``Memory_Leak fix`` -> ``memory-leak-fix``."""
    words = re.findall(r"[A-Za-z0-9]+", re.sub(r"([a-z0-9])([A-Z])", r"\1-\2", text))
    return "-".join(w.lower() for w in words)


class Source:
    __slots__ = ("label", "name", "skipped")

    def __init__(self, name: str | None, label: str, skipped: str | None = None) -> None:
        self.name = name
        self.label = label
        self.skipped = skipped


def resolve(
    arg: str | None, environ: Mapping[str, str], git_head: Callable[[], str | None]
) -> Source:
    """The branch to check and where it came from, in the order of the contract.

    ``git_head`` is called last, only when nothing else names the branch; it returns the
    short symbolic HEAD or None when HEAD is detached.
    """
    if arg:
        return Source(arg, "argument")
    for label, var in ENV_SOURCES:
        value = environ.get(var, "").strip()
        if not value or value == "HEAD":
            continue
        if var == "GITHUB_REF_NAME" and environ.get("GITHUB_REF_TYPE") == "tag":
            continue
        if var == "CI_COMMIT_REF_NAME" and environ.get("CI_COMMIT_TAG"):
            continue
        if value.startswith("refs/tags/"):
            return Source(None, f"{label} ({var})", "a tag is being pushed, not a branch")
        if value.startswith("refs/heads/"):
            value = value[len("refs/heads/") :]
        return Source(value, f"{label} ({var})")
    head = git_head()
    if head is None:
        return Source(None, "git HEAD", "HEAD is detached and no CI variable names the branch")
    return Source(head, "git HEAD")
