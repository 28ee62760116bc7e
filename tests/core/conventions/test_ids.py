import pytest

from mlopsctl.core.config import Config, default_data
from mlopsctl.core.conventions.ids import normalise_feature, parse_stage, parse_substage
from mlopsctl.errors import BadInput

STAGES = Config(None, default_data()).stages


@pytest.mark.parametrize("text", ["6.1", "1.1", "9.12"])
def test_valid_substage_ids(text: str) -> None:
    sub = parse_substage(text, STAGES)
    assert str(sub) == text


@pytest.mark.parametrize(
    "text",
    ["6", "6.x", "10.1", "0.1", "6.1.2", "6.0", "06.1", "6.01", "", "a.b", " 6.1 ", "6.1\n",
     "\t6.1", "6." + "1" * 300, "\u0666.\u0661"],
)  # fmt: skip
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


@pytest.mark.parametrize("text", ["none", "True", "false", "settings", "value error", "Any"])
def test_features_whose_class_name_generated_code_already_uses_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match="class name"):
        normalise_feature(text)
    # a substage recorded before the rule still reads
    assert normalise_feature(text, reserved=False).camel


@pytest.mark.parametrize("text", ["class", "import", "def"])
def test_keyword_features_are_refused(text: str) -> None:
    with pytest.raises(BadInput, match="keyword"):
        normalise_feature(text)
