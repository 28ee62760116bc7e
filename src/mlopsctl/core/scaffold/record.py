"""The record of generated files under ``.mlops/generated.json``, and its content store.

The record names every template instance mlopsctl rendered into the project (``stages``: the
project itself and each substage, with template, parameters and the mlopsctl version that
last rendered it) and every file they produced (``files``): the hash of the content the
templates gave it when mlopsctl last wrote it (the *base* of a three-way merge), and, for a
file several instances share (requirements, ``.env.template``, monitoring targets, CI jobs),
how it is composed and the part each instance contributes. The contents themselves sit in a
content-addressed store, ``.mlops/objects/<sha256>``, committed with the record so that any
clone can update or destroy a stage.

Version 1 records (no ``stages``, no store) are still read: their instances are derived from
the files, and a file whose base is not in the store counts its current rendering as base.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core.fs import inside, sha256
from mlopsctl.errors import BadInput, one_line

RECORD_PATH = ".mlops/generated.json"
OBJECTS = ".mlops/objects"
PROJECT = "project"  # the owner key of the project template's instance
PRIOR = ""  # the owner of what a shared file held before mlopsctl first wrote it
INSTANCE_KEYS = ("substage", "feature", "from")  # recorded parameters that are not --set
MERGES = ("own", "keep", "lines", "blocks")
INSTANCE_FIELDS = {"template", "parameters", "mlopsctl"}
ENTRY_FIELDS = {"owner", "sha256", "merge", "parts", "conflict"}


@dataclass(frozen=True)
class Instance:
    """One rendering of a template into the project: the project, or a substage."""

    owner: str  # "project" or "X.Y"
    template: str
    parameters: dict[str, Any]
    version: str

    def as_json(self) -> dict[str, Any]:
        return {"template": self.template, "parameters": self.parameters, "mlopsctl": self.version}


@dataclass(frozen=True)
class Part:
    owner: str
    sha256: str


@dataclass(frozen=True)
class Entry:
    """A generated file: its base hash, how it is composed and from which parts."""

    path: str
    sha256: str  # what the templates gave it when mlopsctl last wrote it
    merge: str = "own"
    parts: tuple[Part, ...] = ()
    conflict: bool = False  # an update left conflict markers in it
    template: str = ""  # the first owner's, for readers of version 1
    parameters: dict[str, Any] = field(default_factory=dict)
    version: str = ""

    @property
    def owner(self) -> str:
        return self.parts[0].owner if self.parts else PROJECT

    @property
    def owners(self) -> list[str]:
        return [p.owner for p in self.parts if p.owner != PRIOR]

    def state(self, root: Path) -> str:
        target = root / self.path
        if not target.is_file():
            return "missing"
        data = target.read_bytes()
        if self.conflict and has_markers(data):
            return "conflicted"
        return "pristine" if sha256(data) == self.sha256 else "modified"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"owner": self.owner, "sha256": self.sha256}
        if self.merge != "own":
            out["merge"] = self.merge
            out["parts"] = [{"owner": p.owner, "sha256": p.sha256} for p in self.parts]
        if self.conflict:
            out["conflict"] = True
        return out


@dataclass
class Record:
    instances: dict[str, Instance] = field(default_factory=dict)
    entries: dict[str, Entry] = field(default_factory=dict)
    version: int = 2

    def owned_by(self, owner: str) -> list[Entry]:
        return [e for e in self.entries.values() if owner in e.owners]

    def dump(self) -> bytes:
        payload = {
            "version": 2,
            "stages": {o: i.as_json() for o, i in sorted(self.instances.items(), key=_order)},
            "files": {p: e.as_json() for p, e in sorted(self.entries.items())},
        }
        return (json.dumps(payload, indent=2) + "\n").encode("utf-8")


def _order(item: tuple[str, Instance]) -> tuple[int, int, int]:
    owner = item[0]
    if owner == PROJECT:
        return (0, 0, 0)
    x, _, y = owner.partition(".")
    return (1, int(x), int(y)) if x.isdigit() and y.isdigit() else (2, 0, 0)


def has_markers(data: bytes) -> bool:
    """Whether ``data`` holds a whole set of merge-conflict markers."""
    lines = data.split(b"\n")
    return any(x.startswith(b"<<<<<<< ") for x in lines) and any(
        x.startswith(b">>>>>>> ") for x in lines
    )


REPAIR = (
    "resolve the merge conflict in it, or restore it with "
    "`git checkout HEAD -- .mlops/generated.json`"
)


def _damaged(why: str) -> BadInput:
    return BadInput(f"{RECORD_PATH} is damaged ({why}); {REPAIR}. Nothing was changed.")


def _is_hash(value: object) -> bool:
    return (
        isinstance(value, str) and len(value) == 64 and all(c in "0123456789abcdef" for c in value)
    )


def read(root: Path) -> Record:
    """The whole record; one that cannot be read whole is bad input, never replaced.

    Every path in it must stay inside the project (the file is committed, so a pull request
    could plant one that does not).
    """
    for rel in (".mlops", RECORD_PATH, OBJECTS):
        if os.path.islink(root / rel):
            raise BadInput(
                f"{rel} is a symbolic link; mlopsctl keeps its record and store in the project "
                "and follows no link out of it: replace the link with what it names."
            )
    path = root / RECORD_PATH
    try:
        with open(path, "rb") as fh:
            raw_bytes = fh.read(MAX_RECORD + 1)
    except FileNotFoundError:
        return Record()
    except IsADirectoryError:
        raise _damaged("it is a folder") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {RECORD_PATH} ({exc.strerror}).") from None
    if len(raw_bytes) > MAX_RECORD:
        raise _damaged(f"it is larger than {MAX_RECORD // 2**20} MiB")
    try:
        raw = json.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise _damaged("it is not UTF-8 text") from None
    except RecursionError:
        raise _damaged("it is nested too deeply") from None
    except ValueError as exc:
        conflict = b"<<<<<<<" in raw_bytes
        raise _damaged(
            "it holds merge-conflict markers" if conflict else f"not JSON: {exc}"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        raise _damaged('it has no "files" mapping')
    version = raw.get("version", 1)
    if type(version) is not int or version not in (1, 2):
        shown = one_line(json.dumps(version))[:40]
        raise BadInput(
            f"{RECORD_PATH} has version {shown}, which this mlopsctl does not read (it reads 1 "
            "and 2); upgrade mlopsctl if a newer one wrote it, else restore it with "
            "`git checkout HEAD -- .mlops/generated.json`. Nothing was changed."
        )
    unknown = sorted(set(raw) - ({"version", "files"} if version == 1 else TOP_KEYS))
    if unknown:
        raise _damaged(f"it has a field this mlopsctl does not know, {one_line(unknown[0])[:40]}")
    return _read_v1(root, raw["files"]) if version == 1 else _read_v2(root, raw)


MAX_RECORD = 64 * 2**20
TOP_KEYS = {"version", "stages", "files"}
_OWNER = re.compile(r"[1-9][0-9]{0,2}\.[1-9][0-9]{0,3}")
MAX_VALUE = 1000  # characters of a recorded parameter's value


def _owner_ok(owner: object, prior: bool = False) -> bool:
    return isinstance(owner, str) and (
        owner == PROJECT or bool(_OWNER.fullmatch(owner)) or (prior and owner == PRIOR)
    )


def _check_instance(owner: str, template: str, params: dict[str, Any]) -> None:
    """A recorded instance as if its values were typed again: the record is committed, so a
    pull request could plant a name that generated code would run."""
    from mlopsctl.core.config import check_package, check_text
    from mlopsctl.core.conventions.ids import normalise_feature
    from mlopsctl.core.scaffold.templates import check_name

    where = f"{RECORD_PATH} stage '{one_line(owner)[:40]}'"
    if not _owner_ok(owner):
        raise _damaged(f"'{one_line(owner)[:40]}' is neither the project nor a substage X.Y")
    if template.startswith("clone:"):
        if not _OWNER.fullmatch(template[6:]):
            raise _damaged(f"{where} names template {one_line(template)[:40]}")
    elif template or owner == PROJECT:
        try:
            check_name(template)
        except BadInput:
            raise _damaged(f"{where} names template {one_line(template)[:40]}") from None
    for key, value in params.items():
        ok_key = isinstance(key, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", key)
        ok_value = (
            isinstance(value, (str, bool, int))
            or (isinstance(value, float) and value == value and abs(value) != float("inf"))
        ) and not (isinstance(value, str) and len(value) > MAX_VALUE)
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**15:
            ok_value = False
        if not (ok_key and ok_value):
            raise _damaged(f"{where} has a parameter {one_line(str(key))[:40]} of no safe value")
    try:
        if owner == PROJECT:
            check_text(str(params.get("name", "")), "Recorded project name")
            check_package(str(params.get("package", "")))
        else:
            feature = params.get("feature")
            if feature is not None and (
                not isinstance(feature, str)
                or normalise_feature(feature, reserved=False).kebab != feature
            ):
                raise BadInput(f"feature {one_line(str(feature))[:40]} is not a feature name")
            if params.get("substage", owner) != owner:
                raise BadInput("its substage differs from its key")
            src = params.get("from")
            if src is not None and not (isinstance(src, str) and _OWNER.fullmatch(src)):
                raise BadInput("its from is not a substage X.Y")
    except BadInput as exc:
        raise _damaged(f"{where}: {str(exc).rstrip('.')}") from None


def _read_v1(root: Path, files: dict[str, Any]) -> Record:
    rec = Record(version=1)
    for p, e in files.items():
        if not (
            isinstance(e, dict)
            and isinstance(e.get("template"), str)
            and _is_hash(e.get("sha256"))
            and isinstance(e.get("parameters", {}), dict)
            and isinstance(e.get("mlopsctl", "?"), str)
        ):
            raise _damaged(f"the entry of '{one_line(str(p))}' is not a file record")
        inside(root, p, f"{RECORD_PATH} entry")
        params = e.get("parameters", {})
        owner = params.get("substage") or PROJECT
        if not isinstance(owner, str):
            raise _damaged(f"the entry of '{one_line(str(p))}' is not a file record")
        if owner not in rec.instances:
            _check_instance(owner, e["template"], params)
        version = e.get("mlopsctl", "?")
        rec.instances.setdefault(owner, Instance(owner, e["template"], params, version))
        rec.entries[p] = Entry(
            p, e["sha256"], "own", (Part(owner, e["sha256"]),), False, e["template"], params,
            version,
        )  # fmt: skip
    return rec


def _read_v2(root: Path, raw: dict[str, Any]) -> Record:
    rec = Record()
    stages = raw.get("stages", {})
    if not isinstance(stages, dict):
        raise _damaged('its "stages" is not a mapping')
    for owner, i in stages.items():
        if not (
            isinstance(i, dict)
            and isinstance(i.get("template"), str)
            and isinstance(i.get("parameters", {}), dict)
        ):
            raise _damaged(f"the stage '{one_line(str(owner))}' is not a stage record")
        version = i.get("mlopsctl", "?")
        if not isinstance(version, str) or len(version) > 64 or set(i) - INSTANCE_FIELDS:
            raise _damaged(f"the stage '{one_line(str(owner))}' is not a stage record")
        _check_instance(owner, i["template"], i.get("parameters", {}))
        rec.instances[owner] = Instance(owner, i["template"], i.get("parameters", {}), version)
    for p, e in raw["files"].items():
        ok = (
            isinstance(e, dict)
            and _is_hash(e.get("sha256"))
            and e.get("merge", "own") in MERGES
            and type(e.get("conflict", False)) is bool
            and _owner_ok(e.get("owner", PROJECT), prior=True)
            and not set(e) - ENTRY_FIELDS
        )
        parts = e.get("parts") if ok else None
        if ok and parts is None:
            parts = [{"owner": e.get("owner", PROJECT), "sha256": e["sha256"]}]
        if not (
            ok
            and isinstance(parts, list)
            and parts
            and all(
                isinstance(x, dict)
                and _owner_ok(x.get("owner"), prior=True)
                and _is_hash(x.get("sha256"))
                and not set(x) - {"owner", "sha256"}
                for x in parts
            )
        ):
            raise _damaged(f"the entry of '{one_line(str(p))}' is not a file record")
        inside(root, p, f"{RECORD_PATH} entry")
        first = next((x["owner"] for x in parts if x["owner"] != PRIOR), PROJECT)
        inst = rec.instances.get(first)
        rec.entries[p] = Entry(
            p,
            e["sha256"],
            e.get("merge", "own"),
            tuple(Part(x["owner"], x["sha256"]) for x in parts),
            e.get("conflict", False),
            inst.template if inst else "",
            inst.parameters if inst else {},
            inst.version if inst else "?",
        )
    return rec


def load(root: Path) -> dict[str, Entry]:
    """The record's file entries (see :func:`read`)."""
    return read(root).entries


# --- the content store ----------------------------------------------------------------------


def stored(root: Path, digest: str) -> bytes | None:
    """The content stored under ``digest``, or None when the store lacks it (or it is
    damaged: a stored content is only used when its hash is right)."""
    try:
        data = (root / OBJECTS / digest).read_bytes()
    except OSError:
        return None
    return data if sha256(data) == digest else None


def object_path(digest: str) -> str:
    return f"{OBJECTS}/{digest}"


def referenced(rec: Record) -> set[str]:
    """The hashes the store must hold for ``rec``: every base, and every shared file's parts."""
    out = set()
    for e in rec.entries.values():
        out.add(e.sha256)
        if e.merge != "own":
            out.update(p.sha256 for p in e.parts)
    return out


def unreferenced(root: Path, rec: Record) -> list[str]:
    """Store entries ``rec`` no longer needs (paths relative to ``root``)."""
    folder = root / OBJECTS
    if not folder.is_dir() or folder.is_symlink():
        return []
    keep = referenced(rec)
    return sorted(
        object_path(name) for name in os.listdir(folder) if _is_hash(name) and name not in keep
    )
