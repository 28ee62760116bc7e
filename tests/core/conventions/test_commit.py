import pytest

from mlopsctl.core.config import DEFAULT_COMMIT_TYPES as TYPES
from mlopsctl.core.conventions import commit

VALID = [
    "feat: add x",
    "fix: stop the leak",
    "feat(stage6): add latency alert",
    "feat(api)!: drop v1 endpoints",
    "feat!: drop python 3.9",
    "docs(readme): explain hooks",
    "revert: feat(x): y",
    "feat: add x\n\nWhy it matters.\n\nFixes #123",
    "feat: add x\n\nBREAKING CHANGE: the config key moved",
    "feat: add x\n\nBREAKING-CHANGE: the config key moved",
    "fix: y\n\nbody one\n\nbody two\n\nReviewed-by: Z\nRefs #133",
    "feat(stage-6): hyphenated scope",
    "Merge branch 'main' into feature/stage6-x",
    "Merge pull request #12 from org/feature/stage6-x",
    "Merge remote-tracking branch 'origin/main'",
    'Revert "feat: add x"\n\nThis reverts commit abc.',
    "fixup! feat: add x",
    "squash! feat: add x",
    "amend! feat: add x",
]

INVALID = [
    # message, error words, suggestion
    ("feat:add x", "missing space after ':'", "feat: add x"),
    ("feat(ui):add x", "missing space after ':'", "feat(ui): add x"),
    ("feat:  add x", "exactly one space", "feat: add x"),
    ("feat : add x", "no space before the ':'", "feat: add x"),
    ("feat!(x): y", "'!' goes after the scope", "feat(x)!: y"),
    ("feat(): y", "scope is empty", "feat: y"),
    ("feat:", "description after ': ' is empty", None),
    ("feat: ", "description after ': ' is empty", None),
    ("feature: add x", "type 'feature' is not allowed", "feat: add x"),
    ("Feat: add x", "type 'Feat' is not allowed", "feat: add x"),
    ("fxi: typo", "type 'fxi' is not allowed", "fix: typo"),
    ("bad message", "must start with a type", "chore: bad message"),
    ("Add monitoring", "must start with a type", "feat: add monitoring"),
    ("Update readme", "must start with a type", "chore: update readme"),
    ("feat add x", "missing ':'", "feat: add x"),
    ("fix(stage6) add x", "missing ':'", "fix(stage6): add x"),
    ("", "empty", None),
    ("feat: add x\nbody right away", "blank line", "feat: add x\n\nbody right away"),
    ("feat: x\n\nbreaking change: y", "BREAKING CHANGE: <description>", "BREAKING CHANGE: y"),
    ("feat: x\n\nBREAKING CHANGE:y", "BREAKING CHANGE: <description>", "BREAKING CHANGE: y"),
]


@pytest.mark.parametrize("message", VALID)
def test_valid_messages(message: str) -> None:
    assert commit.check(message, TYPES) is None


@pytest.mark.parametrize(("message", "error", "suggestion"), INVALID)
def test_invalid_messages_point_at_the_fault(
    message: str, error: str, suggestion: str | None
) -> None:
    finding = commit.check(message, TYPES)
    assert finding is not None
    assert error in finding.error
    assert finding.suggestion == suggestion
    if suggestion and "\n" not in suggestion and "BREAKING" not in suggestion:
        assert commit.check(suggestion, TYPES) is None


def test_scope_pattern() -> None:
    assert commit.check("feat(stage6): x", TYPES, r"stage[1-9]") is None
    finding = commit.check("feat(ui): x", TYPES, r"stage[1-9]")
    assert finding is not None and "does not match" in finding.error


def test_types_are_configurable() -> None:
    assert commit.check("wip: x", ["wip"]) is None
    assert commit.check("feat: x", ["wip"]) is not None


def test_clean_drops_comments_and_everything_below_the_scissors() -> None:
    raw = (
        "feat: add x\n# Please enter the commit message\n\nBody.\n"
        "# ------------------------ >8 ------------------------\n"
        "# Do not modify or remove the line above.\ndiff --git a/x b/x\n"
    )
    assert commit.clean(raw) == "feat: add x\n\nBody."


def test_the_comment_char_git_used() -> None:
    auto = "fix: x\n\n; Please enter the commit message for your changes.\n"
    assert commit.comment_char_of(auto, "auto") == ";"
    assert commit.comment_char_of("fix: x\n", "auto") == "#"
    assert commit.comment_char_of(auto, None) == "#"
    assert commit.comment_char_of(auto, "%") == "%"
    raw = "fix: x\n\n%% note\n%% ------------------------ >8 ------------------------\ndiff\n"
    assert commit.clean(raw, "%%") == "fix: x"
