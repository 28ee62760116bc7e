"""A canary's analysis: samples of the canary's own metrics, judged against their bounds.

``environments.<env>.analysis`` in ``mlops.yaml`` (validated when the config loads):

.. code-block:: yaml

    analysis:
      delay: 0              # seconds before the first interval starts (e.g. until a
                            # Prometheus server has discovered and scraped the canary)
      interval: 10          # seconds between samples
      samples: 6            # how many samples
      failure_limit: 1      # failed samples tolerated; one more aborts
      replicas: 1           # canary containers (Swarm: tasks) per service
      scrape: {port: 8000, path: /metrics}    # or: prometheus: http://prometheus:9090
      metrics:
        error-rate:
          kind: ratio
          numerator: http_requests_total{code=~"5.."}
          denominator: http_requests_total
          max: 0.05
        model-score:
          kind: gauge
          selector: model_prediction_confidence_mean
          min: 0.7

Where the numbers come from:

- **scrape**: each canary container's Prometheus endpoint, read with ``prometheus_client``'s
  parser. A fresh canary's counters cover its whole life, so a ratio is the sum of the
  numerator over all canary containers divided by the sum of the denominator, and a gauge is
  the mean over the containers.
- **prometheus**: PromQL through the server's HTTP API, over the series that carry the
  canary's release id in ``prometheus_label`` (default ``mlops_release``; the generated
  monitoring stack relabels mlopsctl's container label ``io.mlopsctl.release`` to it): a ratio
  is ``sum(rate(numerator[interval])) / sum(rate(denominator[interval]))``, a gauge
  ``avg(selector)``.

A sample fails when a metric breaks a bound or has no data (said so); more than
``failure_limit`` failed samples abort the canary.
"""

from __future__ import annotations

import json
import math
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mlopsctl.core.promql import Selector, parse

DEFAULTS = {"interval": 10.0, "samples": 5, "failure_limit": 0, "replicas": 1}
SCRAPE_TIMEOUT = 5.0
MAX_BODY = 8 * 1024 * 1024


@dataclass(frozen=True)
class Metric:
    name: str
    kind: str  # gauge or ratio
    selectors: tuple[Selector, ...]  # gauge: (selector,); ratio: (numerator, denominator)
    min: float | None = None
    max: float | None = None

    def bounds(self) -> str:
        parts = []
        if self.min is not None:
            parts.append(f"min {_num(self.min)}")
        if self.max is not None:
            parts.append(f"max {_num(self.max)}")
        return ", ".join(parts)

    def describe(self) -> str:
        what = (
            self.selectors[0].text
            if self.kind == "gauge"
            else f"{self.selectors[0].text} / {self.selectors[1].text}"
        )
        return f"{self.name}: {self.kind} {what} ({self.bounds()})"

    def broken(self, value: float) -> str | None:
        """The bound ``value`` breaks, e.g. ``above max 0.05``; None when it keeps both."""
        if self.min is not None and value < self.min:
            return f"under min {_num(self.min)}"
        if self.max is not None and value > self.max:
            return f"above max {_num(self.max)}"
        return None


@dataclass(frozen=True)
class Analysis:
    interval: float
    samples: int
    failure_limit: int
    replicas: int
    metrics: tuple[Metric, ...]
    scrape_port: int | None = None
    scrape_path: str = "/metrics"
    services: tuple[str, ...] = ()  # scrape only these (default: every service)
    prometheus: str | None = None
    label: str = "mlops_release"
    delay: float = 0.0

    @property
    def source(self) -> str:
        if self.prometheus:
            return f"prometheus {self.prometheus} (series with {self.label}=<the release id>)"
        return f"scrape :{self.scrape_port}{self.scrape_path} of each canary container"

    def as_dict(self) -> dict[str, Any]:
        return {
            "delay": self.delay, "interval": self.interval, "samples": self.samples,
            "failure_limit": self.failure_limit, "replicas": self.replicas,
            "source": self.source, "metrics": [m.describe() for m in self.metrics],
        }  # fmt: skip


