"""push: git's pre-push lines, parsed; anything else is bad input."""

from __future__ import annotations

import pytest

from mlopsctl.core.conventions import push
from mlopsctl.errors import BadInput

A, B, Z = "a" * 40, "b" * 40, "0" * 40


def test_lines_of_a_push() -> None:
    updates = push.parse(
        f"refs/heads/x {A} refs/heads/feature/y {B}\n\nrefs/heads/x {Z} refs/heads/gone {B}\n"
        f"refs/tags/v1 {A} refs/tags/v1 {Z}\n"
    )
    assert [u.branch for u in updates] == ["feature/y", "gone", None]
    assert [u.deletes for u in updates] == [False, True, False]
    assert updates[2].creates


def test_a_local_ref_with_spaces_is_read_from_the_right() -> None:
    (update,) = push.parse(f"HEAD with spaces {A} refs/heads/main {B}")
    assert update.local_ref == "HEAD with spaces" and update.branch == "main"


@pytest.mark.parametrize("line", ["garbage", f"refs/heads/x {A} refs/heads/y", f"a zz b {B}"])
def test_anything_else_is_bad_input(line: str) -> None:
    with pytest.raises(BadInput, match="line 1"):
        push.parse(line)
