"""A canary's analysis as pure logic: sources from fake endpoints, judging, failure lines, and
the sampling loop with a fake clock."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mlopsctl.core.deploy import analysis
from mlopsctl.core.deploy.analysis import Reading

RAW = {
    "interval": 2, "samples": 3, "failure_limit": 1, "scrape": {"port": 8080},
    "metrics": {
        "error-rate": {"kind": "ratio", "numerator": 'http_requests_total{code=~"5.."}',
                       "denominator": "http_requests_total", "max": 0.05},
        "score": {"kind": "gauge", "selector": "model_score", "min": 0.7},
    },
}  # fmt: skip
EXPOSITION = """# TYPE http_requests_total counter
http_requests_total{code="200"} 90
http_requests_total{code="500"} %d
# TYPE model_score gauge
model_score %s
"""


def spec() -> analysis.Analysis:
    return analysis.from_config(RAW, "environments.staging.analysis")


def test_from_config_with_defaults() -> None:
    a = spec()
    assert (a.interval, a.samples, a.failure_limit, a.replicas, a.delay) == (2.0, 3, 1, 1, 0.0)
    assert a.scrape_path == "/metrics" and a.prometheus is None
    assert [m.describe() for m in a.metrics] == [
        'error-rate: ratio http_requests_total{code=~"5.."} / http_requests_total (max 0.05)',
        "score: gauge model_score (min 0.7)",
    ]


def test_scraped_ratios_sum_over_containers_and_gauges_average() -> None:
    pages = {"a": EXPOSITION % (10, "0.9"), "b": EXPOSITION % (0, "0.5")}
    source = analysis.scraped([("a", "a"), ("b", "b")], fetcher=pages.__getitem__)
    readings = source(spec())
    assert readings["error-rate"].value == pytest.approx(10 / 190)  # (10+0) / (100+90)
    assert readings["score"].value == pytest.approx(0.7)


def test_no_data_says_why() -> None:
    empty = analysis.scraped([("a", "a")], fetcher=lambda url: "# nothing\n")
    readings = empty(spec())
    assert (
        readings["score"].value is None and "no series matches model_score" in readings["score"].why
    )
    zero = analysis.scraped([("a", "a")], fetcher=lambda url: "http_requests_total 0\n")
    assert "is 0 (no requests yet)" in zero(spec())["error-rate"].why

    def down(url: str) -> str:
        raise OSError("connection refused")

    assert "connection refused" in analysis.scraped([("a", "a")], down)(spec())["score"].why
    assert "no canary container" in analysis.scraped([])(spec())["score"].why


def test_judging_a_sample() -> None:
    sample = analysis.judge(spec(), {"error-rate": Reading(0.2), "score": Reading(None, "x")}, 2)
    assert sample["sample"] == 2 and not sample["ok"]
    by = {m["name"]: m for m in sample["metrics"]}
    assert by["error-rate"]["problem"] == "above max 0.05"
    assert by["score"]["problem"] == "no data: x"
    good = analysis.judge(spec(), {"error-rate": Reading(0.01), "score": Reading(0.8)}, 1)
    assert good["ok"] and all(m["problem"] == "" for m in good["metrics"])


def test_a_prometheus_source_asks_for_the_canarys_series() -> None:
    asked: list[str] = []

    def fetch(url: str) -> str:
        asked.append(url)
        return json.dumps({"status": "success",
                           "data": {"result": [{"metric": {}, "value": [0, "0.25"]}]}})  # fmt: skip

    readings = analysis.prometheus("http://prom:9090", "rel1", fetcher=fetch)(spec())
    assert readings["error-rate"].value == 0.25
    from urllib.parse import parse_qs, urlparse

    queries = [parse_qs(urlparse(u).query)["query"][0] for u in asked]
    assert queries[0] == (
        'sum(rate(http_requests_total{code=~"5..", mlops_release="rel1"}[2000ms])) / '
        'sum(rate(http_requests_total{mlops_release="rel1"}[2000ms]))'
    )
    assert queries[1] == 'avg(model_score{mlops_release="rel1"})'
    nan = analysis.prometheus("http://p", "r", fetcher=lambda url: json.dumps(
        {"data": {"result": [{"value": [0, "NaN"]}]}}))(spec())  # fmt: skip
    assert nan["score"].value is None and "no data" in nan["score"].why
    empty = analysis.prometheus("http://p", "r", fetcher=lambda url: '{"data": {"result": []}}')
    assert "has no data" in empty(spec())["score"].why


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_loop_aborts_after_the_failure_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr(analysis.time, "monotonic", lambda: clock.now)
    values = iter([0.01, 0.2, 0.3])
    seen: list[dict[str, Any]] = []
    verdict = analysis.run(
        spec(), lambda a: {"error-rate": Reading(next(values)), "score": Reading(0.9)},
        healthy=lambda: None, on_sample=seen.append, sleep=clock.sleep,
    )  # fmt: skip
    assert not verdict.ok and len(verdict.samples) == 3 and len(seen) == 3
    assert verdict.failures == ["error-rate = 0.3, above max 0.05 (samples 2, 3 of 3)"]
    assert verdict.reason == "2 of 3 samples failed (failure_limit 1)"
    assert clock.now == pytest.approx(6.0)  # three intervals of 2 s


def test_the_loop_passes_and_an_unhealthy_canary_aborts_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr(analysis.time, "monotonic", lambda: clock.now)
    fine = {"error-rate": Reading(0.0), "score": Reading(0.9)}
    assert analysis.run(spec(), lambda a: fine, lambda: None, sleep=clock.sleep).ok
    checks = iter([None, None, "api turned unhealthy"])
    verdict = analysis.run(spec(), lambda a: fine, lambda: next(checks), sleep=clock.sleep)
    assert not verdict.ok and verdict.failures == ["health: the canary api turned unhealthy"]
