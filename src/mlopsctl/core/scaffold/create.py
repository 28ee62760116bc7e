"""``init`` and ``new-stage``: render a template into a plan, then apply it with its record."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl import __version__
from mlopsctl.core import config as config_mod
from mlopsctl.core.config import Config, Stage, check_package, check_text
from mlopsctl.core.conventions.ids import Feature, normalise_feature, parse_substage
from mlopsctl.core.scaffold import lifecycle, record, render, templates
from mlopsctl.core.scaffold import plan as plan_mod
from mlopsctl.errors import BadInput, Conflict

PROJECT_TEMPLATE = "project"
STAGE_TEMPLATE = "stage"
# The generated code names its module in full (imports, ``python -m``) and keeps every line
# within the 100 columns its ruff rules allow; a dotted path of up to 80 characters fits.
MAX_MODULE = 80


def check_module(package: str, stage: Stage, feature: Feature) -> None:
    """Refuse a feature whose module path the generated code could not name in a line."""
    module = f"{package}.{stage.module}.{feature.snake}"
    if len(module) > MAX_MODULE:
        room = MAX_MODULE - len(module) + len(feature.snake)
        raise BadInput(
            f"Feature name '{feature.kebab[:40]}' makes the module path {len(module)} characters "
            f"long ({package}.{stage.module}.<feature>), over the {MAX_MODULE} that generated "
            f"code can name within its 100-column lines; use a feature name of at most {room} "
            "characters."
        )


@dataclass(frozen=True)
class Recovery:
    """What the project lock found: whether a run had been interrupted, and the files of
    its journal that were finished."""

    interrupted: bool = False
    paths: tuple[str, ...] = ()


@contextlib.contextmanager
def project_lock(folder: Path) -> Iterator[Recovery]:
    """Hold the project's write lock (a ``flock`` on its root folder, so nothing is written
    to take it): two runs that write the same project take turns, and each plans on what the
    other wrote. Inside, a run that a crash interrupted is finished first."""
    from mlopsctl.core.fs import FileLock
    from mlopsctl.core.scaffold.plan import STAGING, recover

    existing = folder.absolute()
    while not existing.is_dir():
        existing = existing.parent
    with FileLock(existing):
        if not folder.is_dir():
            yield Recovery()
            return
        interrupted = (folder / STAGING).is_dir()
        yield Recovery(interrupted, tuple(recover(folder)))


def parse_sets(values: list[str]) -> dict[str, str]:
    """``--set KEY=VALUE`` words as a mapping; a word without ``=`` is bad input."""
    out = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"--set '{item}' is not KEY=VALUE; e.g. --set with_compose=true.")
        out[key.strip()] = value
    return out


@dataclass
class Scaffold:
    """A planned change of generated files (plan, record, store) and what to say about it."""

    outcome: lifecycle.Outcome
    template: str
    parameters: dict[str, Any]
    notes: list[str] = field(default_factory=list)

    @property
    def plan(self) -> plan_mod.Plan:
        return self.outcome.plan

    @property
    def record(self) -> bytes | None:
        return self.outcome.record_bytes

    @property
    def foreign(self) -> dict[str, str]:
        # conflicting files that another substage made: --force would destroy that substage's
        return self.outcome.foreign

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.plan.as_dict(),
            "template": self.template,
            "parameters": self.parameters,
            "notes": self.notes,
        }

    def apply(self) -> list[str]:
        return self.outcome.apply()


def _network_prefix(name: str) -> str:
    """The project part of the environments' network names (``<project>-<env>``)."""
    from mlopsctl.core.deploy.compose import project_name

    return project_name(name)


