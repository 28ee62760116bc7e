"""clone's renamer: one pass, so that a replacement is never renamed again."""

from __future__ import annotations

from mlopsctl.core.config import Config, default_data
from mlopsctl.core.conventions.ids import normalise_feature, parse_substage
from mlopsctl.core.scaffold.clone import renamer

STAGES = Config(None, default_data()).stages


def rename(text: str, old: str = "monitoring-api", new: str = "monitoring-api-6-2") -> str:
    src, dst = parse_substage("6.1", STAGES), parse_substage("6.2", STAGES)
    return renamer("demo", src, normalise_feature(old), dst, normalise_feature(new))(text)


def test_names_numbers_and_ports_follow_the_copy() -> None:
    assert rename("src/demo/monitoring/monitoring_api.py") == (
        "src/demo/monitoring/monitoring_api_6_2.py"
    )
    assert rename("tests/unit/test_6_1_monitoring_api.py") == (
        "tests/unit/test_6_2_monitoring_api_6_2.py"
    )
    assert rename("class MonitoringApi: port = 8601  # 6.1") == (
        "class MonitoringApi62: port = 8602  # 6.2"
    )
    assert rename("MONITORING_API_PORT=8601") == "MONITORING_API_6_2_PORT=8602"


def test_a_replacement_is_not_renamed_again_and_neighbours_are_left() -> None:
    assert rename("monitoring_api monitoring_apis 6.10 16.1") == (
        "monitoring_api_6_2 monitoring_apis 6.10 16.1"
    )
