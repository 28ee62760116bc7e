"""The planner's decision for one file, as a table: every combination of the file's state
(not recorded, pristine, edited, deleted, shared), the template's change (new, changed,
unchanged, dropped) and the command (create, update, destroy; forced or not)."""

from __future__ import annotations

import pytest

from mlopsctl.core.scaffold.lifecycle import FileState, decide, decide_dropped

BASE, NEW, MINE, MERGED = b"base\n", b"new\n", b"mine\n", b"merged\n"


def clean_merge(base: bytes, ours: bytes, theirs: bytes, path: str) -> tuple[bytes, bool]:
    return MERGED, False


def overlapping(base: bytes, ours: bytes, theirs: bytes, path: str) -> tuple[bytes, bool]:
    return b"<<<<<<< mine\n", True


def state(disk: str, template: str, kind: str = "own", **extra: object) -> FileState:
    """disk: absent, pristine, edited, rendering (already the new text), marked;
    template: changed (base -> NEW) or unchanged (NEW is the base)."""
    recorded = disk not in ("absent-unrecorded", "there-unrecorded")
    base = BASE if template == "changed" else NEW
    current = {
        "absent": None, "absent-unrecorded": None, "there-unrecorded": MINE,
        "pristine": base, "edited": MINE, "rendering": NEW,
        "marked": b"<<<<<<< a\nx\n=======\ny\n>>>>>>> b\n",
    }[disk]  # fmt: skip
    return FileState(
        recorded=recorded, current=current, base=base if recorded else None, new=NEW,
        write=NEW, kind=kind, pristine=current == base, **extra,  # type: ignore[arg-type]
    )  # fmt: skip


MODES = [("create", False), ("create", True), ("update", False), ("destroy", False),
         ("destroy", True)]  # fmt: skip

# (disk, template, kind, merge) -> expected action per mode in MODES order
TABLE = [
    # files mlopsctl never wrote
    (("absent-unrecorded", "changed", "own", None), ["create"] * 5),
    (
        ("there-unrecorded", "changed", "own", None),
        ["conflict", "overwrite", "conflict", "conflict", "overwrite"],
    ),
    (("there-unrecorded", "changed", "lines", None), ["update"] * 5),  # requirements gain lines
    # recorded and deleted by the user: recreated only by create
    (("absent", "changed", "own", None), ["create", "create", "deleted", "deleted", "deleted"]),
    # recorded and as mlopsctl wrote it: takes the new text
    (("pristine", "changed", "own", None), ["update"] * 5),
    (("pristine", "unchanged", "own", None), ["identical"] * 5),
    (("rendering", "changed", "own", None), ["identical"] * 5),
    # edited by the user
    (
        ("edited", "unchanged", "own", None),
        ["conflict", "overwrite", "modified", "modified", "modified"],
    ),
    (
        ("edited", "changed", "own", clean_merge),
        ["conflict", "overwrite", "merge", "merge", "merge"],
    ),
    (
        ("edited", "changed", "own", overlapping),
        ["conflict", "overwrite", "conflicted", "conflict", "overwrite"],
    ),
    # shared files (lines, blocks) merge their parts even on create
    (("edited", "changed", "lines", clean_merge), ["merge"] * 5),
    (
        ("edited", "changed", "blocks", overlapping),
        ["conflict", "overwrite", "conflicted", "conflict", "overwrite"],
    ),
    (("edited", "unchanged", "blocks", None), ["modified"] * 5),
]


def case_id(case: tuple[str, str, str, object]) -> str:
    disk, template, kind, merge = case
    return "-".join([disk, template, kind, getattr(merge, "__name__", "no-merge")])


@pytest.mark.parametrize(("case", "expected"), TABLE, ids=[case_id(c) for c, _ in TABLE])
def test_the_decision_table(case: tuple[str, str, str, object], expected: list[str]) -> None:
    disk, template, kind, merge = case
    got = []
    for mode, force in MODES:
        s = state(disk, template, kind)
        kwargs = {"merge": merge} if merge is not None else {}
        got.append(decide(s, mode, force, "f", **kwargs).action)  # type: ignore[arg-type]
    assert got == expected, list(zip(MODES, got, strict=True))


def test_unresolved_markers_stay_until_the_user_resolves_them() -> None:
    s = state("marked", "changed", flagged=True)
    decision = decide(s, "update", False, "f", merge=overlapping)
    assert (decision.action, decision.conflict) == ("unresolved", True)
    resolved = state("edited", "changed", flagged=True)
    assert decide(resolved, "update", False, "f", merge=clean_merge).action == "merge"


def test_a_conflicted_update_is_flagged_in_the_record() -> None:
    decision = decide(state("edited", "changed"), "update", False, "f", merge=overlapping)
    assert decision.conflict and decision.content == b"<<<<<<< mine\n"


def test_an_unknown_base_counts_the_rendering_and_says_so() -> None:
    s = FileState(recorded=True, current=MINE, base=None, new=NEW, write=NEW, pristine=False)
    decision = decide(s, "update", False, "f")
    assert (decision.action, decision.legacy) == ("modified", True)  # the edit is kept
    s = FileState(recorded=True, current=BASE, base=None, new=NEW, write=NEW, pristine=True)
    assert decide(s, "update", False, "f").action == "update"


def test_a_kept_file_there_before_mlopsctl() -> None:
    kept = FileState(recorded=False, current=MINE, base=None, new=NEW, write=NEW, kind="keep",
                     kept_prior=True, rendering=NEW)  # fmt: skip
    assert decide(kept, "create", False).action == "keep"
    same = FileState(recorded=False, current=NEW, base=None, new=NEW, write=NEW, kind="keep",
                     kept_prior=True, rendering=NEW)  # fmt: skip
    assert decide(same, "create", False).action == "identical"


@pytest.mark.parametrize(
    ("current", "pristine", "expected"),
    [  # per mode in MODES order
        (None, False, [None] * 5),
        (BASE, True, ["remove"] * 5),
        (MINE, False, ["orphan", "orphan", "orphan", "conflict", "remove"]),
    ],
)
def test_a_dropped_file(current: bytes | None, pristine: bool, expected: list[str | None]) -> None:
    got = [decide_dropped(current, pristine, mode, force) for mode, force in MODES]
    assert got == expected
