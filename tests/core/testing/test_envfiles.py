"""envfiles: the layers, the real environment winning, and the check against the template."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core.testing import envfiles
from mlopsctl.errors import BadInput


def test_later_layers_and_the_real_environment_win(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("A=1\nB=2\nC=3\n")
    (tmp_path / ".env.testing").write_text("B=20\n")
    merged = envfiles.load(tmp_path, "testing", environ={"C": "env"})
    assert merged.values() == {"A": "1", "B": "20", "C": "env"}
    assert [v.source for v in merged.variables.values()] == [".env", ".env.testing", "environment"]


def test_an_unknown_or_unsafe_env_name_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        envfiles.load(tmp_path, "nope", required=True)
    with pytest.raises(BadInput, match="not an environment name"):
        envfiles.load(tmp_path, "../x")


def test_the_check_names_missing_and_extra_keys(tmp_path: Path) -> None:
    (tmp_path / ".env.template").write_text("A=\nB=\n")
    (tmp_path / ".env").write_text("A=1\nX=2\n")
    report = envfiles.check(tmp_path, environ={})
    assert (report.missing, report.extra, report.files) == (["B"], ["X"], [".env"])
    assert not report.ok


def test_secrets_are_masked_in_the_json_shape(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DB_PASSWORD=hunter2\nURL=redis://:pw123456@c/0\n")
    doc = envfiles.load(tmp_path, environ={}).as_dict()
    values = {v["key"]: v["value"] for v in doc["variables"]}  # type: ignore[index,union-attr]
    assert values == {"DB_PASSWORD": "********", "URL": "redis://:********@c/0"}


def test_a_huge_env_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"A=" + b"x" * (envfiles.MAX_ENV_FILE + 1))
    with pytest.raises(BadInput, match="larger than"):
        envfiles.load(tmp_path)
