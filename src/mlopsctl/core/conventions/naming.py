"""File-name rules of the standard (``conventions.md`` §3), applied by folder.

Pure and import-light: ``check-names`` runs on every commit.
"""

from __future__ import annotations

import os
import re

from mlopsctl.core.config import KEBAB
from mlopsctl.errors import BadInput, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from mlopsctl.core.config import Config

_WORD = r"[a-z0-9]+"
_SNAKE = rf"{_WORD}(?:_{_WORD})*"
_NAME = rf"[a-z][a-z0-9]*(?:_{_WORD})*"  # a feature or env: starts with a letter
_KEBAB = KEBAB
_TEST_HELPERS = {"__init__.py", "conftest.py"}


class Violation:
    __slots__ = ("expected", "path", "rule", "suggestion")

    def __init__(self, path: str, rule: str, expected: str, suggestion: str | None = None) -> None:
        self.path, self.rule, self.expected = path, rule, expected
        self.suggestion = suggestion

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Violation) and self.as_dict() == other.as_dict()

    def __hash__(self) -> int:
        return hash((self.path, self.rule, self.expected))

    def __repr__(self) -> str:
        return f"Violation({self.path!r}, {self.rule!r}, {self.expected!r})"

    def as_dict(self) -> dict[str, str | None]:
        return {
            "path": self.path,
            "rule": self.rule,
            "expected": self.expected,
            "suggestion": self.suggestion,
        }


class _Rule:
    """A folder's rule: its name, the expected shape, and the pattern (compiled when used)."""

    __slots__ = ("expected", "name", "source")

    def __init__(self, name: str, expected: str, source: str) -> None:
        self.name, self.expected, self.source = name, expected, source

    def fits(self, file_name: str) -> bool:
        return re.fullmatch(self.source, file_name) is not None  # re caches the compile


def _rule(name: str, expected: str, regex: str) -> _Rule:
    return _Rule(name, expected, regex)


class Rules:
    """The folder rules for one project's stage table."""

    def __init__(self, config: Config) -> None:
        stages = config.stages
        x = "(?:" + "|".join(str(n) for n in sorted(stages)) + ")"
        y = r"[1-9][0-9]*"
        self.stage_dirs = {s.docs_dir: s.number for s in stages.values()}
        self.ignore = tuple(config.section("naming")["ignore"])
        stage_test = f"test_{x}_{y}_{_SNAKE}\\.(?:py|sh)"
        self.root_sh = _rule("main runner", "run_<feature>.sh", f"run_{_NAME}\\.sh")
        self.by_folder: dict[str, _Rule] = {
            "scripts/setup": _rule("setup script", "setup_<feature>.sh", f"setup_{_NAME}\\.sh"),
            "scripts/test": _rule(
                "stage runner",
                "run_<X>_<Y>_tests.sh or run_<feature>_tests.sh",
                f"run_{x}_{y}_tests\\.sh|run_{_NAME}_tests\\.sh",
            ),
            "scripts/deploy": _rule(
                "deploy script",
                "deploy_<env>.sh, rollback.sh or switch_traffic.sh",
                f"deploy_{_NAME}\\.sh|rollback\\.sh|switch_traffic\\.sh",
            ),
            "scripts/monitoring": _rule(
                "monitoring script", "<verb>_<target>[_<feature>].sh", f"{_WORD}_{_SNAKE}\\.sh"
            ),
            "scripts/security": _rule(
                "security script", "<verb>_<target>[_<feature>].sh", f"{_WORD}_{_SNAKE}\\.sh"
            ),
            "tests/unit": _rule("unit test", "test_<X>_<Y>_<feature>.py", stage_test),
            "tests/integration": _rule(
                "integration test", "test_<X>_<Y>_<system>.py or .sh", stage_test
            ),
            "tests/e2e": _rule("e2e test", "test_<X>_<Y>_complete_workflow.py", stage_test),
            "tests/performance": _rule("performance test", "test_<name>.py", f"test_{_SNAKE}\\.py"),
            "tests/security": _rule("security test", "test_<name>.py", f"test_{_SNAKE}\\.py"),
            "tests": _rule(
                "tests folder", "conftest.py or __init__.py", r"conftest\.py|__init__\.py"
            ),
            "docker": _rule(
                "compose file",
                "docker-compose.main.yml, docker-compose.stage-<X>.yml or "
                "docker-compose.<name>.yml",
                f"docker-compose\\.main\\.yml|docker-compose\\.stage-{x}\\.yml"
                f"|docker-compose\\.(?!stage){_KEBAB}\\.yml",
            ),
        }
        self.x = x
        self.y = y

    def check(self, path: str) -> Violation | None:
        """Check one path relative to the project root (``/`` separators); a violation names
        the nearest valid name where one is found."""
        found = self._check(path)
        if found is not None:
            found.suggestion = self.nearest(path)
        return found

    def nearest(self, path: str) -> str | None:
        """The first of a few spellings of ``path``'s name (lower case, snake_case,
        kebab-case, ``stage-<X>``, a missing ``test_`` prefix) that the rules accept."""
        folder, slash, name = path.rpartition("/")
        stem, dot, ext = name.partition(".")
        rest = f"{dot}{ext}".lower()
        words = [w for w in re.split(r"[^A-Za-z0-9]+", re.sub(r"([a-z])([A-Z])", r"\1_\2", stem))]
        words = [w.lower() for w in words if w]
        snake, kebab = "_".join(words), "-".join(words)
        candidates = [
            name.lower(),
            snake + rest,
            kebab + rest,
            f"test_{snake}{rest}",
            re.sub(r"stage[-_.]?(\d)", r"stage-\1", name.lower()),
            re.sub(r"^docker[-_.]?compose[-_.]", "docker-compose.", name.lower()),
            re.sub(r"^(\d+)[._-](\d+)[._-]", r"\1.\2-", kebab) + rest,
        ]
        if name.lower().startswith(("docker", "compose")):
            tail = re.sub(r"^(?:docker[-_.]?)?compose[-_.]?", "", name.lower()).removesuffix(".yml")
            tail = re.sub(r"stage[-_.]?(\d)", r"stage-\1", re.sub(r"[^a-z0-9.]+", "-", tail))
            candidates.append(f"docker-compose.{tail.strip('-.')}.yml")
        for candidate in candidates:
            full = f"{folder}{slash}{candidate}"
            if candidate and candidate != name and self._check(full) is None:
                return full
        return None

    def _check(self, path: str) -> Violation | None:
        if self.ignore:
            import fnmatch

            if any(fnmatch.fnmatch(path, pat) for pat in self.ignore):
                return None
        folder, _, name = path.rpartition("/")
        if name == "README.md" or name.startswith("."):
            return None
        if not folder:
            if name.endswith(".sh") and not self.root_sh.fits(name):
                return _violation(path, self.root_sh)
            return None
        top = folder.split("/", 2)
        if top[0] == "scripts" and len(top) >= 2:
            if folder.startswith("scripts/setup/legacy") or not name.endswith(".sh"):
                return None
            rule = self.by_folder.get(f"scripts/{top[1]}")
            if rule is None or len(top) > 2:
                return None
            return None if rule.fits(name) else _violation(path, rule)
        if top[0] == "tests":
            return self._check_test(path, folder, name)
        if folder == "docker":
            rule = self.by_folder["docker"]
            return None if rule.fits(name) else _violation(path, rule)
        if folder in self.stage_dirs and name.endswith(".md"):
            return self._check_doc(path, self.stage_dirs[folder], name)
        return None

    def _check_test(self, path: str, folder: str, name: str) -> Violation | None:
        parts = folder.split("/")
        if len(parts) > 1 and parts[1] == "fixtures":
            return None
        if name in _TEST_HELPERS or name.endswith((".pyc", ".md")):
            return None
        key = "/".join(parts[:2])
        rule = self.by_folder.get(key)
        if rule is None:
            return None
        if key in (
            "tests/unit",
            "tests/integration",
            "tests/e2e",
            "tests/performance",
            "tests/security",
        ) and not name.endswith((".py", ".sh")):
            return None
        return None if rule.fits(name) else _violation(path, rule)

    def _check_doc(self, path: str, stage: int, name: str) -> Violation | None:
        doc = rf"{stage}\.{self.y}-{_KEBAB}\.md|{_KEBAB}-guide\.md|{_KEBAB}-reference\.md"
        if re.fullmatch(doc, name):
            return None
        other = re.match(r"^(\d+)\.\d+-", name)
        if other and other.group(1) != str(stage):
            return Violation(
                path, "stage doc in its own stage folder", f"{stage}.<Y>-<title>-<type>.md"
            )
        return Violation(
            path,
            "stage doc",
            f"{stage}.<Y>-<title>-<type>.md, <title>-guide.md or <title>-reference.md",
        )


