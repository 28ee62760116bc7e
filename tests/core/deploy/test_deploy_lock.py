"""The scripts' deploy lock: one holder per environment, named; a script's nested deploy shares it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlopsctl.core.deploy.lock import NESTED_LOCK, DeployLock
from mlopsctl.errors import Conflict


def test_a_second_deploy_is_refused_naming_the_holder(tmp_path: Path) -> None:
    with DeployLock(tmp_path, "staging", "deploy v2"):
        with pytest.raises(Conflict, match=r"held by .*\(pid \d+\).*deploy v2"):
            DeployLock(tmp_path, "staging", "deploy v3").acquire()
        DeployLock(tmp_path, "production", "deploy v3").acquire()  # another environment


def test_the_lock_is_free_again_after_release(tmp_path: Path) -> None:
    with DeployLock(tmp_path, "staging", "deploy v2"):
        pass
    with DeployLock(tmp_path, "staging", "deploy v3") as again:
        assert again.fd is not None


def test_a_deploy_run_by_the_holders_script_shares_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with DeployLock(tmp_path, "staging", "deploy v2"):
        monkeypatch.setenv(NESTED_LOCK, f"staging:{os.getpid()}")
        nested = DeployLock(tmp_path, "staging", "deploy v2 (script)")
        nested.acquire()
        assert nested.nested
        nested.release()  # releases nothing of the holder's
        monkeypatch.setenv(NESTED_LOCK, "production:1")
        with pytest.raises(Conflict):
            DeployLock(tmp_path, "staging", "other").acquire()
