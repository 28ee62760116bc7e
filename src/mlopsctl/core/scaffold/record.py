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
    path = root / RECORD_PATH
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        return Record()
    except IsADirectoryError:
        raise _damaged("it is a folder") from None
    except OSError as exc:
        raise BadInput(f"Cannot read {RECORD_PATH} ({exc.strerror}).") from None
    try:
        raw = json.loads(raw_bytes.decode("utf-8"))
    except UnicodeDecodeError:
        raise _damaged("it is not UTF-8 text") from None
    except ValueError as exc:
        conflict = b"<<<<<<<" in raw_bytes
        raise _damaged(
            "it holds merge-conflict markers" if conflict else f"not JSON: {exc}"
        ) from None
    if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
        raise _damaged('it has no "files" mapping')
    v1 = raw.get("version", 1) == 1
    return _read_v1(root, raw["files"]) if v1 else _read_v2(root, raw)


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
        owner = str(params.get("substage") or PROJECT)
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
        rec.instances[owner] = Instance(
            owner, i["template"], i.get("parameters", {}), str(i.get("mlopsctl", "?"))
        )
    for p, e in raw["files"].items():
        ok = isinstance(e, dict) and _is_hash(e.get("sha256")) and e.get("merge", "own") in MERGES
        parts = e.get("parts") if ok else None
        if ok and parts is None:
            parts = [{"owner": e.get("owner", PROJECT), "sha256": e["sha256"]}]
        if not (
            ok
            and isinstance(parts, list)
            and parts
            and all(
                isinstance(x, dict)
                and isinstance(x.get("owner"), str)
                and _is_hash(x.get("sha256"))
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
            bool(e.get("conflict", False)),
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
