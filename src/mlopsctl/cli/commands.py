"""Every command of mlopsctl and its options, declared once.

Each command is a class: its docstring is the help text, its annotated attributes are the
arguments and options, and an instance holds the parsed values (the one typed object a
handler receives). The same table builds the fast parser (:mod:`mlopsctl.cli.parse`, which
runs every command without loading Typer) and the Typer application
(:mod:`mlopsctl.cli.typer_app`, which serves ``--help``, shell completion and usage errors).

The annotation of an attribute decides how it is parsed: ``bool`` is a flag, ``list[str]``
repeats, ``float``/``int``/``Path`` convert, anything else is a string. This module is on
the start-up path of every command, so it imports nothing.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Param:
    """One argument or option of a command."""

    __slots__ = (
        "attr",
        "choices",
        "default",
        "flags",
        "help",
        "kind",
        "metavar",
        "required",
        "type",
    )

    def __init__(
        self,
        flags: tuple[str, ...],
        default: object,
        help: str,
        metavar: str | None = None,
        required: bool = False,
        choices: tuple[str, ...] | None = None,
    ) -> None:
        self.flags = flags  # () for a positional argument
        self.default = default
        self.help = help
        self.metavar = metavar
        self.required = required
        self.choices = choices
        self.attr = ""  # set by Command.__init_subclass__
        self.kind = "str"  # str, bool, list, float, int, path, rest
        self.type = "str"

    @property
    def positional(self) -> bool:
        return not self.flags

    def initial(self) -> object:
        return list(self.default) if isinstance(self.default, list) else self.default


def arg(
    default: object = None, *, help: str, metavar: str | None = None, required: bool = False
) -> Any:
    """A positional argument (``list[str]`` annotation: zero or more)."""
    return Param((), default, help, metavar, required)


def opt(
    *flags: str,
    default: object = None,
    help: str,
    metavar: str | None = None,
    required: bool = False,
    choices: tuple[str, ...] | None = None,
) -> Any:
    """An option taking a value (``list[str]`` annotation: repeatable)."""
    return Param(flags, default, help, metavar, required, choices)


def flag(*flags: str, help: str) -> Any:
    return Param(flags, False, help)


def rest(help: str) -> Any:
    """The arguments after ``--``, handed on to the wrapped tool."""
    p = Param((), [], help)
    p.kind = "rest"
    return p


REGISTRY: dict[str, type[Command]] = {}  # command name -> its class, in declaration order


def _kind(annotation: str) -> str:
    text = annotation.replace(" ", "").replace("|None", "")
    if text == "bool":
        return "bool"
    if text.startswith("list["):
        return "list"
    return {"float": "float", "int": "int", "Path": "path"}.get(text, "str")


class Command:
    """Base of every command; subclasses are declared with ``name=`` and ``handler=``.

    ``handler`` is ``module:function`` under :mod:`mlopsctl.cli`; the function takes the
    command instance and returns the exit code.
    """

    name: str = ""
    handler: str = ""
    params: tuple[Param, ...] = ()

    def __init_subclass__(cls, *, name: str, handler: str, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        cls.name, cls.handler = name, handler
        # (inspect.get_annotations would cost the hooks' start-up the import of inspect)
        annotations = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
        params = []
        for attr, value in cls.__dict__.items():
            if isinstance(value, Param):
                value.attr = attr
                if value.kind != "rest":
                    value.kind = _kind(str(annotations[attr]))
                params.append(value)
        cls.params = tuple(params)
        REGISTRY[name] = cls

    def __init__(self, **values: object) -> None:
        for p in self.params:
            setattr(self, p.attr, values[p.attr] if p.attr in values else p.initial())

    def __repr__(self) -> str:
        fields = ", ".join(f"{p.attr}={getattr(self, p.attr)!r}" for p in self.params)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and all(
            getattr(self, p.attr) == getattr(other, p.attr) for p in self.params
        )

    __hash__ = None  # type: ignore[assignment]


# --- shared options ---------------------------------------------------------------------

FORMATS = ("text", "json", "github")
_JSON = "Print one JSON document instead of text."
_DRY = "Show the plan; change nothing."
_YES = "Do not ask for confirmation."
_FORCE = "Overwrite files that differ."
_FORMAT = "text, json or github (workflow annotations)."
_STRATEGY = (
    "auto (the project's script when present, else environments.<env>.strategy), script, "
    "blue-green or canary."
)


# --- scaffolding ------------------------------------------------------------------------


class Init(Command, name="init", handler="scaffold:init"):
    """Create the root layout of an MLOps project, wired to the mlopsctl hooks."""

    directory: str = arg(".", help="Folder to create the project in.")
    project_name: str | None = opt("--name", help="Project name (default: the folder's name).")
    package: str | None = opt("--package", help="Python package (default: from the name).")
    no_git: bool = flag("--no-git", help="Do not initialise a git repository.")
    force: bool = flag("--force", help=_FORCE)
    dry_run: bool = flag("--dry-run", help=_DRY)
    json: bool = flag("--json", help=_JSON)


class NewStage(Command, name="new-stage", handler="scaffold:new_stage"):
    """Add substage X.Y: docs, unit/integration/e2e tests, runner and the module they test.

    With --from, copy an existing substage instead, renaming files and identifiers.
    """

    substage: str = arg(required=True, metavar="X.Y", help="Substage id, e.g. 6.1.")
    feature: str | None = arg(
        help="Feature name: monitoring-api, monitoring_api or 'Monitoring API'."
    )
    template: str | None = opt(
        "--template", help="Stage template (default: stage; see `templates list`)."
    )
    sets: list[str] = opt("--set", default=[], help="Template parameter KEY=VALUE (repeatable).")
    with_compose: bool = flag(
        "--with-compose", help="Also create docker/docker-compose.stage-<X>.yml."
    )
    source: str | None = opt(
        "--from", metavar="X.Y", help="Copy substage X.Y (as it is now) under the new number."
    )
    force: bool = flag("--force", help=_FORCE)
    dry_run: bool = flag("--dry-run", help=_DRY)
    json: bool = flag("--json", help=_JSON)


class Stages(Command, name="stages", handler="scaffold:stages"):
    """List the substages found in the project and the state of each expected file."""

    json: bool = flag("--json", help=_JSON)


class Update(Command, name="update", handler="scaffold:update"):
    """Bring substages up to the current templates, merging three ways with your edits.

    Pristine files take the new text; edited files are merged; overlapping changes leave
    conflict markers and exit 3. Files you deleted stay deleted.
    """

    substages: list[str] = arg(
        [], metavar="X.Y", help="Substages to update (default: every recorded one)."
    )
    all: bool = flag("--all", help="Also update the project's own files.")
    dry_run: bool = flag("--dry-run", help=_DRY)
    json: bool = flag("--json", help=_JSON)


class DestroyStage(Command, name="destroy-stage", handler="scaffold:destroy_stage"):
    """Remove substage X.Y: its pristine files, and its additions to shared files.

    An edited file is a conflict (exit 3, nothing removed) unless --force.
    """

    substage: str = arg(required=True, metavar="X.Y", help="Substage id, e.g. 6.1.")
    force: bool = flag("--force", help="Remove the substage's files even where you edited them.")
    dry_run: bool = flag("--dry-run", help=_DRY)
    json: bool = flag("--json", help=_JSON)


class TemplatesList(Command, name="templates list", handler="scaffold:templates_list"):
    """Show the templates (project ones first) and their parameters."""

    json: bool = flag("--json", help=_JSON)


# --- hooks: the checks --------------------------------------------------------------------


class CheckNames(Command, name="check-names", handler="checks:check_names"):
    """Check file names and places against the naming rules (exit 1 on violations)."""

    paths: list[str] = arg(
        [], help="Files to check; default: every file git tracks or would track."
    )
    json: bool = flag("--json", help=_JSON)
    format: str = opt("--format", default="text", choices=FORMATS, help=_FORMAT)


class CheckBranch(Command, name="check-branch", handler="checks:check_branch"):
    """Check a branch name against the branch rules (exit 1 with a suggestion).

    The branch comes from, in order: NAME; PRE_COMMIT_REMOTE_BRANCH, then
    PRE_COMMIT_LOCAL_BRANCH (pre-commit's pre-push);
    GITHUB_HEAD_REF; CI_MERGE_REQUEST_SOURCE_BRANCH_NAME; GITHUB_REF_NAME,
    CI_COMMIT_REF_NAME, CI_COMMIT_BRANCH, BRANCH_NAME, BUILDKITE_BRANCH; git's HEAD.
    A detached HEAD with none of them is skipped (exit 0) unless --strict.
    """

    branch: str | None = arg(
        metavar="NAME", help="Branch to check; default: from CI variables, then git's HEAD."
    )
    strict: bool = flag("--strict", help="Fail when no branch can be found.")
    json: bool = flag("--json", help=_JSON)
    format: str = opt("--format", default="text", choices=FORMATS, help=_FORMAT)


class CheckCommit(Command, name="check-commit", handler="checks:check_commit"):
    """Check commit messages against Conventional Commits 1.0.0 (exit 1 naming the fault).

    Git's comment lines and scissors line are ignored; merge, revert, fixup!, squash! and
    amend! commits pass. Types and a scope pattern come from mlops.yaml (commits:).
    """

    msg_file: str | None = arg(help="Commit message file (what git passes to a commit-msg hook).")
    message: str | None = opt("--message", "-m", help="A message to check.")
    range: str | None = opt("--range", metavar="A..B", help="Check every commit in A..B (for CI).")
    json: bool = flag("--json", help=_JSON)
    format: str = opt("--format", default="text", choices=FORMATS, help=_FORMAT)


class CheckPush(Command, name="check-push", handler="checks:check_push"):
    """Check what a git push sends: the pre-push hook (exit 1 naming each fault).

    Reads git's pre-push lines on standard input. Each pushed branch is checked by its
    remote name (git push origin ok:Bad_Name is caught), and each commit the remote does not
    have yet by its message (commits made with --no-verify are caught). Deletions and tags
    pass.
    """

    remote: str = arg(required=True, metavar="REMOTE", help="The remote's name (git's $1).")
    url: str | None = arg(metavar="URL", help="The remote's URL (git's $2; shown only).")
    json: bool = flag("--json", help=_JSON)
    format: str = opt("--format", default="text", choices=FORMATS, help=_FORMAT)


class HooksInstall(Command, name="hooks install", handler="hooks:install"):
    """Install the pre-commit, commit-msg and pre-push hooks.

    Through the pre-commit framework when it is installed and the repository has a
    .pre-commit-config.yaml; otherwise as small native scripts that call mlopsctl.
    A hook mlopsctl did not write is never replaced silently.
    """

    mode: str = opt(
        "--mode",
        default="auto",
        choices=("auto", "pre-commit", "native"),
        help="auto (pre-commit when it and its config exist), pre-commit, native.",
    )
    force: bool = flag("--force", help="Keep foreign hooks as <hook>.pre-mlopsctl; install anyway.")
    json: bool = flag("--json", help=_JSON)


# --- tests and environment ------------------------------------------------------------------


class Test(Command, name="test", handler="testing:run"):
    """Run the test suites in order with pytest under the project's Python.

    Loads .env then .env.NAME into the tests' environment (real variables win) and sets
    TEST_MODE=true. Bash tests tests/<suite>/test_X_Y_*.sh count as one test each.
    Arguments after -- go to pytest. Exit 1 when anything failed or coverage is under
    the gate; a suite with no tests is reported, not failed.
    """

    suites: list[str] = arg(
        [],
        help="unit, integration, e2e, performance, security or all "
        "(default: unit integration e2e).",
    )
    stage: str | None = opt(
        "--stage", help="Only stage X or substage X.Y (exact: 6.1 never picks 6.10)."
    )
    cov: bool = flag("--cov", help="Measure coverage of the project's package across the suites.")
    cov_fail_under: float | None = opt(
        "--cov-fail-under",
        help="Coverage gate in percent (default: mlops.yaml tests.coverage_gate, 80).",
    )
    cov_xml: str | None = opt(
        "--cov-xml", help="With --cov: also write a coverage.xml (Cobertura) for CI services."
    )
    junit_xml: str | None = opt("--junit-xml", help="Write one JUnit XML report for the whole run.")
    workers: str | None = opt("-n", help="Parallel workers (N or auto) with pytest-xdist.")
    env_name: str | None = opt("--env", help="Load .env.NAME over .env (default: testing).")
    fail_fast: bool = flag("--fail-fast", help="Stop after the first failing suite.")
    affected: bool = flag(
        "--affected",
        help="Only the tests that ran the lines changed since --base (from the test map that "
        "full --cov runs record), new and edited test files; --cov then gates the changed lines.",
    )
    base: str | None = opt(
        "--base",
        help="With --affected: compare with REF (default: merge base with the default branch).",
    )
    json: bool = flag("--json", help=_JSON)
    pytest_args: list[str] = rest(help="Arguments for pytest.")


class EnvShow(Command, name="env show", handler="env:show"):
    """The merged environment (.env, then .env.NAME; real variables win), secrets masked."""

    env_name: str | None = opt("--env", help="Also load .env.NAME over .env.")
    json: bool = flag("--json", help=_JSON)


class EnvCheck(Command, name="env check", handler="env:check"):
    """Fail (exit 1) when a key of .env.template is unset or an .env file is tracked by git.

    With --ci (a runner without secrets): check instead that no .env file is tracked, no
    tracked file holds a secret-shaped value and the template gives no secret a value.
    """

    env_name: str | None = opt("--env", help="Also load .env.NAME over .env.")
    ci: bool = flag("--ci", help="Check only what needs no secrets (for CI runners).")
    json: bool = flag("--json", help=_JSON)


# --- compose and deploy ---------------------------------------------------------------------


class Compose(Command, name="compose", handler="compose:compose"):
    """Run Docker Compose on a target's file; `up` waits until every service is healthy.

    Works with `docker compose` (v2) and `docker-compose` (v1). On a timeout or an
    unhealthy service, `up` prints that service's last log lines and exits 1.
    TARGET may also be an environment of mlops.yaml (its live colour's project).
    Arguments after -- go to compose.
    """

    action: str = arg(required=True, metavar="ACTION", help="up, down, ps, logs or config.")
    target: str | None = arg(
        help="main (default), stage-5 or 5, monitoring, production ... "
        "(docker/docker-compose.<target>.yml)."
    )
    timeout: float = opt("--timeout", default=120.0, help="up: seconds to wait for health.")
    json: bool = flag("--json", help="up: print one JSON document.")
    extra: list[str] = rest(help="Arguments for compose.")


class Deploy(Command, name="deploy", handler="deploy:deploy"):
    """Deploy a version: the project's scripts/deploy/deploy_<env>.sh, else blue-green,
    a swarm update or a canary (environments.<env> in mlops.yaml).

    Blue-green starts the idle colour beside the live one and switches only when all its
    services are healthy, then watches it through the bake (a failure switches back). A
    canary answers beside the live version while its metrics are sampled, then is promoted
    or aborted. Exit 0 only when the new version serves and passed its bake; 1 when it does
    not (the live version keeps serving); 3 while another deploy holds the lock.
    production asks for confirmation (--yes in CI). Every attempt is recorded.
    """

    environment: str = arg(required=True, metavar="ENV", help="staging, production, ...")
    version: str = opt("--version", required=True, help="The version to deploy, e.g. v1.2.0.")
    yes: bool = flag("--yes", "-y", help=_YES)
    dry_run: bool = flag("--dry-run", help=_DRY)
    strategy: str = opt(
        "--strategy", default="auto", choices=("auto", "script", "blue-green", "canary"),
        help=_STRATEGY,
    )  # fmt: skip
    json: bool = flag("--json", help=_JSON)


class Rollback(Command, name="rollback", handler="deploy:rollback"):
    """Return an environment to a version: scripts/deploy/rollback.sh, else blue-green."""

    version: str | None = arg(help="Version to return to (default: the previous good one).")
    environment: str | None = opt("--env", help="Environment (default: the last one deployed).")
    yes: bool = flag("--yes", "-y", help=_YES)
    dry_run: bool = flag("--dry-run", help=_DRY)
    strategy: str = opt(
        "--strategy", default="auto", choices=("auto", "script", "blue-green"), help=_STRATEGY
    )
    json: bool = flag("--json", help=_JSON)


class Releases(Command, name="releases", handler="deploy:releases"):
    """List every recorded deploy and rollback, oldest first."""

    environment: str | None = opt("--env", help="Only this environment.")
    json: bool = flag("--json", help=_JSON)


# --- readiness ------------------------------------------------------------------------------


class Doctor(Command, name="doctor", handler="doctor:doctor"):
    """Production-readiness report: each check with pass, fail or skip, why, and the fix,
    and the ML Test Score (28 tests in four sections, from tagged tests, documents and
    exemptions).

    The readiness score is the share of passed checks among those that ran (skipped ones
    need a tool or git that is missing); the ML Test Score is the lowest section sum.
    """

    fail_under: float | None = opt(
        "--fail-under", help="Exit 1 when the score (percent) is under N."
    )
    ml_min: float | None = opt("--ml-min", help="Exit 1 when the ML Test Score is under N.")
    html: str | None = opt("--html", metavar="FILE", help="Also write the report as one page.")
    json: bool = flag("--json", help=_JSON)


def find(words: list[str]) -> tuple[type[Command] | None, int]:
    """The command named by the first one or two ``words``, and how many words name it."""
    if len(words) >= 2 and f"{words[0]} {words[1]}" in REGISTRY:
        return REGISTRY[f"{words[0]} {words[1]}"], 2
    if words and words[0] in REGISTRY:
        return REGISTRY[words[0]], 1
    return None, 0
