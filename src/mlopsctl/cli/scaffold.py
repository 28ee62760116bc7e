"""``init``, ``new-stage``, ``stages`` and ``templates list``.

Scaffolding is what users time against cookiecutter or copier, so these handlers load Rich
only to print the plan, and Typer only for ``init``'s interactive name prompt.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlopsctl.cli.plain import emit_json

if TYPE_CHECKING:
    from mlopsctl.cli.commands import DestroyStage, Init, NewStage, Stages, TemplatesList, Update
    from mlopsctl.core.scaffold.create import Recovery, Scaffold


def _finish(
    sc: Scaffold, command: str, dry_run: bool, json_: bool, title: str,
    after: Callable[[], str] | None = None, lifecycle: bool = False,
) -> int:  # fmt: skip
    """Show the plan, stop on conflicts or dry-run, else apply it (then run ``after``).

    A conflict that stops the run is exit 3 with nothing written. ``lifecycle`` (update,
    destroy-stage): the table leaves out identical files, and files merged with conflict
    markers are written and make the exit code 3.
    """
    from mlopsctl.core.scaffold.plan import ensure_no_conflicts
    from mlopsctl.errors import Conflict

    plan = sc.plan
    written: list[str] = []
    stopped = bool(plan.conflicts or sc.foreign)  # --force never overwrites another's files
    if not stopped:
        sc.notes.extend(_new_requirements(sc, dry_run))
    if not stopped and not dry_run:
        written = sc.apply()
        if after is not None:
            sc.notes.append(after())
    marked = [a.path for a in plan.actions if a.action in ("conflicted", "unresolved")]
    blocking = [a.path for a in plan.conflicts]
    if json_:
        emit_json({**sc.as_dict(), "dry_run": dry_run, "written": written,
                   "conflicts": marked + blocking})  # fmt: skip
    else:
        from mlopsctl.cli import tables

        out = tables.console()
        shown = [a for a in plan.actions if not lifecycle or a.action != "identical"]
        if shown:
            out.print(tables.plan_table(type(plan)(plan.root, shown), title))
        verb = "stopped:" if stopped else ("would" if dry_run else "done:")
        out.print(f"{verb} {tables.counts_line(plan.counts())}")
        for note in sc.notes:
            out.print(note)
    if lifecycle and blocking:
        more = f" and {len(blocking) - 1} more" if len(blocking) > 1 else ""
        fix = (
            f"re-run `{command}` with --force to remove it anyway, or restore it first"
            if command.startswith("mlopsctl destroy-stage")
            else "move it aside and run update again, then carry your edits over by hand"
        )
        raise Conflict(
            f"{blocking[0]}{more}: edited since mlopsctl wrote it; nothing was changed: {fix}."
        )
    ensure_no_conflicts(plan, command, sc.foreign)
    if marked:
        more = f" and {len(marked) - 1} more" if len(marked) > 1 else ""
        if dry_run:
            raise Conflict(f"{marked[0]}{more} would get conflict markers.")
        raise Conflict(
            f"{marked[0]}{more} hold{'s' if not more else ''} conflict markers: edit them to "
            "keep what you want, remove the markers, then run update again."
        )
    return 0


def init(o: Init) -> int:
    from mlopsctl.core.scaffold import create

    directory = Path(o.directory)
    name = o.project_name
    if name is None and not o.json and sys.stdin.isatty() and sys.stdout.isatty():
        import typer

        name = typer.prompt("Project name", default=directory.absolute().name)
    with create.project_lock(directory) as recovery:
        sc = create.plan_init(directory, name=name, package=o.package, force=o.force)
        sc.notes.extend(_recovered(recovery))
        if not o.dry_run and not sc.plan.conflicts:
            sc.notes.append(_next_steps(directory, str(sc.parameters.get("name", ""))))
        after = None if o.no_git else (lambda: create.init_git(directory))
        return _finish(sc, "mlopsctl init", o.dry_run, o.json, f"init {o.directory}", after)


def _new_requirements(sc: Scaffold, dry_run: bool) -> list[str]:
    """A note when requirements.txt gains lines: the suites need them installed."""
    action = next((a for a in sc.plan.writes if a.path == "requirements.txt"), None)
    if action is None:
        return []
    target = sc.plan.root / "requirements.txt"
    before = set(target.read_text(errors="replace").splitlines()) if target.is_file() else set()
    lines = action.file.content.decode("utf-8", "replace").splitlines()
    added = [x.strip() for x in lines if x.strip() and not x.startswith("#") and x not in before]
    if not added or not before:
        return []
    verb = "would gain" if dry_run else "gained"
    return [
        f"requirements.txt {verb} {', '.join(added)}: install them before running the tests "
        "(`python -m pip install -r requirements.txt`)."
    ]


def _next_steps(directory: Path, name: str) -> str:
    where = directory.absolute()
    cd = "" if where == Path.cwd() else f"cd {where} && "
    return (
        f"project '{name}' is in {where}; next: `{cd}mlopsctl new-stage 6.1 monitoring-api` "
        "adds a substage, `mlopsctl hooks install` turns on the git hooks, `mlopsctl doctor` "
        "shows what production still needs."
    )


def _recovered(recovery: Recovery) -> list[str]:
    if not recovery.paths:
        return []
    return [f"finished the writes of an interrupted run first: {', '.join(recovery.paths)}"]


def new_stage(o: NewStage) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.scaffold import create

    cfg = config.load_project()
    if o.source is not None and (o.template is not None or o.sets or o.with_compose):
        from mlopsctl.errors import BadInput

        raise BadInput("--from copies a substage; it takes no --template, --set or --with-compose.")
    with create.project_lock(cfg.require_root()) as recovery:
        if o.source is not None:
            from mlopsctl.core.scaffold.clone import plan_clone

            sc = plan_clone(cfg, o.source, o.substage, o.feature, o.force)
        else:
            sc = create.plan_new_stage(
                cfg, o.substage, o.feature, o.template,
                create.parse_sets(o.sets), o.with_compose, o.force,
            )  # fmt: skip
        sc.notes.extend(_recovered(recovery))
        command = _new_stage_command(o)
        return _finish(sc, command, o.dry_run, o.json, f"new-stage {o.substage}")


def _new_stage_command(o: NewStage) -> str:
    """The whole command the user ran (the advice on a conflict repeats it, --set values
    of secret-named keys masked), without the flags the advice adds."""
    import shlex

    from mlopsctl.core.secrets import shown

    words = ["mlopsctl", "new-stage", o.substage]
    if o.feature is not None:
        words.append(o.feature)
    if o.source is not None:
        words += ["--from", o.source]
    if o.template is not None:
        words += ["--template", o.template]
    for item in o.sets:
        key, _, value = item.partition("=")
        words += ["--set", f"{key}={shown(key, value)}"]
    if o.with_compose:
        words.append("--with-compose")
    return shlex.join(words)


def update(o: Update) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.scaffold import create
    from mlopsctl.core.scaffold.update import plan_update

    cfg = config.load_project()
    with create.project_lock(cfg.require_root()) as recovery:
        sc = plan_update(cfg, o.substages, o.all)
        sc.notes.extend(_recovered(recovery))
        return _finish(sc, "mlopsctl update", o.dry_run, o.json, "update", lifecycle=True)


def destroy_stage(o: DestroyStage) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.scaffold import create
    from mlopsctl.core.scaffold.update import plan_destroy

    cfg = config.load_project()
    with create.project_lock(cfg.require_root()) as recovery:
        sc = plan_destroy(cfg, o.substage, o.force, recovered=recovery.interrupted)
        sc.notes.extend(_recovered(recovery))
        title = f"destroy-stage {o.substage}"
        return _finish(sc, f"mlopsctl {title}", o.dry_run, o.json, title, lifecycle=True)


def stages(o: Stages) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.git import repo
    from mlopsctl.core.scaffold import inventory

    cfg = config.load_project()
    root = cfg.require_root()
    from mlopsctl.core.scaffold.update import drift, update_command

    paths = repo.listed_files(root)
    subs = inventory.find(cfg, paths if paths is not None else repo.walk_files(root))
    behind = drift(cfg)
    for sub in subs:
        for item in behind.get(sub.id, []):
            if sub.files.get(item["path"]) in (None, "pristine", "modified"):
                sub.files[item["path"]] = "behind"
    if o.json:
        emit_json({**inventory.summary(subs, root), "behind": behind})
        return 0
    from rich.table import Table

    from mlopsctl.cli import tables

    out = tables.console()
    if not subs:
        out.print("No substages yet; add one with `mlopsctl new-stage X.Y FEATURE`.")
        return 0
    styles = {
        "pristine": "green", "present": "green", "modified": "yellow", "missing": "red",
        "behind": "magenta", "conflicted": "bold red",
    }  # fmt: skip
    table = Table(show_edge=False, pad_edge=False)
    for col in ("substage", "stage", "feature", "file", "state"):
        table.add_column(col, overflow="fold")
    for sub in subs:
        first = True
        for path, state in sub.files.items():
            table.add_row(
                sub.id if first else "",
                sub.stage.slug if first else "",
                (sub.feature or "") if first else "",
                path,
                f"[{styles.get(state, '')}]{state}[/]",
            )
            first = False
    out.print(table)
    if behind:
        out.print(
            f"behind the current templates: {', '.join(behind)}; run `{update_command(behind)}`."
        )
    return 0


def templates_list(o: TemplatesList) -> int:
    from mlopsctl.core import config
    from mlopsctl.core.scaffold import templates as tpl

    found = tpl.available(config.find_root())
    rows: list[dict[str, Any]] = [
        {
            "name": t.name,
            "kind": t.kind,
            "stages": list(t.stages),
            "description": t.description,
            "source": str(t.roots[0]),
            "parameters": [
                {"name": p.name, "type": p.type, "default": p.default, "help": p.help}
                for p in t.parameters.values()
            ],
        }
        for t in found
    ]
    if o.json:
        emit_json({"templates": rows})
        return 0
    from rich.table import Table

    from mlopsctl.cli import tables

    table = Table(show_edge=False, pad_edge=False)
    for col in ("template", "kind", "stages", "parameters", "description"):
        table.add_column(col)
    for r in rows:
        params = "\n".join(f"{p['name']}: {p['type']} = {p['default']!r}" for p in r["parameters"])
        stages_ = ", ".join(str(n) for n in r["stages"]) or "any"
        table.add_row(r["name"], r["kind"], stages_, params or "-", r["description"])
    tables.console().print(table)
    return 0
