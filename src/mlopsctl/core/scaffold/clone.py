"""``new-stage 6.2 alerting --from 6.1``: copy a substage under a new number and name.

The substage's own files (those whose path names its number or feature; not the stage-wide
``__init__.py``, setup script or compose file) are copied as they are now, edits included,
with the number, the feature's spellings and, across stages, the stage's docs folder, module
and ``stage<N>`` renamed in paths and contents.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

from mlopsctl import __version__
from mlopsctl.core.config import Config
from mlopsctl.core.conventions.ids import Feature, SubstageId, normalise_feature, parse_substage
from mlopsctl.core.fs import inside, sha256
from mlopsctl.core.git import repo
from mlopsctl.core.scaffold import inventory, lifecycle, record
from mlopsctl.core.scaffold.create import Scaffold, check_module, stage_change
from mlopsctl.core.scaffold.render import RenderedFile
from mlopsctl.errors import BadInput

SHARED = re.compile(
    r"(^|/)__init__\.py$|^scripts/setup/setup_stage_\d+\.sh$|^docker/docker-compose\.stage-\d+\.yml$"
)


def _bounded(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(word)}(?![A-Za-z0-9])")


def renamer(
    package: str, src: SubstageId, old: Feature, dst: SubstageId, new: Feature
) -> Callable[[str], str]:
    """A function that rewrites a path or a text from the source substage to the target."""
    (x, y), (x2, y2) = (src.stage.number, src.number), (dst.stage.number, dst.number)
    rules: list[tuple[re.Pattern[str], str]] = []

    def literal(old_text: str, new_text: str) -> None:
        rules.append((re.compile(re.escape(old_text)), new_text))

    literal(
        f"{package}.{src.stage.module}.{old.snake}", f"{package}.{dst.stage.module}.{new.snake}"
    )
    literal(f"{src.stage.module}/{old.snake}", f"{dst.stage.module}/{new.snake}")
    if x != x2:
        literal(src.stage.docs_dir, dst.stage.docs_dir)
        literal(f"{package}.{src.stage.module}", f"{package}.{dst.stage.module}")
        literal(f"{package}/{src.stage.module}/", f"{package}/{dst.stage.module}/")
        rules.append((re.compile(rf"(?<![A-Za-z0-9])stage{x}(?![0-9])"), f"stage{x2}"))
    rules.append((re.compile(rf"(?<![0-9]){x}_{y}_"), f"{x2}_{y2}_"))
    rules.append((re.compile(rf"(?<![0-9.]){x}\.{y}(?![0-9])"), f"{x2}.{y2}"))
    # the default port of a service substage (8000 + 100*X + Y) follows the number
    rules.append(
        (re.compile(rf"(?<![0-9]){8000 + 100 * x + y}(?![0-9])"), str(8000 + 100 * x2 + y2))
    )
    if old.snake != new.snake:
        rules.append((_bounded(old.snake.upper()), new.snake.upper()))
        rules.append((_bounded(old.camel), new.camel))
        rules.append((_bounded(old.title), new.title))
        rules.append(
            (re.compile(rf"(?<![A-Za-z0-9]){re.escape(old.snake)}(?![A-Za-z0-9])"), new.snake)
        )
        rules.append((_bounded(old.kebab), new.kebab))

    # one pass over the text: a replacement is never renamed again (monitoring_api ->
    # monitoring_api_6_2 must not become monitoring_api_6_2_6_2); at one position the
    # earlier, more specific rule wins
    combined = re.compile("|".join(f"(?P<r{i}>{p.pattern})" for i, (p, _) in enumerate(rules)))
    replacements = {f"r{i}": r for i, (_, r) in enumerate(rules)}

    def rename(text: str) -> str:
        return combined.sub(lambda m: replacements[str(m.lastgroup)], text)

    return rename


def plan_clone(
    config: Config, source: str, target: str, feature: str | None = None, force: bool = False
) -> Scaffold:
    root = config.require_root()
    all_stages = config.stages
    src = parse_substage(source, all_stages)
    dst = parse_substage(target, all_stages)
    if str(src) == str(dst):
        raise BadInput(f"--from {source} names the substage being created; clone from another one.")
    listed = repo.listed_files(root)
    paths = listed if listed is not None else repo.walk_files(root)
    found = {s.id: s for s in inventory.find(config, paths)}
    if str(src) not in found or not found[str(src)].feature:
        raise BadInput(
            f"--from {source}: no substage {source} in this project (see mlopsctl stages)."
        )
    old = normalise_feature(found[str(src)].feature or "", reserved=False)
    # without a FEATURE the copy gets a name of its own (6.1 monitoring-api -> 6.5
    # monitoring-api-6-5): reusing 6.1's would put both substages in the same files
    new = normalise_feature(
        feature if feature is not None else f"{old.kebab}-{dst.stage.number}-{dst.number}"
    )
    check_module(config.package, dst.stage, new)
    rename = renamer(config.package, src, old, dst, new)
    x, y = src.stage.number, src.number
    tokens = (f"{x}_{y}_", f"{x}.{y}-", old.snake, old.kebab)
    rec = record.read(root)
    candidates = set(paths) | set(rec.entries)
    files = []
    pristine: set[str] = set()  # copies whose source is as mlopsctl wrote it
    for path in sorted(candidates):
        full = inside(root, path, "--from source")
        if not full.is_file() or SHARED.search(path) or not any(t in path for t in tokens):
            continue
        if path.startswith(".mlops/"):
            continue
        data = full.read_bytes()
        try:
            content = rename(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            content = data  # binary: copied as it is
        executable = os.access(full, os.X_OK)
        files.append(RenderedFile(rename(path), content, executable, "conflict"))
        entry = rec.entries.get(path)
        if entry is not None and entry.merge == "own" and sha256(data) == entry.sha256:
            pristine.add(rename(path))
    if not files:
        raise BadInput(f"--from {source}: found no files of substage {source} to copy.")
    source_inst = rec.instances.get(str(src))
    change = None
    if source_inst is not None and not source_inst.template.startswith("clone:"):
        change = _from_template(config, source_inst, files, src, dst, new, pristine)
    if change is None:
        change = _hand_made_copy(config, root, files, rename, old, new, dst)
        change.instance = record.Instance(
            str(dst), f"clone:{src}",
            {"substage": str(dst), "feature": new.kebab, "from": str(src)}, __version__,
        )  # fmt: skip
    outcome = lifecycle.plan(root, rec, {str(dst): change}, "create", force)
    inst = change.instance
    return Scaffold(outcome, inst.template, inst.parameters, list(outcome.notes))


def _from_template(
    config: Config, source_inst: record.Instance, files: list[RenderedFile],
    src: SubstageId, dst: SubstageId, new: Feature, pristine: set[str],
) -> lifecycle.Change | None:  # fmt: skip
    """The source's template rendered for the new substage (None when the template is not
    made for the target's stage).

    It is what the record keeps as base, so that `update` and `destroy-stage` work on the
    copy; the source's edited files, renamed, are written in place of the rendering, and a
    source file still as mlopsctl wrote it gives the copy the rendering itself (so the copy
    starts pristine).
    """
    sets = {k: v for k, v in source_inst.parameters.items() if k not in record.INSTANCE_KEYS}
    try:
        change = stage_change(config, str(dst), new.kebab, source_inst.template, sets)
    except BadInput:
        return None
    change.instance = record.Instance(
        str(dst), change.instance.template,
        {**change.instance.parameters, "from": str(src)}, change.instance.version,
    )  # fmt: skip
    by_path = {f.path: f for f in change.files}
    for f in files:
        made = by_path.get(f.path)
        if made is not None and made.existing == "conflict":
            if f.path not in pristine:
                change.overrides[f.path] = f
        elif made is None:
            change.unrecorded.append(f)
    return change


def _hand_made_copy(
    config: Config, root: Path, files: list[RenderedFile], rename: Callable[[str], str],
    old: Feature, new: Feature, dst: SubstageId,
) -> lifecycle.Change:  # fmt: skip
    """A copy of a substage no template recorded: its files are its own base."""
    package_init = f"src/{config.package}/{dst.stage.module}/__init__.py"
    if not (root / package_init).exists():
        text = f'"""Stage {dst.stage.number}: {dst.stage.title}."""\n'.encode()
        files.append(RenderedFile(package_init, text, False, "keep"))
    template = root / ".env.template"
    if template.is_file() and old.snake != new.snake:
        own = [
            rename(line) for line in template.read_text().splitlines()
            if line.startswith(f"{old.snake.upper()}_")
        ]  # fmt: skip
        if own:
            files.append(
                RenderedFile(".env.template", ("\n".join(own) + "\n").encode(), False, "append")
            )
    placeholder = record.Instance(str(dst), "", {}, __version__)
    return lifecycle.Change(placeholder, files)
