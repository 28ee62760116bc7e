"""The release history: every deploy and rollback, in SQLite under ``.mlops/state/``."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DB_PATH = ".mlops/state/releases.db"
SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    version TEXT NOT NULL,
    action TEXT NOT NULL,          -- deploy or rollback
    strategy TEXT NOT NULL,        -- script or blue-green
    outcome TEXT NOT NULL,         -- success or failed
    colour TEXT,
    started_at REAL NOT NULL,
    duration REAL NOT NULL,
    user TEXT NOT NULL,
    git_commit TEXT,
    image_ids TEXT NOT NULL DEFAULT '[]',
    message TEXT NOT NULL DEFAULT ''
)
"""


@dataclass
class Release:
    environment: str
    version: str
    action: str
    strategy: str
    outcome: str
    started_at: float
    duration: float
    user: str
    git_commit: str | None = None
    colour: str | None = None
    image_ids: list[str] = field(default_factory=list)
    message: str = ""
    id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _connect(root: Path) -> sqlite3.Connection:
    path = root / DB_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30)
    conn.execute(SCHEMA)
    return conn


def record(root: Path, release: Release) -> Release:
    with closing(_connect(root)) as conn, conn:
        cur = conn.execute(
            "INSERT INTO releases (environment, version, action, strategy, outcome, colour,"
            " started_at, duration, user, git_commit, image_ids, message)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                release.environment, release.version, release.action, release.strategy,
                release.outcome, release.colour, release.started_at, release.duration,
                release.user, release.git_commit, json.dumps(release.image_ids), release.message,
            ),
        )  # fmt: skip
        release.id = cur.lastrowid
    return release


def history(root: Path, environment: str | None = None) -> list[Release]:
    if not (root / DB_PATH).exists():
        return []
    query = "SELECT id, environment, version, action, strategy, outcome, colour, started_at,"
    query += " duration, user, git_commit, image_ids, message FROM releases"
    params: tuple[str, ...] = ()
    if environment:
        query += " WHERE environment = ?"
        params = (environment,)
    with closing(_connect(root)) as conn:
        rows = conn.execute(query + " ORDER BY id", params).fetchall()
    return [
        Release(
            id=r[0],
            environment=r[1],
            version=r[2],
            action=r[3],
            strategy=r[4],
            outcome=r[5],
            colour=r[6],
            started_at=r[7],
            duration=r[8],
            user=r[9],
            git_commit=r[10],
            image_ids=json.loads(r[11]),
            message=r[12],
        )
        for r in rows
    ]


def live(root: Path, environment: str) -> Release | None:
    """The release serving now: the last successful deploy or rollback."""
    ok = [r for r in history(root, environment) if r.outcome == "success"]
    return ok[-1] if ok else None


def previous_good(root: Path, environment: str) -> Release | None:
    """The last successful release before the live one, with another version."""
    ok = [r for r in history(root, environment) if r.outcome == "success"]
    if not ok:
        return None
    current = ok[-1]
    for r in reversed(ok[:-1]):
        if r.version != current.version:
            return r
    return None
