"""One planner for every command that changes generated files: ``init``, ``new-stage``,
``update`` and ``destroy-stage``.

Each command names the template instances it changes (an instance is the project or one
substage) and gives each its new rendering, or None to take it away. The planner recomputes
every file those instances contribute to from the record's parts (:mod:`.shared`), then
decides per file against what mlopsctl last wrote (the *base*, from the content store):

- a pristine file takes the new text;
- an edited file is merged three ways (base, the user's file, the new text);
- a file no longer generated is removed when pristine;
- ``create`` mode (``init``, ``new-stage``) never removes and stops on any overlap: an
  existing file that differs is a conflict unless forced, a file of another substage is
  never overwritten;
- ``update`` mode leaves conflict markers, keeps deleted files deleted and edited orphans;
- ``destroy`` mode stops on edited files unless forced.

The result is a :class:`~.plan.Plan` plus the new record and the store's changes, applied in
one journaled, all-or-nothing step.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.core.fs import inside, sha256
from mlopsctl.core.scaffold import record as rec_mod
from mlopsctl.core.scaffold import shared
from mlopsctl.core.scaffold.plan import FileAction, Plan
from mlopsctl.core.scaffold.record import PRIOR, Entry, Instance, Part, Record
from mlopsctl.core.scaffold.render import RenderedFile

KIND = {"conflict": "own", "keep": "keep", "append": "lines", "blocks": "blocks"}
CONFIG_FILE = "mlops.yaml"


def _check_config(content: bytes) -> None:
    """The project config a plan would write must still load (a substage's block appended to
    the mlops.yaml of an older project template might not): else nothing is written."""
    from mlopsctl.core import config, yamlcache
    from mlopsctl.errors import BadInput

    try:
        config.validate(yamlcache.safe_load(content.decode("utf-8", "replace"), CONFIG_FILE))
    except BadInput as exc:
        raise BadInput(
            f"the mlops.yaml this would write does not load ({str(exc).rstrip('.')}); add the "
            "substage's settings to mlops.yaml by hand (a project from an older mlopsctl: run "
            "`mlopsctl update --all` first). Nothing was written."
        ) from None


@dataclass
class Change:
    """An instance's new rendering."""

    instance: Instance
    files: list[RenderedFile]
    # content written instead of the rendering (``--from``: the source's files as they are);
    # the rendering is still what the record keeps as base
    overrides: dict[str, RenderedFile] = field(default_factory=dict)
    unrecorded: list[RenderedFile] = field(default_factory=list)  # written, not recorded


@dataclass
class Outcome:
    plan: Plan
    record_bytes: bytes | None  # None: the record does not change
    objects: dict[str, bytes] = field(default_factory=dict)  # store paths to write
    drop: list[str] = field(default_factory=list)  # store paths to remove
    foreign: dict[str, str] = field(default_factory=dict)  # path -> the substage it belongs to
    notes: list[str] = field(default_factory=list)
    owners: dict[str, list[str]] = field(default_factory=dict)  # path -> owners it concerns

    @property
    def changes_anything(self) -> bool:
        return bool(self.plan.writes or self.plan.removals or self.record_bytes is not None)

    def extra(self) -> dict[str, bytes]:
        """Store writes, then the record (last, as :func:`~.plan.apply` requires)."""
        out = dict(self.objects)
        if self.record_bytes is not None:
            out[rec_mod.RECORD_PATH] = self.record_bytes
        return out

    def apply(self) -> list[str]:
        from mlopsctl.core.scaffold import plan as plan_mod

        if not self.changes_anything:
            return []
        done = plan_mod.apply(self.plan, self.extra(), self.drop)
        return [p for p in done if not p.startswith(rec_mod.OBJECTS + "/")]


def _read(target: Path) -> bytes | None:
    return target.read_bytes() if target.is_file() else None


