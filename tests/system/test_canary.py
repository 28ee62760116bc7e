"""Canary deploys on Docker Compose, judged by the canary's own metrics, with a client that
counts every answer (and never retries) the whole time.

The test images serve their version on ``/`` and Prometheus metrics through a CGI: request
counters that grow with the container's uptime (v5: one 5xx in three) and a model score gauge
(v6: 0.2). See tests/system/conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlopsctl.core.deploy.history import Store
from tests.helpers.deploys import new_project, rows
from tests.helpers.engine import remove_test_objects
from tests.system.conftest import HEALTHCHECK, IMAGE, METRICS_PATH, mlopsctl
from tests.system.test_traffic import Client, attached_colours, deploy, docker

pytestmark = pytest.mark.docker

COMPOSE = f"services:\n  api:\n    image: {IMAGE}:${{MLOPS_VERSION}}\n{HEALTHCHECK}"
ANALYSIS = f"""    analysis:
      interval: 1
      samples: 4
      failure_limit: 0
      scrape: {{port: 8080, path: {METRICS_PATH}}}
      metrics:
        error-rate:
          kind: ratio
          numerator: http_requests_total{{code=~"5.."}}
          denominator: http_requests_total
          max: 0.05
        model-score:
          kind: gauge
          selector: model_prediction_confidence_mean
          min: 0.7
"""
SETTINGS = "  staging:\n    drain: 1\n    bake: 2\n    strategy: canary\n" + ANALYSIS


@pytest.fixture
def canary_project(tmp_path: Path, images: str) -> Iterator[Path]:
    root = new_project(tmp_path, COMPOSE, SETTINGS)
    yield root
    remove_test_objects(root.name)


def canaries_left(project: Path) -> list[str]:
    return docker("ps", "-aq", "--filter", f"label=io.mlopsctl.project={project.name}",
                  "--filter", "label=io.mlopsctl.canary=true").split()  # fmt: skip


def test_a_good_canary_is_promoted_and_bad_ones_are_aborted(canary_project: Path) -> None:
    first = deploy(canary_project, "deploy", "staging", "--version", "v1")
    assert first.returncode == 0, first.stderr
    assert "goes live without a canary analysis" in " ".join(json.loads(first.stdout)["warnings"])
    client = Client(canary_project)
    try:
        client.settle()
        before = len(client.lines())
        good = deploy(canary_project, "deploy", "staging", "--version", "v4")
        assert good.returncode == 0, good.stdout
        during = client.lines()[before:]
        first_v4 = during.index("ok v4")
        assert "ok v1" in during[first_v4:], "both versions answer during the analysis"
        assert client.settle()[-20:] == ["ok v4"] * 20  # then only the new one
        promoted = json.loads(good.stdout)["release"]
        assert promoted["strategy"] == "canary" and promoted["outcome"] == "success"
        assert [s["ok"] for s in promoted["samples"]] == [True] * 4
        assert {m["name"] for m in promoted["samples"][0]["metrics"]} == {"error-rate",
                                                                           "model-score"}  # fmt: skip

        for bad, metric, bound in (("v5", "error-rate", "above max 0.05"),
                                   ("v6", "model-score", "under min 0.7")):  # fmt: skip
            out = deploy(canary_project, "deploy", "staging", "--version", bad)
            assert out.returncode == 1, out.stdout
            doc = json.loads(out.stdout)
            assert doc["release"]["outcome"] == "aborted"
            assert "v4 (green) still serves" in doc["release"]["message"]
            (line,) = doc["failures"]
            assert line.startswith(f"{metric} = ") and bound in line and "sample 1 of 4" in line
            assert client.settle()[-20:] == ["ok v4"] * 20
        lines = client.lines()
        assert "fail" not in lines, lines.count("fail")
        print(f"\ncanaries v4 (promoted), v5 and v6 (aborted): {len(lines)} requests, 0 failed")
    finally:
        client.stop()
    assert attached_colours(canary_project) == {"green"}
    assert canaries_left(canary_project) == [] or all(
        "green" in docker("inspect", "-f", '{{index .Config.Labels "io.mlopsctl.colour"}}', c)
        for c in canaries_left(canary_project)
    )  # the promoted canary is the live colour; no aborted one is left
    found = rows(canary_project)
    assert [(r["version"], r["outcome"]) for r in found] == [
        ("v1", "success"), ("v4", "success"), ("v5", "aborted"), ("v6", "aborted"),
    ]  # fmt: skip
    assert len(found[2]["samples"]) == 1 and not found[2]["samples"][0]["ok"]
    never = mlopsctl(canary_project, "rollback", "v5", "--env", "staging")
    assert never.returncode == 2 and "No kept images of v5" in never.stderr
    human = mlopsctl(canary_project, "deploy", "staging", "--version", "v6")
    assert human.returncode == 1
    assert "model-score = 0.2, under min 0.7 (sample 1 of 4)" in human.stderr
    assert "was aborted" in human.stdout


def test_the_dry_run_shows_the_steps_samples_and_bounds(canary_project: Path) -> None:
    assert deploy(canary_project, "deploy", "staging", "--version", "v1").returncode == 0
    out = mlopsctl(canary_project, "deploy", "staging", "--version", "v4", "--dry-run")
    assert out.returncode == 0, out.stderr
    assert "take 4 samples 1s apart" in out.stdout
    assert (
        'error-rate: ratio http_requests_total{code=~"5.."} / http_requests_total (max 0.05)'
        in (out.stdout)
    )
    assert "model-score: gauge model_prediction_confidence_mean (min 0.7)" in out.stdout
    assert canaries_left(canary_project) == []
    assert len(rows(canary_project)) == 1


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        ("kind: gauge", "environments.staging.analysis.metrics.model-score.kind"),
        ("min: 0.7", "environments.staging.analysis.metrics.model-score.min"),
        ("samples: 4", "environments.staging.analysis.samples"),
        ("numerator: http_requests_total{code=~\"5..\"}",
         "environments.staging.analysis.metrics.error-rate.numerator"),
    ],
)  # fmt: skip
def test_bad_analysis_settings_are_exit_2_before_anything_starts(
    canary_project: Path, edit: str, key: str
) -> None:
    broken = {
        "kind: gauge": "kind: histogram",
        "min: 0.7": 'min: "high"',
        "samples: 4": "samples: 0",
        'numerator: http_requests_total{code=~"5.."}': 'numerator: http_requests_total{code=~"5..}',
    }[edit]
    config = canary_project / "mlops.yaml"
    config.write_text(config.read_text().replace(edit, broken))
    out = mlopsctl(canary_project, "deploy", "staging", "--version", "v4")
    assert out.returncode == 2, out.stderr
    assert key in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert Store(canary_project.name).rows() == []  # no attempt was recorded
    assert docker("ps", "-aq", "--filter", f"label=io.mlopsctl.project={canary_project.name}") == ""
