"""secrets: key names, value shapes, and masking that leaves ordinary text alone."""

from __future__ import annotations

import pytest

from mlopsctl.core import secrets

ORDINARY = [
    "feat(api): add the monitoring endpoint",
    "1 commit in main..HEAD follows Conventional Commits.",
    "sha256 3f2a9c0d5e6b7a8f9e0d1c2b3a4f5e6d7c8b9a0f1e2d3c4b5a6f7e8d9c0b1a2f",
    "src/demo/monitoring/monitoring_api.py:12: expected test_<X>_<Y>_<feature>.py",
    "http://127.0.0.1:8080/health",
    "postgres://db:5432/app",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_is_left_as_it_is(text: str) -> None:
    assert secrets.mask_text(text) == text


@pytest.mark.parametrize(
    ("key", "secret"),
    [("ADMIN_PW", True), ("DBPASS", True), ("SECRETKEY", True), ("client-secret", True),
     ("GITHUB_PAT", True), ("AWS_ACCESS_KEY_ID", True), ("DATABASE_PASSWORD", True),
     ("MONKEY", False), ("DATABASE_URL", False), ("LOG_LEVEL", False), ("AUTHOR", False)],
)  # fmt: skip
def test_secret_key_names(key: str, secret: bool) -> None:
    assert secrets.is_secret_key(key) is secret


def test_shown_masks_by_key_then_by_value() -> None:
    assert secrets.shown("DBPASS", "hunter2") == secrets.MASK
    assert secrets.shown("DATABASE_URL", "postgres://app:pw@db/x") == "postgres://app:********@db/x"
    assert secrets.shown("LOG_LEVEL", "info") == "info"
    assert secrets.shown("X", "") == ""


def test_a_private_key_across_lines() -> None:
    masker = secrets.LineMasker()
    lines = ["-----BEGIN EC PRIVATE KEY-----\n", "MHcCAQEEIB\n", "-----END EC PRIVATE KEY-----\n",
             "after\n"]  # fmt: skip
    out = [masker.line(x) for x in lines]
    assert "MHcCAQEEIB" not in "".join(out) and out[-1] == "after\n"


def test_find_in_files_names_path_and_line(tmp_path: object) -> None:
    from pathlib import Path

    root = Path(str(tmp_path))
    (root / "a.txt").write_text("x\ntoken ghp_abcdefghijklmnopqrstuvwxyz0123\n")
    (root / "b.txt").write_text("nothing here\n")
    assert secrets.find_in_files(root, ["a.txt", "b.txt", "missing.txt"]) == ["a.txt:2"]
