"""Stage templates and --from, checked by the real validators and by their own tests."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml

from mlopsctl.core import config
from mlopsctl.core.scaffold import create
from tests.conftest import snapshot
from tests.helpers.machine import need
from tests.system.conftest import REPO, mlopsctl, run, tool

TEMPLATES = [("4.1", "ci-pipeline", "cicd-pipeline"), ("5.1", "serving-api", "model-serving"),
             ("6.1", "monitoring-api", "monitoring")]  # fmt: skip


@pytest.fixture
def full(project: Path) -> Path:
    """A project with every stage template applied."""
    cfg = config.load(project)
    for sub, feature, template in TEMPLATES:
        create.plan_new_stage(cfg, sub, feature, template).apply()
    return project


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        need("promtool", "promtool is missing: apt-get install prometheus (.ci/run does)")
    return found


def test_prometheus_config_and_rules_pass_promtool(full: Path) -> None:
    run([promtool(), "check", "config", "docker/prometheus/prometheus.yml"], full)
    out = run([promtool(), "check", "rules", "docker/prometheus/alert_rules.yml"], full)
    assert "SUCCESS: 4 rules found" in out.stdout
    rules = (full / "docker/prometheus/alert_rules.yml").read_text()
    for alert in ("ServiceDown", "HighErrorRate", "SlowP95"):
        assert f"alert: {alert}" in rules


def test_monitoring_files(full: Path) -> None:
    compose_file = (full / "docker/docker-compose.monitoring.yml").read_text()
    for service in ("prometheus:", "grafana:", "alertmanager:", "loki:", "monitoring-api:"):
        assert service in compose_file
    dashboard = json.loads((full / "docker/grafana/dashboards/monitoring-api.json").read_text())
    exprs = " ".join(t["expr"] for p in dashboard["panels"] for t in p["targets"])
    assert "http_requests_total" in exprs and "http_request_duration_seconds_bucket" in exprs
    assert (full / "docs/ops/MONITORING_GUIDE.md").is_file()
    env = {**os.environ, "GRAFANA_ADMIN_PASSWORD": "x"}
    command = ["docker", "compose"] if shutil.which("docker") and subprocess.run(
        ["docker", "compose", "version"], capture_output=True).returncode == 0 else ["docker-compose"]  # fmt: skip
    if shutil.which(command[0]):
        run([*command, "-f", "docker/docker-compose.monitoring.yml", "config", "-q"], full, env)


def test_workflows_pass_actionlint_and_scripts_pass_shellcheck(full: Path) -> None:
    run([tool("actionlint"), ".github/workflows/ci.yml"], full)
    assert sorted(p.name for p in (full / ".github/workflows").iterdir()) == ["ci.yml"]
    workflow = (full / ".github/workflows/ci.yml").read_text()
    for job in ("conventions:", "test:", "coverage:", "security:", "build:"):
        assert f"\n  {job}\n" in workflow  # one workflow, extended by cicd-pipeline
    scripts = sorted(str(p.relative_to(full)) for p in full.rglob("*.sh"))
    assert "scripts/deploy/deploy_staging.sh" in scripts and "scripts/deploy/rollback.sh" in scripts
    run([tool("shellcheck"), *scripts], full)
    # the script hands over to the environment's own strategy (blue-green, swarm or canary)
    assert "--strategy" not in (full / "scripts/deploy/deploy_staging.sh").read_text()


def test_requirements_gain_what_the_templates_need_once(full: Path) -> None:
    requirements = (full / "requirements.txt").read_text().splitlines()
    assert requirements.count("prometheus-client>=0.17") == 1
    dev = (full / "requirements-dev.txt").read_text().splitlines()
    assert dev.count("bandit>=1.7") == 1
    template = (full / ".env.template").read_text()
    assert "GRAFANA_ADMIN_PASSWORD=\n" in template and "SERVING_API_PORT=8501" in template
    assert "MONITORING_API_PORT=8601" in template  # a port of its own per substage


def test_every_templates_generated_tests_pass(full: Path) -> None:
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=full,
                         capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr
    runner = mlopsctl(full, "test", "--json")
    assert runner.returncode == 0, runner.stdout
    assert all(s["status"] == "passed" for s in json.loads(runner.stdout)["suites"])
    assert mlopsctl(full, "check-names").returncode == 0


def serve(project: Path, *args: str) -> subprocess.Popen[str]:
    """The model-serving module as a process on loopback, started from the project root."""
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    return subprocess.Popen(
        [sys.executable, "-m", "demo.model_serving.serving_api", "--host", "127.0.0.1", "--port", "0", *args],
        cwd=project, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_the_serving_module_answers_on_loopback_with_its_model(full: Path) -> None:
    model = json.loads((full / "models/serving-api.json").read_text())
    assert model["version"] == "0.1.0" and model["format"] == "linear/v1"
    ignored = subprocess.run(["git", "check-ignore", "-q", "models/serving-api.json"], cwd=full)
    assert ignored.returncode == 1  # the default model is committed with the code
    model |= {"version": "2026.12.1", "weights": [1.0, 1.0, 1.0], "bias": 0.5}
    (full / "models/serving-api.json").write_text(json.dumps(model))
    proc = serve(full)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split()[-1]
        with urllib.request.urlopen(f"{base}/health", timeout=5) as response:
            health = json.load(response)
        assert health["status"] == "ok" and health["model_version"] == "2026.12.1"
        request = urllib.request.Request(f"{base}/predict", data=b'{"features": [2, 4, 4]}')
        with urllib.request.urlopen(request, timeout=5) as response:
            answer = json.load(response)
            assert answer == {"prediction": 10.5, "confidence": pytest.approx(0.99997, abs=1e-5),
                              "model_version": "2026.12.1"}  # fmt: skip
        with urllib.request.urlopen(f"{base}/metrics", timeout=5) as response:
            metrics = response.read().decode()
        assert 'http_requests_total{method="GET",path="/health",status="200"} 1.0' in metrics
        assert "http_request_duration_seconds_bucket" in metrics
        assert "model_predictions_total 1.0" in metrics
        assert 'model_info{name="serving-api",version="2026.12.1"} 1.0' in metrics
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        (None, "does not exist; train and save one there"),
        (b"", "is not readable JSON"),
        (b'{"format": "linear/v1", "weights": [1', "is not readable JSON"),
        (b"\xff\xfe", "is not readable JSON"),
        (b'{"format": "linear/v1", "name": "m", "version": "1", "weights": []}', "weights"),
        (b'{"format": "pickle", "name": "m", "version": "1", "weights": [1]}', "not a linear/v1"),
    ],
)
def test_the_serving_module_refuses_to_start_on_a_bad_model(
    full: Path, content: bytes | None, fault: str
) -> None:
    path = full / "models/serving-api.json"
    if content is None:
        path.unlink()
    else:
        path.write_bytes(content)
    proc = serve(full)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and out == ""
    (line,) = err.splitlines()
    assert line.startswith("cannot start: model file models/serving-api.json")
    assert fault in line


def test_substage_docs_name_only_what_was_generated(full: Path) -> None:
    """Every file, variable and module a substage's docs name exists in the project."""
    cfg = config.load(full)
    create.plan_new_stage(cfg, "1.1", "data-ingestion").apply()
    code = "\n".join(  # what reads settings: modules and compose files
        [p.read_text() for p in (full / "src").rglob("*.py")]
        + [p.read_text() for p in (full / "docker").rglob("*.yml")]
    )
    env_keys = {line.split("=", 1)[0] for line in (full / ".env.template").read_text().splitlines()}
    docs = sorted((full / "docs").glob("0*/[0-9].[0-9]-*-*.md"))
    assert len(docs) == 2 * (len(TEMPLATES) + 1)
    for doc in docs:
        text = doc.read_text()
        named = re.findall(r"``?([^`\n]+)``?", text)
        for token in named:
            if re.fullmatch(r"[\w.-]+(/[\w.{}-]+)+\.\w+", token):
                assert (full / token).is_file(), f"{doc.name} names {token}"
            elif re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", token):
                assert token in code, f"{doc.name} names {token}, which nothing reads"
            elif re.fullmatch(r"[A-Z][a-z]+(?:[A-Z][a-z0-9]+)+", token):
                assert f"class {token}" in code, f"{doc.name} names a class {token}"
        for module in re.findall(r"python -m ([\w.]+)", text):
            assert (full / "src" / (module.replace(".", "/") + ".py")).is_file(), module
        if doc.name.endswith("-implementation.md"):
            settings = text.split("## Settings", 1)[1].split("## Files", 1)[0]
            for key in re.findall(r"^\| `(\w+)` \|", settings, re.MULTILINE):
                assert key in env_keys and key in code, (doc.name, key)
            assert "### `src/demo/" in text  # the module's own docstring, quoted
    serving = (full / "docs/05-model-serving/5.1-serving-api-implementation.md").read_text()
    assert "models/serving-api.json" in serving and "SERVING_API_MODEL_PATH" in serving
    testing = (full / "docs/05-model-serving/5.1-serving-api-testing.md").read_text()
    levels = re.findall(r"^\| (\w+) \| `tests/", testing, re.MULTILINE)
    assert levels == ["unit", "unit", "integration", "e2e"]  # the rollback test is a unit test too
    assert "test_5_1_serving_api_rollback.py" in testing


