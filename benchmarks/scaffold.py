"""Time `mlopsctl new-stage` and `mlopsctl init` against cookiecutter on the same files.

The cookiecutter templates are made from mlopsctl's own packaged templates (the same files,
the same contents, variables spelled `cookiecutter.NAME`), so both tools render identical
output. Every sample runs in a fresh folder; samples alternate between the tools.

Usage: python benchmarks/create.py [--rounds N]   (needs: pip install cookiecutter)
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import ENV, MLOPSCTL, report, sample_alternately, time_command

from mlopsctl.core.config import Config, default_data
from mlopsctl.core.proc import find_tool
from mlopsctl.core.scaffold import create, render, templates

COOKIECUTTER = find_tool("cookiecutter")
VAR = re.compile(r"\{\{\s*([a-z_]+)")
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)


def to_cookiecutter(text: str, names: list[str]) -> str:
    """mlopsctl's Jinja with every context name spelled ``cookiecutter.NAME``."""
    word = re.compile(r"(?<![.\w])(" + "|".join(names) + r")\b(?!\s*=)")
    return JINJA.sub(lambda m: word.sub(r"cookiecutter.\1", m.group(0)), text)


def stage_context() -> dict[str, object]:
    stage = Config(None, default_data()).stages[6]
    return {
        "mlopsctl_version": "bench", "python_version": "3.11", "project_name": "demo",
        "package": "demo", "stage": 6, "substage": 1, "stage_id": "6.1",
        "stage_slug": stage.slug, "stage_title": stage.title, "stage_module": stage.module,
        "docs_dir": stage.docs_dir, "feature": "monitoring-api", "feature_snake": "monitoring_api",
        "feature_title": "Monitoring Api", "feature_class": "MonitoringApi", "with_compose": True,
        "template_name": "stage",
    }  # fmt: skip


def cookiecutter_stage(dest: Path) -> Path:
    """The packaged stage template as a cookiecutter template (every file, compose included)."""
    t = templates.find("stage", None)
    ctx = stage_context()
    root = dest / "cc-stage"
    body = root / "{{cookiecutter.project}}"
    # the docs are rendered from the other files' results, which cookiecutter cannot do: it
    # gets mlopsctl's rendering of them as plain files to copy (less work on its side)
    described = {f.path: f.content for f in render.render(t, ctx)}
    verbatim = []
    for src in t.sources():
        rel = VAR.sub(r"{{ cookiecutter.\1", src.removesuffix(".j2"))
        target = body / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        opts = t.files.get(src.removesuffix(".j2"))
        if opts is not None and opts.describes:
            done = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: str(ctx[m.group(1)]), src)
            target.write_bytes(described[done.removesuffix(".j2")])
            verbatim.append(rel)
            continue
        text = t.source_path(src).read_text()
        target.write_text(to_cookiecutter(text, list(ctx)) if src.endswith(".j2") else text)
    (root / "cookiecutter.json").write_text(
        json.dumps(
            {
                "project": "demo",
                **{k: str(v) for k, v in ctx.items()},
                "_copy_without_render": verbatim,
            }
        )
    )
    return root


def cookiecutter_project(dest: Path) -> Path:
    """The packaged project template, pre-expanded (its loops) and re-parameterised."""
    project = dest / "expanded"
    sc = create.plan_init(project, name="COOKIE_NAME", package="cookie_pkg")
    root = dest / "cc-project"
    body = root / "{{cookiecutter.project}}"
    verbatim = []
    for action in sc.plan.actions:
        rel = action.path.replace("cookie_pkg", "{{ cookiecutter.package }}")
        text = action.file.content.decode()
        if any(tag in text for tag in ("{{", "{%", "{#")):
            verbatim.append(rel)
        text = text.replace("COOKIE_NAME", "{{ cookiecutter.project_name }}")
        text = text.replace("cookie_pkg", "{{ cookiecutter.package }}")
        target = body / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    spec = {
        "project": "demo",
        "project_name": "demo",
        "package": "demo",
        "_copy_without_render": verbatim,
    }
    (root / "cookiecutter.json").write_text(json.dumps(spec))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not MLOPSCTL or not COOKIECUTTER:
        sys.exit("needs mlopsctl and cookiecutter on PATH: pip install . cookiecutter")
    work = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-"))
    cold_cache = work / "cold-cache"
    try:
        cc_stage = cookiecutter_stage(work)
        cc_project = cookiecutter_project(work)
        pristine = work / "pristine"
        subprocess.run([MLOPSCTL, "init", str(pristine), "--no-git", "--name", "demo"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip

        def fresh(tag: str, i: int) -> Path:
            out = work / f"{tag}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            return out

        def new_stage(i: int, env: dict[str, str] | None = None) -> float:
            proj = fresh("ns", i)
            shutil.copytree(pristine, proj)
            cmd = [MLOPSCTL, "new-stage", "6.1", "monitoring-api", "--with-compose"]
            return time_command(cmd, cwd=proj, env=env)

        def new_stage_cold(i: int) -> float:
            shutil.rmtree(cold_cache, ignore_errors=True)
            return new_stage(i, {**ENV, "XDG_CACHE_HOME": str(cold_cache)})

        def cc(template: Path, tag: str) -> object:
            def run(i: int) -> float:
                out = fresh(tag, i)
                return time_command([COOKIECUTTER, "--no-input", "-o", str(out), str(template)])

            return run

        def init(i: int) -> float:
            return time_command(
                [MLOPSCTL, "init", str(fresh("init", i)), "--no-git", "--name", "demo"]
            )

        stage_files = len(list((cc_stage / "{{cookiecutter.project}}").rglob("*.*")))
        samples = sample_alternately(
            {
                f"cookiecutter, stage template ({stage_files} files)": cc(cc_stage, "ccs"),  # type: ignore[dict-item]
                "mlopsctl new-stage 6.1 (warm template cache)": new_stage,
                "mlopsctl new-stage 6.1 (cold template cache)": new_stage_cold,
            },
            args.rounds,
        )
        report("new-stage vs cookiecutter (same files, same contents)", samples,
               f"cookiecutter, stage template ({stage_files} files)")  # fmt: skip
        project_files = len(
            [p for p in (cc_project / "{{cookiecutter.project}}").rglob("*") if p.is_file()]
        )
        samples = sample_alternately(
            {
                f"cookiecutter, project template ({project_files} files)": cc(cc_project, "ccp"),  # type: ignore[dict-item]
                "mlopsctl init --no-git": init,
            },
            args.rounds,
        )
        report("init vs cookiecutter (same files, same contents)", samples,
               f"cookiecutter, project template ({project_files} files)")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