def from_config(raw: dict[str, Any], key: str) -> Analysis:
    """The analysis of an environment (already validated by :mod:`mlopsctl.core.config`)."""
    metrics = []
    for name, spec in (raw.get("metrics") or {}).items():
        names = ("selector",) if spec["kind"] == "gauge" else ("numerator", "denominator")
        selectors = tuple(parse(spec[n], f"{key}.metrics.{name}.{n}") for n in names)
        metrics.append(Metric(name, spec["kind"], selectors, spec.get("min"), spec.get("max")))
    scrape = raw.get("scrape") or {}
    return Analysis(
        interval=float(raw.get("interval", DEFAULTS["interval"])),
        samples=int(raw.get("samples", DEFAULTS["samples"])),
        failure_limit=int(raw.get("failure_limit", DEFAULTS["failure_limit"])),
        replicas=int(raw.get("replicas", DEFAULTS["replicas"])),
        metrics=tuple(metrics),
        scrape_port=scrape.get("port"),
        scrape_path=scrape.get("path", "/metrics"),
        services=tuple(scrape.get("services") or ()),
        prometheus=raw.get("prometheus"),
        label=raw.get("prometheus_label", "mlops_release"),
        delay=float(raw.get("delay", 0.0)),
    )


# --- sources ------------------------------------------------------------------------------


@dataclass
class Reading:
    """One metric's value in one sample, or why there is none."""

    value: float | None
    why: str = ""  # no data: why


Source = Callable[[Analysis], dict[str, Reading]]


def fetch(url: str, timeout: float = SCRAPE_TIMEOUT) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        body: bytes = response.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise ValueError(f"more than {MAX_BODY // (1024 * 1024)} MiB")
    return body.decode("utf-8", errors="replace")


Series = list[tuple[str, dict[str, str], float]]


def parse_exposition(text: str) -> Series:
    """The samples of a Prometheus text exposition, through ``prometheus_client``'s parser."""
    from prometheus_client.parser import text_string_to_metric_families

    out: Series = []
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.append((sample.name, dict(sample.labels), float(sample.value)))
    return out


def scraped(targets: list[tuple[str, str]], fetcher: Callable[[str], str] = fetch) -> Source:
    """A source that scrapes ``targets`` ((name, URL) of each canary container) per sample."""

    def read(analysis: Analysis) -> dict[str, Reading]:
        series: list[Series] = []
        problems = []
        for name, url in targets:
            try:
                series.append(parse_exposition(fetcher(url)))
            except (OSError, ValueError) as exc:
                problems.append(f"{name}: {type(exc).__name__}: {exc}")
        if not targets:
            problems.append("no canary container to scrape")
        return {m.name: _from_series(m, series, problems) for m in analysis.metrics}

    return read


def _from_series(metric: Metric, per_target: list[Series], problems: list[str]) -> Reading:
    if problems:
        return Reading(None, "; ".join(problems))
    key = f"analysis.metrics.{metric.name}"

    def matching(selector: Selector) -> list[float]:
        return [
            v for series in per_target for name, labels, v in series
            if selector.matches(name, labels, key) and math.isfinite(v)
        ]  # fmt: skip

    if metric.kind == "gauge":
        values = matching(metric.selectors[0])
        if not values:
            return Reading(None, f"no series matches {metric.selectors[0].text}")
        return Reading(sum(values) / len(values))
    top, bottom = (matching(s) for s in metric.selectors)
    if not bottom:
        return Reading(None, f"no series matches {metric.selectors[1].text}")
    if sum(bottom) == 0:
        return Reading(None, f"{metric.selectors[1].text} is 0 (no requests yet)")
    return Reading(sum(top) / sum(bottom))


def prometheus(base: str, release: str, fetcher: Callable[[str], str] = fetch) -> Source:
    """A source that asks a Prometheus server, over the canary release's series."""

    def read(analysis: Analysis) -> dict[str, Reading]:
        extra = {analysis.label: release}
        window = f"{max(1, int(analysis.interval * 1000))}ms"
        out = {}
        for m in analysis.metrics:
            if m.kind == "gauge":
                query = f"avg({m.selectors[0].promql(extra)})"
            else:
                top, bottom = (s.promql(extra) for s in m.selectors)
                query = f"sum(rate({top}[{window}])) / sum(rate({bottom}[{window}]))"
            out[m.name] = _ask(base, query, fetcher)
        return out

    return read


