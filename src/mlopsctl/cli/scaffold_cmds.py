"""``init`` and ``new-stage`` (work in :mod:`.scaffolding`), ``stages``, ``templates list``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlopsctl.cli import output, scaffolding
from mlopsctl.cli.options import DryRunOpt, JsonOpt
from mlopsctl.cli.report import emit_json
from mlopsctl.core import config as config_mod

ForceOpt = typer.Option(False, "--force", help="Overwrite files that differ.")


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        directory: Path = typer.Argument(Path(), help="Folder to create the project in."),
        name: str | None = typer.Option(
            None, "--name", help="Project name (default: the folder's name)."
        ),
        package: str | None = typer.Option(
            None, "--package", help="Python package (default: from the name)."
        ),
        no_git: bool = typer.Option(False, "--no-git", help="Do not initialise a git repository."),
        force: bool = ForceOpt,
        dry_run: bool = DryRunOpt,
        json_: bool = JsonOpt,
    ) -> None:
        """Create the root layout of an MLOps project, wired to the mlopsctl hooks."""
        if scaffolding.would_prompt(name, json_):
            name = typer.prompt("Project name", default=directory.absolute().name)
        scaffolding.init(directory, name, package, no_git, force, dry_run, json_)

    @app.command("new-stage")
    def new_stage(
        substage: str = typer.Argument(..., metavar="X.Y", help="Substage id, e.g. 6.1."),
        feature: str | None = typer.Argument(
            None, help="Feature name: monitoring-api, monitoring_api or 'Monitoring API'."
        ),
        template: str | None = typer.Option(
            None, "--template", help="Stage template (default: stage; see `templates list`)."
        ),
        sets: list[str] = typer.Option(
            [], "--set", help="Template parameter KEY=VALUE (repeatable)."
        ),
        with_compose: bool = typer.Option(
            False, "--with-compose", help="Also create docker/docker-compose.stage-<X>.yml."
        ),
        source: str | None = typer.Option(
            None,
            "--from",
            metavar="X.Y",
            help="Copy substage X.Y (as it is now) under the new number and name.",
        ),
        force: bool = ForceOpt,
        dry_run: bool = DryRunOpt,
        json_: bool = JsonOpt,
    ) -> None:
        """Add substage X.Y: docs, unit/integration/e2e tests, runner and the module they test.

        With --from, copy an existing substage instead, renaming files and identifiers.
        """
        scaffolding.new_stage(
            substage, feature, template, sets, with_compose, source, force, dry_run, json_
        )

    @app.command("stages")
    def stages(json_: bool = JsonOpt) -> None:
        """List the substages found in the project and the state of each expected file."""
        from mlopsctl.core import gitio
        from mlopsctl.core import stages as stages_mod

        cfg = config_mod.load_project()
        root = cfg.require_root()
        paths = gitio.listed_files(root)
        subs = stages_mod.find(cfg, paths if paths is not None else gitio.walk_files(root))
        if json_:
            emit_json(stages_mod.summary(subs, root))
            return
        from rich.table import Table

        out = output.console()
        if not subs:
            out.print("No substages yet; add one with `mlopsctl new-stage X.Y FEATURE`.")
            return
        styles = {"pristine": "green", "present": "green", "modified": "yellow", "missing": "red"}
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

    templates_app = typer.Typer(help="Inspect the templates init and new-stage render.")
    app.add_typer(templates_app, name="templates")

    @templates_app.command("list")
    def templates_list(json_: bool = JsonOpt) -> None:
        """Show the templates (project ones first) and their parameters."""
        from mlopsctl.core import templates as tpl

        found = tpl.available(config_mod.find_root())
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
        if json_:
            emit_json({"templates": rows})
            return
        from rich.table import Table

        table = Table(show_edge=False, pad_edge=False)
        for col in ("template", "kind", "stages", "parameters", "description"):
            table.add_column(col)
        for r in rows:
            params = "\n".join(
                f"{p['name']}: {p['type']} = {p['default']!r}" for p in r["parameters"]
            )
            stages = ", ".join(str(n) for n in r["stages"]) or "any"
            table.add_row(r["name"], r["kind"], stages, params or "-", r["description"])
        output.console().print(table)