def test_the_longest_names_pass_the_generated_gates(tmp_path: Path) -> None:
    """Every template with module paths of exactly MAX_MODULE characters passes the ruff,
    format and strict mypy gates the project generates, and its own tests; one more
    character is refused before anything is written."""
    package = "p" * 16
    assert mlopsctl(tmp_path, "init", "long", "--package", package).returncode == 0
    root = tmp_path / "long"
    cfg = config.load(root)

    def longest(number: int) -> str:
        room = create.MAX_MODULE - len(package) - len(cfg.stages[number].module) - 2
        return ("abcdefghij" * 10)[:room]

    for sub, template in [("1.1", "stage"), ("4.1", "cicd-pipeline"), ("5.1", "model-serving"),
                          ("6.1", "monitoring")]:  # fmt: skip
        feature = longest(int(sub[0]))
        done = mlopsctl(root, "new-stage", sub, feature, "--template", template)
        assert done.returncode == 0, done.stderr
    before = snapshot(root)
    over = mlopsctl(root, "new-stage", "1.2", longest(1) + "x")
    assert over.returncode == 2 and "use a feature name of at most" in over.stderr
    copy = mlopsctl(root, "new-stage", "6.2", "--from", "6.1")  # the derived name is longer
    assert copy.returncode == 2 and f"at most {len(longest(6))} characters" in copy.stderr
    assert snapshot(root) == before
    run([tool("ruff"), "check", "."], root)
    run([tool("ruff"), "format", "--check", "."], root)
    run([tool("mypy")], root)
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], root, env)


