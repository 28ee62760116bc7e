"""The release history: every deploy and rollback, in SQLite under ``.mlops/state/``."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.errors import BadInput, one_line

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


def _damaged(why: object) -> BadInput:
    return BadInput(
        f"{DB_PATH} is damaged ({one_line(str(why))}); move it aside "
        f"(mv {DB_PATH} {DB_PATH}.bad) and the next deploy starts a new history."
    )


def _connect(root: Path) -> sqlite3.Connection:
    path = root / DB_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        conn = sqlite3.connect(path, timeout=30)
        conn.execute(SCHEMA)
    except sqlite3.DatabaseError as exc:
        raise _damaged(exc) from None
    return conn


def _row(r: tuple[Any, ...]) -> Release:
    try:
        ids = json.loads(r[11])
        if not isinstance(ids, list):
            raise ValueError("image_ids is not a list")
        return Release(
            id=int(r[0]), environment=str(r[1]), version=str(r[2]), action=str(r[3]),
            strategy=str(r[4]), outcome=str(r[5]), colour=None if r[6] is None else str(r[6]),
            started_at=float(r[7]), duration=float(r[8]), user=str(r[9]),
            git_commit=None if r[10] is None else str(r[10]), image_ids=[str(i) for i in ids],
            message=str(r[12]),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        raise _damaged(f"row {r[0]!r}: {exc}") from None


def record(root: Path, release: Release) -> Release:
    with closing(_connect(root)) as conn, conn:
        try:
            cur = conn.execute(
                "INSERT INTO releases (environment, version, action, strategy, outcome, colour,"
                " started_at, duration, user, git_commit, image_ids, message)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    release.environment, release.version, release.action, release.strategy,
                    release.outcome, release.colour, release.started_at, release.duration,
                    release.user, release.git_commit, json.dumps(release.image_ids),
                    release.message,
                ),
            )  # fmt: skip
        except sqlite3.DatabaseError as exc:
            raise _damaged(exc) from None
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
        try:
            rows = conn.execute(query + " ORDER BY id", params).fetchall()
        except sqlite3.DatabaseError as exc:
            raise _damaged(exc) from None
    return [_row(r) for r in rows]


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