def plan(
    root: Path,
    rec: Record,
    changes: dict[str, Change | None],
    mode: str,
    force: bool = False,
) -> Outcome:
    rendered: dict[str, dict[str, RenderedFile]] = {}  # path -> owner -> rendered file
    for owner, ch in changes.items():
        for f in ch.files if ch else []:
            rendered.setdefault(f.path, {})[owner] = f
    paths = set(rendered)
    for owner in changes:
        paths.update(e.path for e in rec.owned_by(owner))
    entries = dict(rec.entries)
    blobs: dict[str, bytes] = {}
    out = Outcome(Plan(root), None)
    actions = out.plan.actions
    legacy = False

    def act(path: str, action: str, content: bytes = b"", executable: bool = False) -> None:
        actions.append(FileAction(path, action, RenderedFile(path, content, executable, "")))

    for path in sorted(paths):
        old = rec.entries.get(path)
        wanted = rendered.get(path, {})
        first = next(iter(wanted.values()), None)
        kinds = [KIND[f.existing] for f in wanted.values()] + ([old.merge] if old else [])
        # a file is shared when any of its makers says so (the project's requirements.txt
        # is its own until a stage template appends to it)
        kind = next((k for k in kinds if k != "own"), "own")
        executable = first.executable if first is not None else False
        target = inside(root, path, "template output")
        out.owners[path] = sorted({*wanted, *(old.owners if old else [])})
        if target.is_dir():
            act(path, "conflict")
            continue
        current = _read(target)
        parts = list(old.parts) if old else []
        for owner, ch in changes.items():
            made = wanted.get(owner)
            at = next((i for i, p in enumerate(parts) if p.owner == owner), None)
            if made is None:
                if at is not None and (ch is None or mode != "create"):
                    del parts[at]
                continue
            digest = sha256(made.content)
            blobs[digest] = made.content
            if at is None:
                parts.append(Part(owner, digest))
            else:
                parts[at] = Part(owner, digest)
        if kind == "own" and wanted and old is not None and old.owner not in changes:
            out.foreign[path] = old.owner
            act(path, "conflict")
            continue
        prior_added = False
        if old is None and current is not None and kind in ("lines", "keep"):
            parts.insert(0, Part(PRIOR, sha256(current)))
            blobs[sha256(current)] = current
            prior_added = True
        base = None
        if old is not None:
            base = rec_mod.stored(root, old.sha256)
            if base is None and current is not None and sha256(current) == old.sha256:
                base = current
            if base is not None:
                blobs[old.sha256] = base
        if not parts:  # no longer generated
            entries.pop(path, None)
            pristine = old is not None and current is not None and sha256(current) == old.sha256
            dropped = decide_dropped(current, pristine, mode, force)
            if dropped is not None:
                act(path, dropped)
            continue
        fragments = []
        for p in parts:
            frag = blobs.get(p.sha256)
            if frag is None:
                frag = rec_mod.stored(root, p.sha256)
            if frag is None and old is not None and p.sha256 == old.sha256:
                frag = base
            if frag is None:
                break
            blobs[p.sha256] = frag
            fragments.append(frag)
        if len(fragments) < len(parts):
            out.notes.append(
                f"{path}: the store lacks a part of it (a record from an older mlopsctl); "
                "left as it is."
            )
            act(path, "identical" if current is not None else "deleted")
            continue
        new = shared.compose(kind, fragments)
        blobs[sha256(new)] = new
        override = next((ch.overrides[path] for ch in changes.values()
                         if ch and path in ch.overrides), None)  # fmt: skip
        write = override.content if override is not None else new
        state = FileState(
            recorded=old is not None, current=current, base=base, new=new, write=write,
            kind=kind, kept_prior=prior_added, rendering=first.content if first else None,
            flagged=bool(old and old.conflict),
            pristine=bool(old and current is not None and sha256(current) == old.sha256),
        )  # fmt: skip
        decision = decide(state, mode, force, path)
        if path == CONFIG_FILE and decision.content and not decision.conflict:
            _check_config(decision.content)
        legacy = legacy or decision.legacy
        act(path, decision.action, decision.content or b"", executable)
        conflict_flag = decision.conflict
        entries[path] = Entry(path, sha256(new), kind, tuple(parts), conflict_flag)
    for ch in changes.values():
        for f in ch.unrecorded if ch else []:
            current = _read(inside(root, f.path, "file"))
            if current is None:
                act(f.path, "create", f.content, f.executable)
            elif current != f.content:
                act(f.path, "overwrite" if force else "conflict", f.content, f.executable)
    if legacy:
        out.notes.append(
            "the record predates the content store: for files edited since, the current "
            "rendering counts as what mlopsctl last wrote."
        )
    actions.sort(key=lambda a: a.path)
    if out.plan.conflicts or out.foreign:
        return out
    _finish_record(root, rec, changes, entries, blobs, out)
    return out


# --- the decision: what happens to one file, given its state ---------------------------------


@dataclass(frozen=True)
class FileState:
    """Everything the decision for one generated file looks at, gathered by :func:`plan`."""

    recorded: bool  # the record names the file (mlopsctl wrote it before)
    current: bytes | None  # what the file holds now (None: not there)
    base: bytes | None  # what mlopsctl last wrote, from the store (None: unknown)
    new: bytes  # the templates' rendering now, shared parts composed
    write: bytes  # what a write puts there (``new``, or a --from copy's own text)
    kind: str = "own"  # own, keep, lines or blocks
    kept_prior: bool = False  # a "keep" file that was there before mlopsctl
    rendering: bytes | None = None  # the first maker's own rendering (for kept files)
    flagged: bool = False  # the record says an update left conflict markers in it
    pristine: bool = False  # the file's hash is the recorded one (even where base is unknown)