def test_templates_list_and_set_validation(project: Path) -> None:
    listing = json.loads(mlopsctl(project, "templates", "list", "--json").stdout)["templates"]
    found = {t["name"]: t for t in listing}
    assert found["monitoring"]["stages"] == [6]
    params = {p["name"]: (p["type"], p["default"]) for p in found["monitoring"]["parameters"]}
    assert params["error_rate_threshold"] == ("float", 0.05)
    before = snapshot(project)
    bad = mlopsctl(
        project,
        "new-stage",
        "6.1",
        "m",
        "--template",
        "monitoring",
        "--set",
        "error_rate_threshold=high",
    )
    assert bad.returncode == 2 and "expected a number" in bad.stderr
    wrong_stage = mlopsctl(project, "new-stage", "5.1", "m", "--template", "monitoring")
    assert wrong_stage.returncode == 2 and "made for stage 6" in wrong_stage.stderr
    assert snapshot(project) == before
    ok = mlopsctl(project, "new-stage", "6.1", "m", "--template", "monitoring",
                  "--set", "service_port=9100", "--set", "p95_threshold_seconds=0.25")  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert '"m:9100"' in (project / "docker/prometheus/prometheus.yml").read_text()
    assert "> 0.25" in (project / "docker/prometheus/alert_rules.yml").read_text()


