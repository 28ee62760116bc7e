"""``update``, ``destroy-stage`` and drift: the recorded instances against the templates now."""

from __future__ import annotations

from typing import Any

from mlopsctl.core.config import Config
from mlopsctl.core.conventions.ids import parse_substage
from mlopsctl.core.scaffold import create, lifecycle, record
from mlopsctl.core.scaffold.create import Scaffold
from mlopsctl.core.scaffold.plan import Plan
from mlopsctl.errors import BadInput

# what an update would do to a file that is not "in step"
BEHIND = ("create", "update", "merge", "conflicted", "remove", "overwrite", "conflict")


def render_instance(config: Config, inst: record.Instance) -> lifecycle.Change | None:
    """``inst`` rendered from the templates there are now, with its recorded parameters
    (None for a copy of hand-made files, which no template renders)."""
    root = config.require_root()
    if inst.owner == record.PROJECT:
        name = str(inst.parameters.get("name", config.name))
        package = str(inst.parameters.get("package", config.package))
        return create.project_change(root, name, package)
    if inst.template.startswith("clone:") or not inst.template:
        return None
    from mlopsctl.core.scaffold import templates

    template = templates.find(inst.template, root)
    sets = {
        k: v
        for k, v in inst.parameters.items()
        if k not in record.INSTANCE_KEYS and k in template.parameters
    }
    change = create.stage_change(
        config, inst.owner, str(inst.parameters.get("feature", "")), inst.template, sets
    )
    if "from" in inst.parameters:
        params = {**change.instance.parameters, "from": inst.parameters["from"]}
        change.instance = record.Instance(
            inst.owner, change.instance.template, params, change.instance.version
        )
    return change


def _selected(rec: record.Record, ids: list[str], all_: bool, config: Config) -> list[str]:
    if ids:
        owners = []
        for text in ids:
            owner = str(parse_substage(text, config.stages))
            if owner not in rec.instances:
                raise BadInput(
                    f"Substage {owner} has no record of its template; `mlopsctl stages` lists "
                    "the substages mlopsctl made."
                )
            owners.append(owner)
        return owners
    owners = [o for o in rec.instances if o != record.PROJECT]
    if all_ and record.PROJECT in rec.instances:
        owners.insert(0, record.PROJECT)
    return owners


def plan_update(config: Config, ids: list[str], all_: bool = False) -> Scaffold:
    root = config.require_root()
    rec = record.read(root)
    if not rec.instances:
        raise BadInput(
            f"{record.RECORD_PATH} records no template; update works on what `mlopsctl init` "
            "and `new-stage` made."
        )
    changes: dict[str, lifecycle.Change | None] = {}
    notes = []
    for owner in _selected(rec, ids, all_, config):
        change = render_instance(config, rec.instances[owner])
        if change is None:
            notes.append(f"{owner} was copied from hand-made files; no template to update from.")
            continue
        changes[owner] = change
    outcome = lifecycle.plan(root, rec, changes, "update")
    if rec.version == 1:
        notes.append(
            "the record predates the content store: the current rendering counts as what "
            "mlopsctl last wrote."
        )
    return Scaffold(outcome, "update", {"stages": list(changes)}, notes + outcome.notes)


def plan_destroy(
    config: Config, substage: str, force: bool = False, recovered: bool = False
) -> Scaffold:
    """``recovered``: an interrupted run was just finished (perhaps this very destroy), so a
    substage no longer recorded is done, not unknown."""
    root = config.require_root()
    owner = str(parse_substage(substage, config.stages))
    rec = record.read(root)
    if owner not in rec.instances and recovered:
        return Scaffold(
            lifecycle.Outcome(Plan(root), None), "destroy", {"substage": owner},
            [f"substage {owner} is no longer in {record.RECORD_PATH}: nothing left to remove."],
        )  # fmt: skip
    if owner not in rec.instances:
        raise BadInput(
            f"Substage {owner} is not in {record.RECORD_PATH}, so there is nothing of it to "
            "remove; `mlopsctl stages` lists the substages mlopsctl made."
        )
    outcome = lifecycle.plan(root, rec, {owner: None}, "destroy", force)
    return Scaffold(outcome, "destroy", {"substage": owner}, list(outcome.notes))


def drift(config: Config) -> dict[str, list[dict[str, Any]]]:
    """Per recorded substage (and the project), the files an update would change."""
    root = config.require_root()
    rec = record.read(root)
    out: dict[str, list[dict[str, Any]]] = {}
    for owner, inst in rec.instances.items():
        try:
            change = render_instance(config, inst)
        except BadInput:
            change = None
        if change is None:
            continue
        outcome = lifecycle.plan(root, rec, {owner: change}, "update")
        behind = [
            {"path": a.path, "action": a.action}
            for a in outcome.plan.actions
            if a.action in BEHIND and owner in outcome.owners.get(a.path, [owner])
        ]
        if behind:
            out[owner] = behind
    return out


def update_command(behind: dict[str, list[dict[str, Any]]]) -> str:
    """The command(s) that bring the substages (and project) of ``behind`` up to date."""
    stages = sorted(o for o in behind if o != record.PROJECT)
    fixes = [f"mlopsctl update {' '.join(stages)}"] if stages else []
    if record.PROJECT in behind:
        fixes.append("mlopsctl update --all")
    return " && ".join(fixes)
