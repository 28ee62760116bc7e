"""The attacks that broke mlopsctl's safety promises, each run against the real command.

Every test is the reproduction of a report: a planted record entry, a symbolic link out of
the project, a range that is an option, conflict markers, secrets with harmless key names,
damaged files of every kind. Each asserts the documented exit code, one line on stderr, no
traceback, and nothing changed outside (or, for bad input, inside) the project.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import git, snapshot
from tests.system.conftest import mlopsctl


def tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_file() and not path.is_symlink():
            digest.update(path.read_bytes())
    return digest.hexdigest()


def one_error(out: subprocess.CompletedProcess[str], code: int) -> str:
    """The single error line of a run that must exit ``code``."""
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0].startswith("mlopsctl: error: ")
    return lines[0]


@pytest.fixture
def staged(project: Path) -> Path:
    """A committed project with substage 6.1 and a sibling folder an attacker aims at."""
    out = mlopsctl(project, "new-stage", "6.1", "monitoring-api")
    assert out.returncode == 0, out.stderr
    git(project, "add", "-A")
    git(project, "commit", "-qm", "feat: stage 6.1", "--no-verify")
    outside = project.parent / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("do not touch\n")
    return project


# --- writes and reads outside the project ----------------------------------------------------


@pytest.mark.parametrize("planted", ["../outside/run_6_1_x.sh", "/tmp/mlopsctl-planted.sh"])
def test_a_planted_record_entry_is_refused(staged: Path, planted: str) -> None:
    record = staged / ".mlops/generated.json"
    doc = json.loads(record.read_text())
    first = next(iter(doc["files"].values()))
    doc["files"][planted] = dict(first)
    record.write_text(json.dumps(doc))
    outside = tree_hash(staged.parent / "outside")
    before = snapshot(staged)
    line = one_error(mlopsctl(staged, "new-stage", "6.2", "y", "--from", "6.1"), 2)
    assert "outside the project" in line and planted in line
    assert tree_hash(staged.parent / "outside") == outside
    assert snapshot(staged) == before
    assert not Path("/tmp/mlopsctl-planted.sh").exists()


@pytest.mark.parametrize("folder", ["docs/06-monitoring", "tests/unit"])
def test_a_folder_linked_out_of_the_project_is_not_written_through(
    project: Path, folder: str
) -> None:
    outside = project.parent / "outside"
    outside.mkdir()
    shutil.rmtree(project / folder)
    (project / folder).symlink_to(outside, target_is_directory=True)
    line = one_error(mlopsctl(project, "new-stage", "6.1", "monitoring-api"), 2)
    assert "outside the project" in line
    assert list(outside.iterdir()) == []


def test_a_range_is_never_an_option_to_git(staged: Path) -> None:
    victim = staged / "victim..txt"
    victim.write_text("intact\n")
    line = one_error(mlopsctl(staged, "check-commit", "--range", "--output=victim..txt"), 2)
    assert "--range" in line
    assert victim.read_text() == "intact\n"


def test_check_names_outside_the_project_is_bad_input(staged: Path) -> None:
    for path in ("..", "../outside/precious.txt", "/etc/passwd"):
        line = one_error(mlopsctl(staged, "check-names", path), 2)
        assert "outside the project" in line


# --- the record -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "damage",
    [
        '<<<<<<< HEAD\n{"files": {}}\n=======\n{"files": {}}\n>>>>>>> theirs\n',
        "not json at all",
        b"\xff\xfe\x00garbage",
        '{"files": []}',
        '{"files": {"a.py": {"template": "stage", "sha256": "x", "parameters": [1]}}}',
        "FOLDER",
    ],
)
def test_a_damaged_record_is_reported_never_replaced(staged: Path, damage: str | bytes) -> None:
    record = staged / ".mlops/generated.json"
    if damage == "FOLDER":
        record.unlink()
        record.mkdir()
    elif isinstance(damage, bytes):
        record.write_bytes(damage)
    else:
        record.write_text(damage)
    before = snapshot(staged)
    line = one_error(mlopsctl(staged, "new-stage", "7.1", "audit"), 2)
    assert ".mlops/generated.json is damaged" in line
    assert "git checkout" in line
    assert snapshot(staged) == before


def test_concurrent_writers_lose_nothing(project: Path) -> None:
    for trial in range(20):
        a, b = f"{trial % 9 + 1}.{trial + 1}", f"{(trial + 4) % 9 + 1}.{trial + 1}"
        env = {**os.environ}
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "mlopsctl", "new-stage", sub, f"f-{sub.replace('.', '-')}"],
                cwd=project,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for sub in (a, b)
        ]
        for p in procs:
            _, err = p.communicate(timeout=120)
            assert p.returncode == 0, err
        files = json.loads((project / ".mlops/generated.json").read_text())["files"]
        for sub in (a, b):
            x, y = sub.split(".")
            assert any(f"test_{x}_{y}_" in path for path in files), (trial, sub)
    out = mlopsctl(project, "stages", "--json")
    states = {f["state"] for sub in json.loads(out.stdout)["substages"] for f in sub["files"]}
    assert states == {"pristine"}, states


# --- values that reach generated code ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (
            ["init", "x", "--name", 'x"""; __import__("os").system("touch pwned"); """'],
            "Project name",
        ),
        (["init", "x", "--package", "class"], "keyword"),
        (["init", "x", "--package", "json"], "standard library"),
    ],
)
def test_unsafe_init_values_are_refused(tmp_path: Path, args: list[str], needle: str) -> None:
    line = one_error(mlopsctl(tmp_path, *args), 2)
    assert needle in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "args",
    [
        ["6.1", "a", "--template", "http-service", "--set", "service_port=99999999"],
        ["4.1", "ci", "--template", "cicd-pipeline", "--set", 'python_version=3.11"\n  job: x'],
        ["4.1", "ci", "--template", "cicd-pipeline", "--set", "coverage_gate=500"],
        ["6.2", "m", "--template", "monitoring", "--set", "p95_threshold_seconds=nan"],
        ["6.2", "m", "--template", "monitoring", "--set", "error_rate_threshold=inf"],
    ],
)
def test_out_of_range_template_values_are_refused(project: Path, args: list[str]) -> None:
    before = snapshot(project)
    line = one_error(mlopsctl(project, "new-stage", *args), 2)
    assert "--set" in line and "\n" not in line
    assert snapshot(project) == before


def test_a_stage_title_with_code_in_it_is_refused(project: Path) -> None:
    config = project / "mlops.yaml"
    text, n = re.subn(r"(?m)^  6: .*$", "  6: {slug: monitoring, title: 'x\"\"\"; import os; \"\"\"'}",
                      config.read_text())  # fmt: skip
    assert n == 1
    config.write_text(text)
    line = one_error(mlopsctl(project, "new-stage", "6.1", "a"), 2)
    assert "stages.6.title" in line


def test_versions_and_branches_match_whole(project: Path) -> None:
    line = one_error(mlopsctl(project, "deploy", "staging", "--version", "v1\n"), 2)
    assert "v1\\n" in line  # the newline shown escaped, on one line
    out = mlopsctl(project, "check-branch", "main\n")
    assert out.returncode == 1, out.stdout
    assert "main\\n" in out.stdout  # shown escaped


def test_a_user_pattern_that_backtracks_cannot_hang_a_hook(project: Path) -> None:
    config = project / "mlops.yaml"
    text = config.read_text()
    assert "  extra: []" in text
    config.write_text(text.replace("  extra: []", "  extra: ['(a|a)*$']", 1))
    out = mlopsctl(project, "check-branch", "a" * 40 + "!", timeout=60)
    line = one_error(out, 2)
    assert "branches.extra[0]" in line


# --- secrets ----------------------------------------------------------------------------------

SECRETS = {
    "DATABASE_URL": ("postgres://admin:pw-db-secret@db/x", "pw-db-secret"),
    "REDIS_URL": ("redis://:redis-secret-1@redis:6379/0", "redis-secret-1"),
    "MLFLOW_TRACKING_URI": ("https://ml:mlflow-secret-2@mlflow.example.com", "mlflow-secret-2"),
    "AZURE_STORAGE": (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=azkey-secret-3==;",
        "azkey-secret-3",
    ),
    "DB_PASS": ("hunter2-secret-4", "hunter2-secret-4"),
    "GITHUB_PAT": ("ghp_" + "a1" * 18, "a1a1a1a1a1"),
    "HF_TOK": ("hf_" + "b2" * 12, "b2b2b2b2b2"),
    "SLACK_HOOK_URL": ("https://hooks.slack.com/services/T0/B0/slack-secret-5", "slack-secret-5"),
    "AWS_ID": ("AKIA" + "C" * 16, "CCCCCCCCCCCC"),
    "SESSION_JWT": (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.jwt-signature-secret-6",
        "jwt-signature-secret-6",
    ),
}


def test_env_show_masks_secrets_by_value_and_by_key(project: Path) -> None:
    (project / ".env").write_text(
        "".join(f"{k}={v}\n" for k, (v, _) in SECRETS.items()) + "LOG_LEVEL=info\n"
    )
    for args in (["env", "show"], ["env", "show", "--json"]):
        out = mlopsctl(project, *args)
        assert out.returncode == 0, out.stderr
        for key, (_, secret) in SECRETS.items():
            assert secret not in out.stdout + out.stderr, (args, key)
        assert "info" in out.stdout


def test_env_check_finds_a_tracked_env_file_in_a_subfolder(project: Path) -> None:
    (project / "config").mkdir(exist_ok=True)
    (project / "config" / ".env").write_text("TOKEN=x\n")
    git(project, "add", "-f", "config/.env")
    out = mlopsctl(project, "env", "check")
    assert out.returncode == 1
    assert "config/.env is tracked by git" in out.stdout


@pytest.mark.parametrize(
    "url", ["https://hooks.example.invalid/services/T0/B0/hook-secret-7", "file:///etc/hostname"]
)
def test_a_failing_webhook_only_warns_and_never_shows_its_path(project: Path, url: str) -> None:
    folder = project / "scripts/deploy"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deploy_staging.sh").write_text("#!/usr/bin/env bash\nexit 0\n")
    out = mlopsctl(project, "deploy", "staging", "--version", "v1",
                   env={"MLOPS_NOTIFY_WEBHOOK": url})  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "warning: the notification webhook" in out.stderr
    assert "hook-secret-7" not in out.stdout + out.stderr
    assert "Traceback" not in out.stderr


# --- damaged inputs of every kind: one sentence, the documented code --------------------------


def test_damaged_inputs_are_one_sentence_each(staged: Path) -> None:
    long_name = "x" * 300 + ".py"
    one_error(mlopsctl(staged, "new-stage", "6.3", "y" * 300), 2)
    out = mlopsctl(staged, "check-names", f"tests/unit/{long_name}")
    assert out.returncode in (0, 1) and "Traceback" not in out.stderr
    (staged / "mlops.yaml").write_bytes(b"project:\n  name: \xff\xfe\n")
    line = one_error(mlopsctl(staged, "check-branch", "main"), 2)
    assert "not UTF-8" in line
    git(staged, "checkout", "--", "mlops.yaml")
    one_error(mlopsctl(staged, "test", "unit", "--junit-xml", "docs"), 2)


def test_a_damaged_release_history_is_one_sentence(project: Path) -> None:
    from mlopsctl.core.deploy.history import data_folder

    db = data_folder() / f"{project.name}.db"  # the isolated HOME's, as the process sees it
    db.parent.mkdir(parents=True, exist_ok=True)
    db.write_bytes(b"SQLite format 3\x00" + b"\x00" * 50)
    line = one_error(mlopsctl(project, "releases"), 2)
    assert f"{db} is damaged" in line and "mv " in line
    db.unlink()
    import sqlite3

    conn = sqlite3.connect(db)
    conn.execute(
        "CREATE TABLE releases (id INTEGER PRIMARY KEY, environment, version, action, strategy,"
        " outcome, colour, started_at, duration, user, git_commit, image_ids, message)"
    )
    conn.execute(
        "INSERT INTO releases VALUES (1, 'staging', 'v1', 'deploy', 'script', 'success', NULL,"
        " 'yesterday', 1.0, 'me', NULL, 'not json', '')"
    )
    conn.commit()
    conn.close()
    line = one_error(mlopsctl(project, "releases"), 2)
    assert f"{db} is damaged" in line


def test_a_template_that_explodes_is_one_sentence(project: Path) -> None:
    override = project / "templates/stage/files/docs/boom.md.j2"
    override.parent.mkdir(parents=True)
    override.write_text("{{ range(999999999)|list }}\n")
    before = snapshot(project)
    line = one_error(mlopsctl(project, "new-stage", "6.1", "a"), 2)
    assert "boom.md" in line
    assert snapshot(project) == before
