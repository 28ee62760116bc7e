import pytest

from mlopsctl.core.config import Config, default_data
from mlopsctl.core.conventions.ids import normalise_feature, parse_stage, parse_substage
from mlopsctl.errors import BadInput

STAGES = Config(None, default_data()).stages


@pytest.mark.parametrize("text", ["6.1", "1.1", "9.12", " 6.1 "])
def test_valid_substage_ids(text: str) -> None:
    sub = parse_substage(text, STAGES)
    assert str(sub) == text.strip()


@pytest.mark.parametrize(
    "text", ["6", "6.x", "10.1", "0.1", "6.1.2", "6.0", "06.1", "6.01", "", "a.b"]
)
def test_invalid_substage_ids(text: str) -> None:
    with pytest.raises(BadInput, match="Stage id"):
        parse_substage(text, STAGES)


def test_stage_filter_accepts_a_stage_or_a_substage() -> None:
    assert parse_stage("6", STAGES) == (6, None)
    assert parse_stage("6.10", STAGES) == (6, 10)
    with pytest.raises(BadInput):
        parse_stage("10", STAGES)


@pytest.mark.parametrize(
    "text", ["monitoring-api", "monitoring_api", "Monitoring API", " monitoring  api "]
)
def test_feature_spellings_normalise_alike(text: str) -> None:
    f = normalise_feature(text)
    assert (f.kebab, f.snake, f.camel, f.title) == (
        "monitoring-api",
        "monitoring_api",
        "MonitoringApi",
        "Monitoring Api",
    )


@pytest.mark.parametrize(
    "text",
    [
        "a/b",
        "a\\b",
        "..",
        "a..b",
        "a;b",
        "$(id)",
        "`id`",
        ".hidden",
        "a.b",
        "a|b",
        "",
        "1abc",
        "class",
        "é",
    ],
)
def test_unsafe_feature_names_are_rejected(text: str) -> None:
    with pytest.raises(BadInput, match="Feature name"):
        normalise_feature(text)