def test_clone_a_substage(full: Path) -> None:
    module = full / "src/demo/monitoring/monitoring_api.py"
    module.write_text(module.read_text() + "\nEXTRA = 'kept by the clone'\n")
    before = snapshot(full)
    dry = mlopsctl(full, "new-stage", "6.2", "alerting", "--from", "6.1", "--dry-run", "--json")
    assert dry.returncode == 0
    assert snapshot(full) == before
    actions = {a["path"]: a["action"] for a in json.loads(dry.stdout)["actions"]}
    assert actions["tests/unit/test_6_2_alerting.py"] == "create"
    assert actions["docs/06-monitoring/6.2-alerting-implementation.md"] == "create"
    assert actions["docker/prometheus/prometheus.yml"] == "update"  # 6.2 gets its scrape job
    assert mlopsctl(full, "new-stage", "6.2", "alerting", "--from", "6.1").returncode == 0
    clone = (full / "src/demo/monitoring/alerting.py").read_text()
    assert 'STAGE_ID = "6.2"' in clone and 'FEATURE = "alerting"' in clone
    assert "EXTRA = 'kept by the clone'" in clone and "ALERTING_PORT" in clone
    assert "ALERTING_PORT=8602" in (full / ".env.template").read_text()
    assert '"8602"' in clone  # the default port follows the number
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "tests", "-k", "6_2", "-p", "no:cacheprovider"],
                         cwd=full, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout
    assert "passed" in out.stdout
    again = mlopsctl(full, "new-stage", "6.2", "alerting", "--from", "6.1")
    assert again.returncode == 0  # identical: nothing to do
    (full / "tests/unit/test_6_2_alerting.py").write_text("# mine\n")
    conflict = mlopsctl(full, "new-stage", "6.2", "alerting", "--from", "6.1")
    assert conflict.returncode == 3
    assert (full / "tests/unit/test_6_2_alerting.py").read_text() == "# mine\n"
    missing = mlopsctl(full, "new-stage", "6.3", "x", "--from", "6.9")
    assert missing.returncode == 2 and "no substage 6.9" in missing.stderr
    across = mlopsctl(full, "new-stage", "7.1", "secured-api", "--from", "5.1")
    assert across.returncode == 0, across.stderr
    assert (full / "src/demo/security/secured_api.py").is_file()
    assert (full / "src/demo/security/__init__.py").is_file()
    assert (full / "docs/07-security/7.1-secured-api-testing.md").is_file()
    assert mlopsctl(full, "check-names").returncode == 0
    stages = {s["id"] for s in json.loads(mlopsctl(full, "stages", "--json").stdout)["substages"]}
    assert {"6.2", "7.1"} <= stages


