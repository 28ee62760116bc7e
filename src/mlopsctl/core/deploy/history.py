"""The release history: every deploy and rollback attempt, one row each, in SQLite.

Where it lives: in the user's data folder (``$XDG_DATA_HOME/mlopsctl/releases/``, else
``~/.local/share``), one database per project name, outside any checkout. So ``git clean -X``
cannot delete it and every clone on the machine shares it. It is a log, not the truth: what
is live and which images can be rolled back to are read from the engine's labels and kept
images (:mod:`mlopsctl.core.deploy.engine`), so a runner with an empty history still deploys
and rolls back correctly.

A row is written as ``started`` before anything changes and completed after. A deploy killed
meanwhile leaves its ``started`` row; :func:`Store.reconcile` settles it against what the
engine shows (its release live: ``success``; otherwise ``interrupted``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.errors import BadInput, one_line

SCHEMA = """
CREATE TABLE IF NOT EXISTS releases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    environment TEXT NOT NULL,
    version TEXT NOT NULL,
    action TEXT NOT NULL,          -- deploy or rollback
    strategy TEXT NOT NULL,        -- script, blue-green, swarm or canary
    outcome TEXT NOT NULL,         -- started, success, failed, rolled back, aborted,
                                   -- refused or interrupted
    colour TEXT,
    started_at REAL NOT NULL,
    duration REAL NOT NULL,
    user TEXT NOT NULL,
    git_commit TEXT,
    image_ids TEXT NOT NULL DEFAULT '[]',
    message TEXT NOT NULL DEFAULT '',
    release TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL DEFAULT 0,
    samples TEXT NOT NULL DEFAULT '[]'
)
"""
COLUMNS = (
    "id, environment, version, action, strategy, outcome, colour, started_at, duration, user,"
    " git_commit, image_ids, message, release, pid, samples"
)
# columns that later versions added, for databases made before them
ADDED = {"samples": "TEXT NOT NULL DEFAULT '[]'"}


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
    release: str = ""  # the id on the engine's labels (blue-green)
    pid: int = 0
    samples: list[dict[str, Any]] = field(default_factory=list)  # a canary's analysis

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def data_folder() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "mlopsctl" / "releases"


def _damaged(path: Path, why: object) -> BadInput:
    return BadInput(
        f"the release history {path} is damaged ({one_line(str(why))}); move it aside "
        f"(mv {path} {path}.bad) and the next deploy starts a new one."
    )


class Store:
    """The history of one project (``mlops.yaml`` ``project.name``)."""

    def __init__(self, project: str, path: Path | None = None) -> None:
        self.path = path or data_folder() / f"{project}.db"

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(self.path, timeout=30)
            conn.execute(SCHEMA)
            have = {row[1] for row in conn.execute("PRAGMA table_info(releases)")}
            for column, decl in ADDED.items():
                if column not in have:
                    with contextlib.suppress(sqlite3.OperationalError):  # a racing migration
                        conn.execute(f"ALTER TABLE releases ADD COLUMN {column} {decl}")
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from None
        return conn

    def start(self, release: Release) -> Release:
        """Write the attempt's row before anything changes (outcome ``started``)."""
        release.outcome, release.pid = "started", os.getpid()
        with closing(self._connect()) as conn, conn:
            try:
                cur = conn.execute(
                    f"INSERT INTO releases ({COLUMNS.split(', ', 1)[1]})"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    _values(release),
                )
            except sqlite3.DatabaseError as exc:
                raise _damaged(self.path, exc) from None
        release.id = cur.lastrowid
        return release

    def finish(self, release: Release) -> None:
        """Complete the row of an attempt started with :meth:`start`."""
        with closing(self._connect()) as conn, conn:
            try:
                conn.execute(
                    "UPDATE releases SET outcome = ?, colour = ?, duration = ?, image_ids = ?,"
                    " message = ?, release = ?, samples = ? WHERE id = ?",
                    (release.outcome, release.colour, release.duration,
                     json.dumps(release.image_ids), release.message, release.release,
                     json.dumps(release.samples), release.id),
                )  # fmt: skip
            except sqlite3.DatabaseError as exc:
                raise _damaged(self.path, exc) from None

    def rows(self, environment: str | None = None) -> list[Release]:
        if not self.path.exists():
            return []
        query = f"SELECT {COLUMNS} FROM releases"
        params: tuple[str, ...] = ()
        if environment:
            query += " WHERE environment = ?"
            params = (environment,)
        with closing(self._connect()) as conn:
            try:
                found = conn.execute(query + " ORDER BY id", params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise _damaged(self.path, exc) from None
        return [self._row(r) for r in found]

    def _row(self, r: tuple[Any, ...]) -> Release:
        try:
            ids = json.loads(r[11])
            samples = json.loads(r[15])
            if not isinstance(ids, list) or not isinstance(samples, list):
                raise ValueError("image_ids or samples is not a list")
            return Release(
                id=int(r[0]), environment=str(r[1]), version=str(r[2]), action=str(r[3]),
                strategy=str(r[4]), outcome=str(r[5]),
                colour=None if r[6] is None else str(r[6]), started_at=float(r[7]),
                duration=float(r[8]), user=str(r[9]),
                git_commit=None if r[10] is None else str(r[10]),
                image_ids=[str(i) for i in ids], message=str(r[12]), release=str(r[13]),
                pid=int(r[14]), samples=[x for x in samples if isinstance(x, dict)],
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise _damaged(self.path, f"row {r[0]!r}: {exc}") from None

    def reconcile(self, environment: str, live_release: str | None, running: bool) -> None:
        """Settle rows left ``started`` by a deploy that is gone: ``success`` when its release
        is the live one, else ``interrupted``. ``running``: a deploy holds the lock now."""
        for r in self.rows(environment):
            if r.outcome != "started" or r.pid == os.getpid() or (running and _alive(r.pid)):
                continue  # settled, this very deploy, or one that still runs
            if r.release and r.release == live_release:
                r.outcome = "success"
                r.message = "completed by the engine's state (the deploy was interrupted)"
            else:
                r.outcome = "interrupted"
                r.message = "the deploy was interrupted before its release went live"
            self.finish(r)

    def previous_good(self, environment: str, current_version: str | None) -> Release | None:
        """The last successful release with another version than ``current_version``."""
        for r in reversed(self.rows(environment)):
            if r.outcome == "success" and r.version != current_version:
                return r
        return None


def _values(r: Release) -> tuple[Any, ...]:
    return (
        r.environment, r.version, r.action, r.strategy, r.outcome, r.colour, r.started_at,
        r.duration, r.user, r.git_commit, json.dumps(r.image_ids), r.message, r.release, r.pid,
        json.dumps(r.samples),
    )  # fmt: skip


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs: a zombie (killed, not yet reaped by its parent) does not."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    from mlopsctl.core.deploy.lock import process_start

    return bool(process_start(pid)) or not os.path.exists(f"/proc/{pid}")
