"""The script strategy's outcomes: 0 success, 3 refused (a lock held elsewhere), else failed;
and the nested deploy's lock sharing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlopsctl.core.deploy import lock, script
from mlopsctl.core.deploy.history import Release
from mlopsctl.core.deploy.rollout import Outcome, Plan


class Attempt:
    def __init__(self, root: Path, code: int) -> None:
        (root / "deploy.sh").write_text(
            f"#!/usr/bin/env bash\necho $MLOPS_DEPLOY_LOCK\nexit {code}\n"
        )
        self.root = root
        self.plan = Plan("staging", "v2", "deploy", "script", script="deploy.sh")
        self.release = Release("staging", "v2", "deploy", "script", "failed", 0.0, 0.0, "me")
        self.outcome = Outcome(self.plan, self.release)


@pytest.mark.parametrize(("code", "outcome", "exit_code"), [(0, "success", 0), (3, "refused", 3),
                                                           (1, "failed", 1), (7, "failed", 1)])  # fmt: skip
def test_the_scripts_exit_code_decides(tmp_path: Path, code: int, outcome: str,
                                       exit_code: int) -> None:  # fmt: skip
    attempt = Attempt(tmp_path, code)
    script.run(attempt, stream=False, lock_fd=None)  # type: ignore[arg-type]
    assert attempt.release.outcome == outcome and attempt.outcome.exit_code == exit_code
    assert attempt.outcome.output.strip() == f"staging:{os.getpid()}"  # the lock it shares
    if code == 3:
        assert "lock is held elsewhere" in attempt.release.message


def test_the_nesting_pid_is_read_for_its_own_environment_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(lock.NESTED_LOCK, "staging:123")
    assert lock.nesting_pid("staging") == 123
    assert lock.nesting_pid("production") is None
    monkeypatch.setenv(lock.NESTED_LOCK, "staging:abc")
    assert lock.nesting_pid("staging") is None