def test_generated_deploy_scripts_pass_the_environment_and_yes(
    project: Path, tmp_path: Path
) -> None:
    out = mlopsctl(project, "new-stage", "5.1", "serving", "--template", "model-serving")
    assert out.returncode == 0, out.stderr
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "mlopsctl").write_text('#!/bin/sh\necho "$@"\n')
    (fake / "mlopsctl").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
        "MLOPS_ENV": "production",
    }

    def script(*args: str) -> list[str]:
        done = subprocess.run(["bash", *args], cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert script("scripts/deploy/rollback.sh", "v1", "--yes") == [
        "rollback", "v1", "--yes", "--env", "production"
    ]  # fmt: skip
    assert script("scripts/deploy/rollback.sh", "--env", "staging") == [
        "rollback", "--env", "staging"
    ]  # fmt: skip
    assert script("scripts/deploy/deploy_production.sh", "v2", "--yes") == [
        "deploy", "production", "--version", "v2", "--yes"
    ]  # fmt: skip


def test_the_edge_router_config_is_valid_nginx_and_compose(project: Path, tmp_path: Path) -> None:
    out = mlopsctl(project, "new-stage", "5.1", "serving", "--template", "model-serving")
    assert out.returncode == 0, out.stderr
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    need("nginx", None if Path(nginx).exists() else "nginx is missing: apt-get install nginx-light")
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"events {{}}\nhttp {{\n include {project / 'docker/nginx/edge.conf'};\n}}\n")
    checked = subprocess.run(
        [nginx, "-t", "-c", str(conf), "-g", f"pid {tmp_path}/n.pid; error_log {tmp_path}/e.log;"],
        capture_output=True, text=True,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    text = (project / "docker/nginx/edge.conf").read_text()
    assert "resolver 127.0.0.11 valid=1s" in text and "proxy_next_upstream error timeout" in text
    compose = ["docker", "compose"] if subprocess.run(
        ["docker", "compose", "version"], capture_output=True).returncode == 0 else ["docker-compose"]  # fmt: skip
    for env, port in (("staging", "8080"), ("production", "8081")):
        done = subprocess.run([*compose, "-f", f"docker/docker-compose.edge-{env}.yml", "config"],
                              cwd=project, capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert f"name: {project.name}-{env}" in done.stdout and port in done.stdout


@pytest.mark.docker
def test_the_build_context_never_carries_the_env_file(project: Path, tmp_path: Path) -> None:
    (project / ".env").write_text("API_TOKEN=secret-value\n")
    (project / "data" / "big.csv").write_text("1,2\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nCOPY . /ctx/\n")
    tag = f"mlopsctl-ctx-{project.name.lower()}:1"
    run(["docker", "build", "-q", "-t", tag, "-f", str(dockerfile), str(project)], project)
    try:
        cid = run(["docker", "create", tag, "none"], project).stdout.strip()
        listing = subprocess.run(["docker", "export", cid], capture_output=True, check=True)
        import io
        import tarfile

        with tarfile.open(fileobj=io.BytesIO(listing.stdout)) as archive:
            names = archive.getnames()
        subprocess.run(["docker", "rm", cid], capture_output=True)
    finally:
        subprocess.run(["docker", "rmi", tag], capture_output=True)
    assert "ctx/.env.template" in names and "ctx/src" in names
    assert not any(n in ("ctx/.env", "ctx/.git", "ctx/data/big.csv") for n in names)


def test_the_readmes_first_command_creates_the_project_outside_the_checkout(tmp_path: Path) -> None:
    readme = (REPO / "README.md").read_text()
    first = next(
        line for line in readme.splitlines() if line.startswith("python3 -m pip install . &&")
    )
    after_install = first.split("&&", 1)[1].strip()
    bin_dir = str(Path(sys.executable).parent)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "TMPDIR": str(tmp_path),
    }
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    ).stdout
    done = subprocess.run(["bash", "-c", f"{after_install} && pwd"], cwd=REPO, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    made = Path(done.stdout.strip().splitlines()[-1])
    assert made.name == "demo" and tmp_path in made.parents
    assert (made / ".git").is_dir() and (made / "mlops.yaml").is_file()
    after = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, capture_output=True, text=True
    ).stdout
    assert after == before  # nothing written into the checkout


def test_the_swarm_variant_sets_its_engine_in_mlops_yaml_and_destroy_takes_it_back(
    project: Path,
) -> None:
    before = (project / "mlops.yaml").read_bytes()
    out = mlopsctl(project, "new-stage", "5.1", "api", "--template", "model-serving",
                   "--set", "engine=swarm")  # fmt: skip
    assert out.returncode == 0, out.stderr
    envs = config.validate(yaml.safe_load((project / "mlops.yaml").read_text()))["environments"]
    assert envs == {"staging": {"engine": "swarm"}, "production": {"engine": "swarm"}}
    assert "--strategy" not in (project / "scripts/deploy/deploy_staging.sh").read_text()
    assert mlopsctl(project, "destroy-stage", "5.1").returncode == 0
    assert (project / "mlops.yaml").read_bytes() == before


def test_a_block_that_would_repeat_the_users_environment_is_refused(project: Path) -> None:
    settings = project / "mlops.yaml"
    settings.write_text(settings.read_text() + "  staging:\n    drain: 5\n")
    tree = snapshot(project)
    out = mlopsctl(project, "new-stage", "5.1", "api", "--template", "model-serving",
                   "--set", "engine=swarm")  # fmt: skip
    assert out.returncode == 2, out.stderr
    assert "key 'staging' appears twice" in out.stderr and "by hand" in out.stderr
    assert snapshot(project) == tree
    plain = mlopsctl(project, "new-stage", "5.2", "api2", "--template", "model-serving")
    assert plain.returncode == 0, plain.stderr  # compose adds nothing to mlops.yaml
    assert settings.read_text().endswith("  staging:\n    drain: 5\n")
