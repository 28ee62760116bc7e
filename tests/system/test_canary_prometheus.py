"""A canary judged through a real Prometheus server (Debian's ``prometheus``) running the
generated monitoring stack's job, which finds the test containers through Docker service
discovery and labels their series with the release id mlopsctl puts on them."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.deploys import new_project, rows
from tests.helpers.engine import remove_test_objects
from tests.helpers.machine import need
from tests.system.conftest import METRICS_PATH
from tests.system.test_canary import COMPOSE
from tests.system.test_traffic import Client, deploy

pytestmark = pytest.mark.docker


def prometheus_config(project: Path) -> str:
    """The generated monitoring stack's ``mlopsctl-releases`` job (``new-stage --template
    monitoring``), as this server's only job: scraped every second, at the test images'
    metrics path."""
    import yaml

    from tests.system.conftest import mlopsctl

    out = mlopsctl(project, "new-stage", "6.1", "monitoring", "--template", "monitoring")
    assert out.returncode == 0, out.stderr
    generated = yaml.safe_load((project / "docker/prometheus/prometheus.yml").read_text())
    (job,) = [j for j in generated["scrape_configs"] if j["job_name"] == "mlopsctl-releases"]
    job["metrics_path"] = METRICS_PATH
    job["docker_sd_configs"][0]["refresh_interval"] = "1s"
    return yaml.safe_dump({"global": {"scrape_interval": "1s"}, "scrape_configs": [job]})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def prometheus_project(tmp_path: Path, images: str) -> Iterator[tuple[Path, str]]:
    binary = shutil.which("prometheus")
    need(
        "prometheus",
        None if binary else "the Prometheus server is missing: apt-get install prometheus",
    )
    assert binary is not None
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = f"""  staging:
    drain: 1
    bake: 1
    strategy: canary
    analysis:
      delay: 6  # the server's discovery hands new targets over at most every 5 s
      interval: 3
      samples: 2
      prometheus: {url}
      metrics:
        error-rate:
          kind: ratio
          numerator: http_requests_total{{code=~"5.."}}
          denominator: http_requests_total
          max: 0.05
        model-score: {{kind: gauge, selector: model_prediction_confidence_mean, min: 0.7}}
"""
    root = new_project(tmp_path, COMPOSE, settings)
    config = tmp_path / "prometheus.yml"
    config.write_text(prometheus_config(root))
    server = subprocess.Popen(
        [binary, f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
         f"--storage.tsdb.path={tmp_path / 'tsdb'}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2):
                    break
            except OSError:
                time.sleep(0.1)
        yield root, url
    finally:
        server.terminate()
        server.wait(timeout=30)
        remove_test_objects(root.name)


def targets(url: str) -> str:
    with urllib.request.urlopen(f"{url}/api/v1/targets?state=any", timeout=5) as answer:
        text: str = answer.read().decode()
        return text


def test_a_canary_judged_through_prometheus(prometheus_project: tuple[Path, str]) -> None:
    root, url = prometheus_project
    assert deploy(root, "deploy", "staging", "--version", "v1").returncode == 0
    client = Client(root)
    try:
        client.settle()
        good = deploy(root, "deploy", "staging", "--version", "v4")
        assert good.returncode == 0, good.stdout + targets(url)  # what the server scraped
        samples = json.loads(good.stdout)["release"]["samples"]
        assert [s["ok"] for s in samples] == [True, True]
        score = next(m for m in samples[-1]["metrics"] if m["name"] == "model-score")
        assert score["value"] == pytest.approx(0.88)  # v4's own series, not v1's 0.9
        bad = deploy(root, "deploy", "staging", "--version", "v5")
        assert bad.returncode == 1, bad.stdout
        (line,) = json.loads(bad.stdout)["failures"]
        assert line.startswith("error-rate = 0.3333, above max 0.05 (sample 1 of 2)"), line
        assert client.settle()[-20:] == ["ok v4"] * 20
        assert "fail" not in client.lines()
        print(f"\nprometheus source: {len(client.lines())} requests, 0 failed")
    finally:
        client.stop()
    assert [r["outcome"] for r in rows(root)] == ["success", "success", "aborted"]
