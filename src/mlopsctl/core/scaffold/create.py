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
from mlopsctl.core.conventions.ids import normalise_feature, parse_substage
from mlopsctl.core.fs import sha256
from mlopsctl.core.scaffold import plan as plan_mod
from mlopsctl.core.scaffold import record, render, templates
from mlopsctl.errors import BadInput

PROJECT_TEMPLATE = "project"
STAGE_TEMPLATE = "stage"


@contextlib.contextmanager
def project_lock(folder: Path) -> Iterator[list[str]]:
    """Hold the project's write lock (a ``flock`` on its root folder, so nothing is written
    to take it): two runs that write the same project take turns, and each plans on what the
    other wrote. Inside, a run that a crash interrupted is finished first; the context value
    lists the files that completed."""
    from mlopsctl.core.fs import FileLock
    from mlopsctl.core.scaffold.plan import recover

    existing = folder.absolute()
    while not existing.is_dir():
        existing = existing.parent
    with FileLock(existing):
        yield recover(folder) if folder.is_dir() else []


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
    """A rendered plan and the record update that goes with it."""

    plan: plan_mod.Plan
    template: str
    parameters: dict[str, Any]
    record: bytes | None = None
    notes: list[str] = field(default_factory=list)
    # conflicting files that another substage made: --force would destroy that substage's
    foreign: dict[str, str] = field(default_factory=dict)  # path -> its substage

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.plan.as_dict(),
            "template": self.template,
            "parameters": self.parameters,
            "notes": self.notes,
        }

    def apply(self) -> list[str]:
        extra = {record.RECORD_PATH: self.record} if self.record is not None else {}
        return plan_mod.apply(self.plan, extra)


def _network_prefix(name: str) -> str:
    """The project part of the environments' network names (``<project>-<env>``)."""
    from mlopsctl.core.deploy.compose import project_name

    return project_name(name)


def _base_context(stages: dict[int, Stage]) -> dict[str, Any]:
    return {
        "mlopsctl_version": __version__,
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "stages": [stages[n] for n in sorted(stages)],
    }


def _own_appends(root: Path, plan: plan_mod.Plan) -> None:
    """A file that differs from its rendering only by lines mlopsctl appended to it (the
    record's hash is the file's, and every rendered line is still there) is the template's
    file plus mlopsctl's own additions: identical, not a conflict."""
    entries = record.load(root) if any(a.action == "conflict" for a in plan.actions) else {}
    for i, a in enumerate(plan.actions):
        entry = entries.get(a.path)
        if a.action != "conflict" or entry is None:
            continue
        current = (root / a.path).read_bytes()
        if sha256(current) != entry.sha256:
            continue  # the user edited it: a real conflict
        have = current.decode("utf-8", "replace").splitlines()
        wanted = a.file.content.decode("utf-8", "replace").splitlines()
        if have[: len(wanted)] == wanted:
            kept = render.RenderedFile(a.path, current, a.file.executable, a.file.existing)
            plan.actions[i] = plan_mod.FileAction(a.path, "identical", kept)


def build_scaffold(
    root: Path, files: list[render.RenderedFile], template: str, params: dict[str, Any], force: bool
) -> Scaffold:
    plan = plan_mod.build(root, files, force=False)
    _own_appends(root, plan)
    if force:
        plan.actions = [
            plan_mod.FileAction(a.path, "overwrite", a.file)
            if a.action == "conflict" and not (root / a.path).is_dir()
            else a
            for a in plan.actions
        ]
    rec = record.updated(root, plan, template, params) if not plan.conflicts else None
    sc = Scaffold(plan, template, params, rec)
    mine = params.get("substage")
    clashing = [a.path for a in plan.actions if a.action in ("conflict", "overwrite")]
    if mine and clashing:
        entries = record.load(root)
        for path in clashing:
            owner = entries[path].parameters.get("substage") if path in entries else None
            if owner and owner != mine:
                sc.foreign[path] = str(owner)
    return sc


def plan_new_stage(
    config: Config,
    substage: str,
    feature: str | None = None,
    template_name: str = STAGE_TEMPLATE,
    sets: dict[str, str] | None = None,
    with_compose: bool = False,
    force: bool = False,
) -> Scaffold:
    root = config.require_root()
    stages = config.stages
    sub = parse_substage(substage, stages)
    feat = normalise_feature(feature if feature is not None else sub.stage.slug)
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
    sets = dict(sets or {})
    if with_compose:
        if "with_compose" not in template.parameters:
            raise BadInput(f"Template '{template_name}' has no compose file; drop --with-compose.")
        sets["with_compose"] = "true"
    params = template.resolve_params(sets)
    s = sub.stage
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
    }
    files = render.render(template, context)
    recorded = {"substage": str(sub), "feature": feat.kebab, **{k: params[k] for k in sets}}
    return build_scaffold(root, files, template.name, recorded, force)


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
            package = normalise_feature(project_name).snake
        except BadInput:
            raise BadInput(
                f"Project name '{project_name}' does not give a Python package name; "
                "pass one with --package, e.g. --package my_project."
            ) from None
    check_package(package)
    defaults = Config(None, config_mod.default_data(project_name, package))
    template = templates.find(PROJECT_TEMPLATE, None)
    context = {
        **_base_context(defaults.stages),
        "project_name": project_name,
        "package": package,
    }
    files = render.render(template, context)
    return build_scaffold(
        root, files, template.name, {"name": project_name, "package": package}, force
    )


def init_git(directory: Path) -> str:
    """Initialise a repository on ``main`` unless the folder is already inside one; say which."""
    from mlopsctl.core.git import repo

    if repo.toplevel(directory) is not None:
        return "git: already inside a repository; left as it is"
    repo.init(directory.absolute())
    return "git: initialised a repository on branch main"
