import pytest

from mlopsctl.core.config import Config, default_data, validate
from mlopsctl.core.conventions import branch

RULES = branch.Rules(Config(None, default_data()))

VALID = [
    ("main", "main"),
    ("develop", "develop"),
    ("feature/stage6-monitoring-api", "feature"),
    ("feature/stage1-ingest", "feature"),
    ("feature/stage9-kafka-consumer-v2", "feature"),
    ("feature/PIXIE-123-add-portfolio-optimizer", "ticket"),
    ("feature/AB1-7-x", "ticket"),
    ("experiment/xgb-tuning", "experiment"),
    ("experiment/lr-0001", "experiment"),
    ("bugfix/123-memory-leak", "bugfix"),
    ("bugfix/PIXIE-9-null-check", "bugfix"),
    ("hotfix/456-security-patch", "hotfix"),
    ("docs/api-guide", "docs"),
    ("release/1.2.0", "release"),
    ("release/v1.2.0", "release"),
    ("release/2.0.0-rc.1", "release"),
]

INVALID = [
    # name, words in the reason, suggestion
    ("feat/stage6-x", "'feature/', not 'feat/'", "feature/stage6-x"),
    ("fix/123-leak", "'bugfix/', not 'fix/'", "bugfix/123-leak"),
    ("feature/stage12-x", "stage 12 is not a stage", None),
    ("feature/stage6", "need a description", None),
    ("feature/monitoring-api", "name their stage", "feature/stage<N>-monitoring-api"),
    ("feature/Stage6_Monitoring_API", "feature/stage<N>-<desc>", "feature/stage6-monitoring-api"),
    ("feature/stage-6-alerts", "feature/stage<N>-<desc>", "feature/stage6-alerts"),
    ("feature/pixie-123-add-x", "ticket key is upper case", "feature/PIXIE-123-add-x"),
    ("bugfix/memory-leak", "start with an issue number", None),
    ("bugfix/123_Memory_Leak", "kebab-case", "bugfix/123-memory-leak"),
    ("hotfix/456", "need a description", None),
    ("release/1.2", "full semantic version", "release/1.2.0"),
    ("release/v2", "full semantic version", "release/v2.0.0"),
    ("release/next", "semantic version", None),
    ("docs/API Guide", "kebab-case", "docs/api-guide"),
    ("experiment/", "kebab-case", None),
    ("my-branch", "needs a type prefix", "experiment/my-branch"),
    ("wip/foo", "unknown branch type 'wip/'", None),
    ("Main", "needs a type prefix", "experiment/main"),
    ("feature/stage6-x/y", "feature/stage<N>-<desc>", "feature/stage6-x-y"),
]


@pytest.mark.parametrize(("name", "kind"), VALID)
def test_valid_branches(name: str, kind: str) -> None:
    verdict = RULES.check(name)
    assert verdict.ok, verdict.reason
    assert verdict.kind == kind


@pytest.mark.parametrize(("name", "reason", "suggestion"), INVALID)
def test_invalid_branches_explain_and_suggest(
    name: str, reason: str, suggestion: str | None
) -> None:
    verdict = RULES.check(name)
    assert not verdict.ok
    assert reason in (verdict.reason or "")
    assert verdict.suggestion == suggestion
    if suggestion and "<N>" not in suggestion:
        assert RULES.check(suggestion).ok


def test_kinds_and_extra_patterns_come_from_the_config() -> None:
    cfg = Config(
        None, validate({"branches": {"kinds": ["main", "feature"], "extra": [r"renovate/.+"]}})
    )
    rules = branch.Rules(cfg)
    assert rules.check("renovate/pyyaml-6.x").ok
    assert not rules.check("develop").ok
    assert not rules.check("docs/x").ok
    assert rules.check("feature/stage3-x").ok


def test_stage_numbers_come_from_the_config() -> None:
    cfg = Config(None, validate({"stages": {1: {"slug": "a"}, 12: {"slug": "b"}}}))
    rules = branch.Rules(cfg)
    assert rules.check("feature/stage12-x").ok
    assert not rules.check("feature/stage6-x").ok


def no_git() -> str:
    raise AssertionError("git must not be asked when another source names the branch")


@pytest.mark.parametrize(
    ("env", "name", "label"),
    [
        ({"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/feature/stage1-a", "GITHUB_HEAD_REF": "x"},
         "feature/stage1-a", "pre-push"),
        ({"PRE_COMMIT_LOCAL_BRANCH": "refs/heads/main", "PRE_COMMIT_REMOTE_BRANCH": "refs/heads/Bad"},
         "Bad", "remote ref"),
        ({"GITHUB_HEAD_REF": "feature/stage1-b", "GITHUB_REF_NAME": "12/merge"}, "feature/stage1-b", "GITHUB_HEAD_REF"),
        ({"GITHUB_HEAD_REF": "", "GITHUB_REF_NAME": "main"}, "main", "GITHUB_REF_NAME"),
        ({"CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "docs/a", "CI_COMMIT_REF_NAME": "main"}, "docs/a", "GitLab merge"),
        ({"CI_COMMIT_BRANCH": "develop"}, "develop", "CI_COMMIT_BRANCH"),
        ({"BRANCH_NAME": "HEAD", "BUILDKITE_BRANCH": "docs/b"}, "docs/b", "BUILDKITE_BRANCH"),
        ({"GITHUB_REF_NAME": "v1.0.0", "GITHUB_REF_TYPE": "tag", "BRANCH_NAME": "main"}, "main", "Jenkins"),
    ],
)  # fmt: skip
def test_sources_in_order(env: dict[str, str], name: str, label: str) -> None:
    source = branch.resolve(None, env, no_git)
    assert source.name == name
    assert label in source.label


def test_argument_wins_and_git_comes_last() -> None:
    assert branch.resolve("docs/x", {"GITHUB_HEAD_REF": "y"}, no_git).label == "argument"
    assert branch.resolve(None, {}, lambda: "main").label == "git HEAD"
    detached = branch.resolve(None, {}, lambda: None)
    assert detached.name is None and "detached" in (detached.skipped or "")
    tag = branch.resolve(None, {"PRE_COMMIT_LOCAL_BRANCH": "refs/tags/v1.0.0"}, no_git)
    assert tag.name is None and "tag" in (tag.skipped or "")


def test_kebab() -> None:
    assert branch.kebab("Memory_Leak fix") == "memory-leak-fix"
    assert branch.kebab("monitoringAPI") == "monitoring-api"