def _ask(base: str, query: str, fetcher: Callable[[str], str]) -> Reading:
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': query})}"
    try:
        doc = json.loads(fetcher(url))
    except (OSError, ValueError) as exc:
        return Reading(None, f"prometheus did not answer {query} ({type(exc).__name__}: {exc})")
    result = (doc.get("data") or {}).get("result") if isinstance(doc, dict) else None
    if not isinstance(result, list) or not result:
        return Reading(None, f"prometheus has no data for {query}")
    try:
        value = float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return Reading(None, f"prometheus answered {query} with no number")
    if not math.isfinite(value):
        return Reading(None, f"prometheus has no data for {query} (it is {value})")
    return Reading(value)


# --- judging ------------------------------------------------------------------------------


@dataclass
class Verdict:
    ok: bool
    samples: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line per failed metric
    reason: str = ""


def judge(analysis: Analysis, readings: dict[str, Reading], n: int) -> dict[str, Any]:
    """Sample ``n`` (from 1) of ``readings``: each metric's value, bounds and verdict."""
    metrics = []
    for m in analysis.metrics:
        reading = readings.get(m.name) or Reading(None, "not read")
        if reading.value is None:
            problem: str | None = f"no data: {reading.why}"
        else:
            problem = m.broken(reading.value)
        metrics.append({
            "name": m.name, "value": reading.value, "min": m.min, "max": m.max,
            "ok": problem is None, "problem": problem or "",
        })  # fmt: skip
    return {"sample": n, "at": time.time(), "ok": all(x["ok"] for x in metrics),
            "metrics": metrics}  # fmt: skip


def failure_lines(analysis: Analysis, samples: list[dict[str, Any]]) -> list[str]:
    """One line per metric that failed a sample: its name, last failing value, bound and the
    samples it failed."""
    lines = []
    for m in analysis.metrics:
        failed = [
            (s["sample"], x) for s in samples for x in s["metrics"]
            if x["name"] == m.name and not x["ok"]
        ]  # fmt: skip
        if not failed:
            continue
        numbers = ", ".join(str(n) for n, _ in failed)
        last = failed[-1][1]
        which = f"sample{'s' if len(failed) > 1 else ''} {numbers} of {analysis.samples}"
        if last["value"] is None:
            lines.append(f"{m.name}: {last['problem']} ({which})")
        else:
            lines.append(f"{m.name} = {_num(last['value'])}, {last['problem']} ({which})")
    return lines


def run(
    analysis: Analysis, source: Source, healthy: Callable[[], str | None],
    on_sample: Callable[[dict[str, Any]], None] | None = None,
    sleep: Callable[[float], None] = time.sleep, poll: float = 0.5,
) -> Verdict:  # fmt: skip
    """Take the samples, ``interval`` apart, and judge them. ``healthy`` is asked while
    waiting (a canary that turns unhealthy or exits aborts at once: its reason)."""
    verdict = Verdict(True)
    failed = 0
    for n in range(1, analysis.samples + 1):
        deadline = time.monotonic() + analysis.interval + (analysis.delay if n == 1 else 0.0)
        while True:
            problem = healthy()
            if problem:
                verdict.ok, verdict.reason = False, f"the canary {problem}"
                verdict.failures.append(f"health: the canary {problem}")
                return verdict
            left = deadline - time.monotonic()
            if left <= 0:
                break
            sleep(min(poll, left))
        sample = judge(analysis, source(analysis), n)
        verdict.samples.append(sample)
        if on_sample is not None:
            on_sample(sample)
        if not sample["ok"]:
            failed += 1
            if failed > analysis.failure_limit:
                verdict.ok = False
                verdict.failures = failure_lines(analysis, verdict.samples)
                verdict.reason = (
                    f"{failed} of {n} samples failed (failure_limit {analysis.failure_limit})"
                )
                return verdict
    return verdict


def _num(value: float) -> str:
    return f"{value:.4g}"
