"""What ``mlopsctl stages`` reports: substages found and the state of their files."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core.config import Config, Stage
from mlopsctl.core.scaffold import record

_TEST = re.compile(r"^tests/(?:unit|integration|e2e)/test_(\d+)_(\d+)_(\w+)\.(?:py|sh)$")
_DOC = re.compile(r"^docs/\d+-[^/]+/(\d+)\.(\d+)-([a-z0-9-]+)-implementation\.md$")


@dataclass
class Substage:
    id: str
    stage: Stage
    feature: str | None
    files: dict[str, str] = field(default_factory=dict)  # path -> state

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage.number,
            "slug": self.stage.slug,
            "feature": self.feature,
            "files": [{"path": p, "state": s} for p, s in self.files.items()],
        }


def expected_files(stage: Stage, y: int, feature: str) -> list[str]:
    """The files of ``conventions.md`` §4 for one substage."""
    x, snake = stage.number, feature.replace("-", "_")
    return [
        f"{stage.docs_dir}/{x}.{y}-{feature}-implementation.md",
        f"{stage.docs_dir}/{x}.{y}-{feature}-testing.md",
        f"tests/unit/test_{x}_{y}_{snake}.py",
        f"tests/integration/test_{x}_{y}_{snake}.py",
        f"tests/e2e/test_{x}_{y}_complete_workflow.py",
        f"scripts/test/run_{x}_{y}_tests.sh",
    ]


def find(config: Config, paths: list[str]) -> list[Substage]:
    """Substages from the generation record and from files named by the convention."""
    root = config.require_root()
    stages = config.stages
    entries = record.load(root)
    found: dict[tuple[int, int], Substage] = {}

    def get(x: int, y: int, feature: str | None) -> Substage | None:
        if x not in stages:
            return None
        sub = found.setdefault((x, y), Substage(f"{x}.{y}", stages[x], feature))
        if sub.feature is None:
            sub.feature = feature
        return sub

    for entry in entries.values():
        sid = str(entry.parameters.get("substage", ""))
        if "." in sid:
            x, y = (int(p) for p in sid.split(".", 1))
            sub = get(x, y, entry.parameters.get("feature"))
            if sub is not None:
                sub.files[entry.path] = entry.state(root)
    for path in paths:
        m = _DOC.match(path)
        if m:
            get(int(m.group(1)), int(m.group(2)), m.group(3))
    for path in paths:
        m = _TEST.match(path)
        if m and m.group(3) != "complete_workflow":
            get(int(m.group(1)), int(m.group(2)), m.group(3).replace("_", "-"))
    for (x, y), sub in found.items():
        for path in expected_files(stages[x], y, sub.feature or stages[x].slug):
            sub.files.setdefault(path, "present" if (root / path).is_file() else "missing")
    return [found[k] for k in sorted(found)]


def summary(subs: list[Substage], root: Path) -> dict[str, Any]:
    return {"root": str(root), "substages": [s.as_dict() for s in subs]}
