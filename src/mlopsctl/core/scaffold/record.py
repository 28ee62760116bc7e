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
from mlopsctl.core.fs import sha256
from mlopsctl.core.scaffold.plan import Plan

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


def load(root: Path) -> dict[str, Entry]:
    path = root / RECORD_PATH
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}
    files = raw.get("files", {}) if isinstance(raw, dict) else {}
    return {
        p: Entry(p, e["template"], e.get("parameters", {}), e.get("mlopsctl", "?"), e["sha256"])
        for p, e in files.items()
        if isinstance(e, dict) and "template" in e and "sha256" in e
    }


def updated(root: Path, plan: Plan, template: str, parameters: dict[str, Any]) -> bytes | None:
    """The new record after ``plan`` is applied, or None when nothing in it changes."""
    entries = load(root)
    before = dict(entries)
    for action in plan.actions:
        if action.action in ("create", "overwrite", "identical"):
            digest = sha256(action.file.content)
            old = entries.get(action.path)
            if action.action == "identical" and old is not None and old.sha256 == digest:
                continue
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
