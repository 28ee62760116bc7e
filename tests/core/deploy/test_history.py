"""history: the release store's rows, their settling after a kill, and rollback targets."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from mlopsctl.core.deploy.history import Release, Store
from mlopsctl.errors import BadInput


def release(version: str, outcome: str = "success", **extra: object) -> Release:
    return Release("staging", version, "deploy", "blue-green", outcome, 0.0, 1.0, "me", **extra)  # type: ignore[arg-type]


def test_a_row_is_written_before_and_completed_after(tmp_path: Path) -> None:
    store = Store("demo", tmp_path / "demo.db")
    r = store.start(release("v1"))
    assert [x.outcome for x in store.rows()] == ["started"]
    r.outcome, r.image_ids = "success", ["sha256:abc"]
    store.finish(r)
    (row,) = store.rows("staging")
    assert (row.outcome, row.image_ids, row.pid) == ("success", ["sha256:abc"], os.getpid())
    assert store.rows("production") == []


def test_rows_left_by_a_dead_deploy_are_settled_by_what_went_live(tmp_path: Path) -> None:
    store = Store("demo", tmp_path / "demo.db")
    live = store.start(release("v1", release="r-live"))
    lost = store.start(release("v2", release="r-lost"))
    with sqlite3.connect(store.path) as conn:  # both as rows of a process that is gone
        conn.execute("UPDATE releases SET pid = 999999999")
    store.reconcile("staging", live_release="r-live", running=False)
    outcomes = {r.version: r.outcome for r in store.rows()}
    assert outcomes == {"v1": "success", "v2": "interrupted"}
    assert live.id != lost.id


def test_the_previous_good_release_skips_failures_and_the_current_version(tmp_path: Path) -> None:
    store = Store("demo", tmp_path / "demo.db")
    for version, outcome in [("v1", "success"), ("v2", "failed"), ("v3", "success")]:
        r = store.start(release(version))
        r.outcome = outcome
        store.finish(r)
    good = store.previous_good("staging", current_version="v3")
    assert good is not None and good.version == "v1"
    assert store.previous_good("production", None) is None


def test_a_damaged_store_is_bad_input(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(BadInput):
        Store("demo", path).rows()