@dataclass(frozen=True)
class Decision:
    action: str
    content: bytes | None = None  # what to write (None: nothing, or keep what is there)
    conflict: bool = False  # the file keeps conflict markers (the record flags it)
    legacy: bool = False  # the base was unknown and guessed (a record before the store)


Merge = Callable[[bytes, bytes, bytes, str], tuple[bytes, bool]]


def decide(
    s: FileState, mode: str, force: bool, path: str = "", merge: Merge = shared.merge3
) -> Decision:
    """The action for a file that is still generated (pure but for ``merge``, a three-way
    merge that git runs). ``mode``: create (init, new-stage), update or destroy."""
    current, write = s.current, s.write
    if not s.recorded:
        if current is None:
            return Decision("create", write)
        if s.kept_prior and s.kind == "keep":  # the file there is kept; is it the rendering?
            return Decision("identical" if current == s.rendering else "keep", current)
        if current == write:
            return Decision("identical", current)
        if s.kind == "lines":
            return Decision("update", s.new)
        return Decision("overwrite" if force else "conflict", write)
    if current is None:
        return Decision("create", write) if mode == "create" else Decision("deleted")
    if mode == "update" and s.flagged and rec_mod.has_markers(current):
        return Decision("unresolved", current, conflict=True)
    base, legacy = s.base, False
    if base is None:
        legacy = True
        base = current if s.pristine else s.new
    if current == write:
        return Decision("identical", current, legacy=legacy)
    if current == base:
        return Decision("update", write, legacy=legacy)
    if mode == "create" and s.kind == "own":
        return Decision("overwrite" if force else "conflict", write, legacy=legacy)
    if s.new == base:
        return Decision("modified", current, legacy=legacy)
    if s.kind == "blocks" and s.new.startswith(base):
        # a block added at the end: it goes after whatever the user has at the end too (a
        # three-way merge would call two additions at the end a conflict)
        gap = b"\n" if current and not current.endswith(b"\n") else b""
        return Decision("merge", current + gap + s.new[len(base) :], legacy=legacy)
    merged, conflicts = merge(base, current, s.new, path)
    if not conflicts:
        return Decision("merge", merged, legacy=legacy)
    if mode == "update":
        return Decision("conflicted", merged, conflict=True, legacy=legacy)
    return Decision("overwrite" if force else "conflict", s.new, legacy=legacy)


def decide_dropped(current: bytes | None, pristine: bool, mode: str, force: bool) -> str | None:
    """The action for a file no template generates any more (None: nothing to do)."""
    if current is None:
        return None
    if pristine or (mode == "destroy" and force):
        return "remove"
    return "conflict" if mode == "destroy" else "orphan"


def _finish_record(
    root: Path,
    rec: Record,
    changes: dict[str, Change | None],
    entries: dict[str, Entry],
    blobs: dict[str, bytes],
    out: Outcome,
) -> None:
    instances = dict(rec.instances)
    for owner, ch in changes.items():
        if ch is None:
            instances.pop(owner, None)
            continue
        old = instances.get(owner)
        same = old is not None and (old.template, old.parameters) == (
            ch.instance.template,
            ch.instance.parameters,
        )
        moved = any(
            a.action not in ("identical", "keep") and owner in out.owners.get(a.path, [])
            for a in out.plan.actions
        )
        if not same or moved:
            instances[owner] = ch.instance
    new = Record(instances, entries)
    # version 1 records migrate: pristine files give the store their base
    for e in entries.values():
        if e.sha256 not in blobs and rec_mod.stored(root, e.sha256) is None:
            data = _read(root / e.path)
            if data is not None and sha256(data) == e.sha256:
                blobs[e.sha256] = data
    dumped = new.dump()
    try:
        before = (root / rec_mod.RECORD_PATH).read_bytes()
    except OSError:
        before = None
    if dumped != before:
        out.record_bytes = dumped
    needed = rec_mod.referenced(new)
    out.objects = {
        rec_mod.object_path(h): blobs[h]
        for h in sorted(needed)
        if h in blobs and not (root / rec_mod.object_path(h)).is_file()
    }
    if out.record_bytes is not None:
        out.drop = rec_mod.unreferenced(root, new)