def _violation(path: str, rule: _Rule) -> Violation:
    return Violation(path, rule.name, rule.expected)


def check_paths(paths: Iterable[str], config: Config) -> list[Violation]:
    rules = Rules(config)
    found = (rules.check(p) for p in paths)
    return [v for v in found if v is not None]


class Report:
    __slots__ = ("checked", "root", "violations")

    def __init__(self, root: str, checked: int, violations: list[Violation]) -> None:
        self.root, self.checked, self.violations = root, checked, violations

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": not self.violations,
            "root": self.root,
            "checked": self.checked,
            "violations": [v.as_dict() for v in self.violations],
        }


def check_tree(config: Config, paths: list[str], cwd: str) -> Report:
    """Check ``paths`` (relative to ``cwd``), or every file git tracks or would track.

    A path outside the project (``..``, an absolute path elsewhere, a folder behind a
    symbolic link that leads out) is bad input: its name is not this project's to judge.
    """
    root = config.root_dir
    if root is None:
        from mlopsctl.core.git import repo

        top = repo.toplevel(cwd)  # type: ignore[arg-type]
        root = str(top) if top is not None else cwd
    real_root = os.path.realpath(root)
    if paths:
        rel: list[str] = []
        for p in paths:
            full = os.path.normpath(os.path.join(cwd, p))
            inside = os.path.relpath(full, root)
            real = os.path.realpath(full)
            leaves = (
                os.path.isdir(full)
                and real != real_root
                and not real.startswith(real_root + os.sep)
            )  # a folder behind a link that leads out
            if (
                inside == ".."
                or inside.startswith(".." + os.sep)
                or os.path.isabs(inside)
                or leaves
            ):
                raise BadInput(
                    f"check-names: '{one_line(p)}' is outside the project at {one_line(root)}; "
                    "name files inside it."
                )
            if os.path.isdir(full):
                from pathlib import Path

                from mlopsctl.core.git import repo

                rel.extend(
                    f if inside == "." else f"{inside.replace(os.sep, '/')}/{f}"
                    for f in repo.walk_files(Path(full))
                )
                continue
            rel.append(inside.replace(os.sep, "/"))
    else:
        from pathlib import Path

        from mlopsctl.core.git import repo

        listed = repo.listed_files(Path(root))
        rel = listed if listed is not None else repo.walk_files(Path(root))
    return Report(root, len(rel), check_paths(rel, config))
