from hypothesis import given
from hypothesis import strategies as st

from mlopsctl.core.scaffold import shared

HEAD = b"groups:\n  # mlopsctl:blocks - below\n"


def test_blocks_take_the_first_head_and_every_block() -> None:
    a = HEAD + b"  - name: a\n"
    b = HEAD + b"  - name: b\n"
    assert shared.compose("blocks", [a, b]) == HEAD + b"  - name: a\n  - name: b\n"
    assert shared.compose("blocks", [b]) == b
    jobs = b"\n  extra:\n    runs-on: x\n"  # a part without a head adds its block only
    assert shared.compose("blocks", [a, jobs]) == a + jobs


def test_lines_add_what_is_missing_once() -> None:
    base = b"# deps\nrequests>=2\n"
    assert shared.compose("lines", [base, b"requests>=2\nnumpy\n", b"numpy\n"]) == (
        base + b"numpy\n"
    )


def test_merge3_keeps_both_sides_or_marks_the_clash() -> None:
    base = b"one\ntwo\nthree\nfour\nfive\n"
    ours = b"ONE\ntwo\nthree\nfour\nfive\n"
    theirs = b"one\ntwo\nthree\nfour\nFIVE\n"
    merged, clash = shared.merge3(base, ours, theirs, "f")
    assert (merged, clash) == (b"ONE\ntwo\nthree\nfour\nFIVE\n", False)
    merged, clash = shared.merge3(base, ours, b"uno\ntwo\nthree\nfour\nfive\n", "f")
    assert clash and b"<<<<<<< f (yours)" in merged and b">>>>>>> f (template now)" in merged


blocks = st.lists(
    st.text(alphabet="abc: \n", max_size=20).map(lambda t: f"  - {t.strip()}\n".encode()),
    min_size=1,
    max_size=5,
)


@given(blocks)
def test_removing_the_last_part_gives_the_file_before_it(parts: list[bytes]) -> None:
    fragments = [HEAD + p for p in parts]
    before = shared.compose("blocks", fragments[:-1]) if len(fragments) > 1 else None
    after = shared.compose("blocks", fragments)
    if before is not None:
        assert after.startswith(before)
        assert shared.compose("blocks", fragments[:-1]) == before