def _base_context(stages: dict[int, Stage]) -> dict[str, Any]:
    return {
        "mlopsctl_version": __version__,
        "mlopsctl_requirement": f"mlopsctl=={__version__}",
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "stages": [stages[n] for n in sorted(stages)],
    }


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def stage_change(
    config: Config,
    substage: str,
    feature: str,
    template_name: str,
    sets: dict[str, Any],
) -> lifecycle.Change:
    """Render ``template_name`` as substage ``substage`` named ``feature`` with ``sets``
    (``--set`` words or recorded values: both are checked as if typed)."""
    root = config.require_root()
    stages = config.stages
    sub = parse_substage(substage, stages)
    feat = normalise_feature(feature)
    template = templates.find(template_name, root)
    if template.kind != "stage":
        raise BadInput(
            f"Template '{template_name}' is a {template.kind} template; "
            "new-stage takes a stage template (see `mlopsctl templates list`)."
        )
    if template.stages and sub.stage.number not in template.stages:
        wanted = ", ".join(str(n) for n in template.stages)
        raise BadInput(
            f"Template '{template_name}' is made for stage {wanted}, not {sub.stage.number}; "
            f"use new-stage {template.stages[0]}.<Y> --template {template_name}."
        )
    params = template.resolve_params({k: _as_text(v) for k, v in sets.items()})
    s = sub.stage
    if "service_port" in params and params["service_port"] is None:
        # distinct per substage, so that services of one project never share a port
        params["service_port"] = 8000 + 100 * s.number + sub.number
    context = {
        **_base_context(stages),
        **params,
        "project_name": config.name,
        "network_prefix": _network_prefix(config.name),
        "package": config.package,
        "stage": s.number,
        "substage": sub.number,
        "stage_id": str(sub),
        "stage_slug": s.slug,
        "stage_title": s.title,
        "stage_module": s.module,
        "docs_dir": s.docs_dir,
        "feature": feat.kebab,
        "feature_snake": feat.snake,
        "feature_title": feat.title,
        "feature_class": feat.camel,
        "template_name": template.name,
    }
    files = render.render(template, context)
    typed = {k: params[k] for k in sets}
    recorded = {"substage": str(sub), "feature": feat.kebab, **typed}
    inst = record.Instance(str(sub), template.name, recorded, __version__)
    return lifecycle.Change(inst, files)


def project_change(root: Path, name: str, package: str) -> lifecycle.Change:
    defaults = Config(None, config_mod.default_data(name, package))
    template = templates.find(PROJECT_TEMPLATE, None)
    context = {**_base_context(defaults.stages), "project_name": name, "package": package}
    files = render.render(template, context)
    inst = record.Instance(
        record.PROJECT, template.name, {"name": name, "package": package}, __version__
    )
    return lifecycle.Change(inst, files)


def plan_new_stage(
    config: Config,
    substage: str,
    feature: str | None = None,
    template_name: str | None = None,
    sets: dict[str, str] | None = None,
    with_compose: bool = False,
    force: bool = False,
) -> Scaffold:
    root = config.require_root()
    sub = parse_substage(substage, config.stages)
    feat = normalise_feature(feature if feature is not None else sub.stage.slug)
    check_module(config.package, sub.stage, feat)
    rec = record.read(root)
    existing = rec.instances.get(str(sub))
    if existing is not None and existing.parameters.get("feature") not in (None, feat.kebab):
        raise Conflict(
            f"Substage {sub} already exists as '{existing.parameters.get('feature')}'; nothing "
            f"was written: give the new one another number, or remove {sub} first with "
            f"`mlopsctl destroy-stage {sub}`."
        )
    sets = dict(sets or {})
    if template_name is None:
        # a recorded substage keeps its template and the values it was given (as copier
        # reuses its answers) unless the command names others
        template_name = STAGE_TEMPLATE
        if existing is not None and not existing.template.startswith("clone:"):
            template_name = existing.template
            recorded = {
                k: _as_text(v)
                for k, v in existing.parameters.items()
                if k not in record.INSTANCE_KEYS
            }
            sets = {**recorded, **sets}
    if with_compose:
        template = templates.find(template_name, root)
        if "with_compose" not in template.parameters:
            raise BadInput(f"Template '{template_name}' has no compose file; drop --with-compose.")
        sets["with_compose"] = "true"
    change = stage_change(config, str(sub), feat.kebab, template_name, sets)
    outcome = lifecycle.plan(root, rec, {str(sub): change}, "create", force)
    inst = change.instance
    return Scaffold(outcome, inst.template, inst.parameters, list(outcome.notes))


def plan_init(
    directory: Path,
    name: str | None = None,
    package: str | None = None,
    force: bool = False,
) -> Scaffold:
    root = directory.absolute()
    if root.exists() and not root.is_dir():
        raise BadInput(f"{directory} is a file; give init a folder.")
    project_name = check_text(name or root.absolute().name, "Project name")
    if package is None:
        try:
            package = normalise_feature(project_name, reserved=False).snake
        except BadInput:
            raise BadInput(
                f"Project name '{project_name}' does not give a Python package name; "
                "pass one with --package, e.g. --package my_project."
            ) from None
    check_package(package)
    change = project_change(root, project_name, package)
    rec = record.read(root) if root.is_dir() else record.Record()
    outcome = lifecycle.plan(root, rec, {record.PROJECT: change}, "create", force)
    inst = change.instance
    return Scaffold(outcome, inst.template, inst.parameters, list(outcome.notes))


def init_git(directory: Path) -> str:
    """Initialise a repository on ``main`` unless the folder is already inside one; say which."""
    from mlopsctl.core.git import repo

    if repo.toplevel(directory) is not None:
        return "git: already inside a repository; left as it is"
    repo.init(directory.absolute())
    return "git: initialised a repository on branch main"
