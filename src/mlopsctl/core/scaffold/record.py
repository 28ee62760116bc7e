"""The record of generated files under ``.mlops/generated.json``.

Every file ``init`` and ``new-stage`` write is recorded with its template, parameters, the
mlopsctl version and a hash of the content as written, so that later commands can tell
pristine files from edited or missing ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlopsctl import __version__
from mlopsctl.core.fs import inside, sha256
from mlopsctl.core.scaffold.plan import Plan
from mlopsctl.errors import BadInput, one_line

RECORD_PATH = ".mlops/generated.json"


@dataclass(frozen=True)
class Entry:
    path: str
    template: str
    parameters: dict[str, Any]
    version: str
    sha256: str

    def state(self, root: Path) -> str:
        target = root / self.path
        if not target.is_file():
            return "missing"
        return "pristine" if sha256(target.read_bytes()) == self.sha256 else "modified"


REPAIR = (
    "resolve the merge conflict in it, or restore it with "
    "`git checkout HEAD -- .mlops/generated.json`"
)


def _damaged(why: str) -> BadInput:
    return BadInput(f"{RECORD_PATH} is damaged ({why}); {REPAIR}. Nothing was changed.")


def load(root: Path) -> dict[str, Entry]:
    """The record's entries; a record that cannot be read whole is bad input, never replaced.

    Every path in it must stay inside the project (the file is committed, so a pull request
    could plant one that does not).
    """
    path = root / RECORD_PATH
    try:
        raw_bytes = path.read_bytes()
    except FileNotFoundError:
        return {}
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
    entries = {}
    for p, e in raw["files"].items():
        if not (
            isinstance(e, dict)
            and isinstance(e.get("template"), str)
            and isinstance(e.get("sha256"), str)
            and len(e["sha256"]) == 64
            and isinstance(e.get("parameters", {}), dict)
            and isinstance(e.get("mlopsctl", "?"), str)
        ):
            raise _damaged(f"the entry of '{one_line(str(p))}' is not a file record")
        inside(root, p, f"{RECORD_PATH} entry")
        entries[p] = Entry(
            p, e["template"], e.get("parameters", {}), e.get("mlopsctl", "?"), e["sha256"]
        )
    return entries


def updated(root: Path, plan: Plan, template: str, parameters: dict[str, Any]) -> bytes | None:
    """The new record after ``plan`` is applied, or None when nothing in it changes."""
    entries = load(root)
    before = dict(entries)
    for action in plan.actions:
        if action.action not in ("create", "overwrite", "identical", "update"):
            continue
        digest = sha256(action.file.content)
        old = entries.get(action.path)
        if old is not None and old.sha256 == digest:
            continue
        if action.action == "update" and old is not None:
            # lines appended to a file another template made: it stays that template's,
            # with the content as mlopsctl left it (so it still reads as pristine)
            entries[action.path] = Entry(
                action.path, old.template, old.parameters, __version__, digest
            )
        else:
            entries[action.path] = Entry(action.path, template, parameters, __version__, digest)
    if entries == before and (root / RECORD_PATH).exists():
        return None
    payload = {
        "version": 1,
        "files": {
            p: {
                "template": e.template,
                "parameters": e.parameters,
                "mlopsctl": e.version,
                "sha256": e.sha256,
            }
            for p, e in sorted(entries.items())
        },
    }
    return (json.dumps(payload, indent=2, sort_keys=False) + "\n").encode("utf-8")
