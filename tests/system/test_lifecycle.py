"""``update``, ``destroy-stage`` and drift on real projects (mlopsctl as a process).

The "newer template" is a project-level override of the stage template (``templates/stage/``
in the project), so no release of mlopsctl is needed to change what a stage renders.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsctl.core.scaffold.templates import packaged_dir
from tests.conftest import git
from tests.system.conftest import mlopsctl

DOC = "docs/01-data-pipeline/1.1-data-ingestion-implementation.md"
DOC_SRC = "{{docs_dir}}/{{stage_id}}-{{feature}}-implementation.md.j2"
TESTING = "docs/01-data-pipeline/1.1-data-ingestion-testing.md"
TESTING_SRC = "{{docs_dir}}/{{stage_id}}-{{feature}}-testing.md.j2"


def contents(root: Path) -> dict[str, str]:
    """Every file and folder outside .git with its content hash (no times)."""
    out = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == ".git":
            continue
        out[rel.as_posix()] = (
            hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        )
    return out


def ok(root: Path, *args: str) -> str:
    done = mlopsctl(root, *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def override(root: Path, src: str, edit: object) -> None:
    """Copy the packaged stage template's ``src`` into the project and change it."""
    target = root / "templates/stage/files" / src
    target.parent.mkdir(parents=True, exist_ok=True)
    text = (packaged_dir() / "stage/files" / src).read_text()
    target.write_text(edit(text))  # type: ignore[operator]


@pytest.fixture
def staged(project: Path) -> Path:
    ok(project, "new-stage", "1.1", "data-ingestion")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "feat: 1.1")
    return project


def test_a_pristine_file_takes_the_template_change(staged: Path) -> None:
    override(staged, DOC_SRC, lambda t: t + "\nA line the standard added.\n")
    assert "behind" in ok(staged, "stages")
    ok(staged, "update", "1.1")
    assert (staged / DOC).read_text().endswith("\nA line the standard added.\n")
    states = json.loads(ok(staged, "stages", "--json"))
    assert states["behind"] == {}
    (sub,) = [s for s in states["substages"] if s["id"] == "1.1"]
    assert {f["path"]: f["state"] for f in sub["files"]}[DOC] == "pristine"


def test_edits_and_template_changes_elsewhere_merge(staged: Path) -> None:
    doc = staged / DOC
    doc.write_text("My own first line.\n" + doc.read_text())
    override(staged, DOC_SRC, lambda t: t + "\nA line the standard added.\n")
    out = json.loads(ok(staged, "update", "1.1", "--json"))
    assert {a["path"]: a["action"] for a in out["actions"]}[DOC] == "merge"
    text = doc.read_text()
    assert text.startswith("My own first line.\n")
    assert text.endswith("\nA line the standard added.\n")
    assert "<<<<<<<" not in text


def test_overlapping_changes_leave_markers_and_exit_3_until_resolved(staged: Path) -> None:
    doc = staged / DOC
    lines = doc.read_text().splitlines(keepends=True)
    doc.write_text("".join(["# Mine\n", *lines[1:]]))
    override(staged, DOC_SRC, lambda t: "# Theirs\n" + t.split("\n", 1)[1])
    first = mlopsctl(staged, "update", "--json")
    assert first.returncode == 3, first.stdout + first.stderr
    assert json.loads(first.stdout)["conflicts"] == [DOC]
    text = doc.read_text()
    assert "<<<<<<< " in text and "# Mine" in text and "# Theirs" in text
    again = mlopsctl(staged, "update", "1.1")
    assert again.returncode == 3
    assert f"{DOC} holds conflict markers" in again.stderr
    states = json.loads(ok(staged, "stages", "--json"))
    (sub,) = [s for s in states["substages"] if s["id"] == "1.1"]
    assert {f["path"]: f["state"] for f in sub["files"]}[DOC] == "conflicted"
    doc.write_text("# Resolved\n" + "".join(lines[1:]))
    ok(staged, "update", "1.1")
    assert doc.read_text().startswith("# Resolved\n")


def test_deleted_stays_deleted_and_dropped_files_go(staged: Path) -> None:
    (staged / DOC).unlink()
    manifest = (packaged_dir() / "stage/template.yaml").read_text()
    (staged / "templates/stage").mkdir(parents=True)
    entry = f'  "{TESTING_SRC[:-3]}": {{describes: true}}'
    assert entry in manifest
    (staged / "templates/stage/template.yaml").write_text(
        manifest.replace(entry, f'  "{TESTING_SRC[:-3]}": {{describes: true, when: "false"}}')
    )
    override(staged, DOC_SRC, lambda t: t + "\nchanged\n")
    out = json.loads(ok(staged, "update", "1.1", "--json"))
    actions = {a["path"]: a["action"] for a in out["actions"]}
    assert actions[DOC] == "deleted" and actions[TESTING] == "remove"
    assert not (staged / DOC).exists() and not (staged / TESTING).exists()
    ok(staged, "update", "1.1")
    assert not (staged / DOC).exists()


def test_dry_run_changes_nothing(staged: Path) -> None:
    (staged / DOC).write_text("# Mine\n")
    override(staged, DOC_SRC, lambda t: "# Theirs\n" + t)
    override(staged, TESTING_SRC, lambda t: t + "more\n")
    before = contents(staged)
    done = mlopsctl(staged, "update", "--dry-run", "--all")
    assert done.returncode == 3, done.stdout + done.stderr  # DOC would conflict
    assert contents(staged) == before


def test_destroy_stage_restores_the_tree_and_spares_other_stages(project: Path) -> None:
    ok(project, "new-stage", "6.2", "alerting", "--template", "monitoring")
    ok(project, "new-stage", "4.1", "pipeline", "--template", "cicd-pipeline")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "feat: 6.2")
    before = contents(project)
    ok(project, "new-stage", "6.1", "monitoring-api", "--template", "monitoring")
    prometheus = (project / "docker/prometheus/prometheus.yml").read_text()
    assert "job_name: alerting" in prometheus and "job_name: monitoring-api" in prometheus
    after_6_1 = contents(project)
    ok(project, "destroy-stage", "6.1")
    assert contents(project) == before  # shared files, record and store included
    again = mlopsctl(project, "destroy-stage", "6.1")  # it is gone: nothing of it to remove
    assert again.returncode == 2 and "not in .mlops/generated.json" in again.stderr
    assert contents(project) == before

    ok(project, "new-stage", "6.1", "monitoring-api", "--template", "monitoring")
    assert contents(project) == after_6_1
    module = project / "src/demo/monitoring/monitoring_api.py"
    module.write_text(module.read_text() + "# mine\n")
    edited = contents(project)
    refused = mlopsctl(project, "destroy-stage", "6.1")
    assert refused.returncode == 3, refused.stdout + refused.stderr
    assert "monitoring_api.py" in refused.stderr and "--force" in refused.stderr
    assert contents(project) == edited
    ok(project, "destroy-stage", "6.1", "--force")
    now = contents(project)
    assert not any("monitoring_api" in p or "6_1" in p or "6.1-" in p for p in now)
    assert {p: h for p, h in now.items() if "alerting" in p or "6_2" in p} == {
        p: h for p, h in before.items() if "alerting" in p or "6_2" in p
    }
    assert "job_name: alerting" in (project / "docker/prometheus/prometheus.yml").read_text()


def test_destroy_reverses_shared_edits_the_user_made_around(project: Path) -> None:
    ok(project, "new-stage", "6.1", "monitoring-api", "--template", "monitoring")
    req = project / "requirements.txt"
    req.write_text("numpy>=1.26\n" + req.read_text())
    ok(project, "destroy-stage", "6.1")
    text = req.read_text()
    assert text.startswith("numpy>=1.26\n")
    assert "prometheus-client" not in text


def test_a_version_1_record_still_updates(staged: Path) -> None:
    path = staged / ".mlops/generated.json"
    raw = json.loads(path.read_text())
    files = {}
    for p, e in raw["files"].items():
        inst = raw["stages"][e["owner"]]
        files[p] = {**inst, "sha256": e["sha256"]}
    path.write_text(json.dumps({"version": 1, "files": files}))
    shutil.rmtree(staged / ".mlops/objects")
    (staged / TESTING).write_text("# edited before the store existed\n")
    override(staged, DOC_SRC, lambda t: t + "\nnew\n")
    out = ok(staged, "update", "1.1")
    assert "predates the content store" in out
    assert (staged / DOC).read_text().endswith("\nnew\n")  # pristine: hash still matches
    assert (staged / TESTING).read_text() == "# edited before the store existed\n"
    assert json.loads(path.read_text())["version"] == 2


def test_doctor_names_the_update(staged: Path) -> None:
    override(staged, DOC_SRC, lambda t: t + "\nchanged\n")
    report = json.loads(mlopsctl(staged, "doctor", "--json").stdout)
    (check,) = [c for c in report["checks"] if c["id"] == "templates"]
    assert check["status"] == "fail" and check["fix"] == "mlopsctl update 1.1"


# --- attacks on what update and destroy-stage read and write ---------------------------------


def base_object(root: Path, rel: str) -> Path:
    """The store file holding the base of ``rel``."""
    entry = json.loads((root / ".mlops/generated.json").read_text())["files"][rel]
    return root / ".mlops/objects" / entry["sha256"]


def test_a_tampered_store_object_is_never_used_as_a_base(staged: Path) -> None:
    (staged / DOC).write_text("# Mine\n")
    base_object(staged, DOC).write_text("# planted base\n")
    base_object(staged, TESTING).write_text("# planted base\n")
    override(staged, DOC_SRC, lambda t: t + "\nchanged\n")
    override(staged, TESTING_SRC, lambda t: t + "\nchanged\n")
    out = ok(staged, "update", "1.1")
    assert "counts as what mlopsctl last wrote" in out
    assert (staged / DOC).read_text() == "# Mine\n"  # an unknown base: the edit is kept
    assert (staged / TESTING).read_text().endswith("\nchanged\n")  # pristine by its hash


def test_a_store_that_leads_outside_is_refused(staged: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    shutil.copytree(staged / ".mlops/objects", outside)
    shutil.rmtree(staged / ".mlops/objects")
    (staged / ".mlops/objects").symlink_to(outside)
    override(staged, DOC_SRC, lambda t: t + "\nchanged\n")
    before, outside_before = contents(staged), contents(outside)
    done = mlopsctl(staged, "update", "1.1")
    assert done.returncode == 2, done.stdout + done.stderr
    assert ".mlops/objects is a symbolic link" in done.stderr
    assert contents(staged) == before and contents(outside) == outside_before


@pytest.mark.parametrize(
    "damage",
    [
        lambda r: r["files"][DOC].update(merge="lines", parts="x"),
        lambda r: r["files"][DOC].update(sha256="not-a-hash"),
        lambda r: r.update(stages=[]),
        lambda r: r["files"].update({"../escape.txt": r["files"][DOC]}),
    ],
    ids=["parts", "hash", "stages", "path"],
)
def test_a_damaged_record_is_exit_2_and_changes_nothing(staged: Path, damage: object) -> None:
    path = staged / ".mlops/generated.json"
    raw = json.loads(path.read_text())
    damage(raw)  # type: ignore[operator]
    path.write_text(json.dumps(raw))
    before = contents(staged)
    for args in (["update"], ["destroy-stage", "1.1", "--force"]):
        done = mlopsctl(staged, *args)
        assert done.returncode == 2, done.stdout + done.stderr
        assert len(done.stderr.splitlines()) == 1
        assert contents(staged) == before


def test_a_second_checkout_destroys_a_stage_from_the_committed_store(
    project: Path, tmp_path: Path
) -> None:
    git(project, "add", "-A")
    git(project, "commit", "-qm", "chore: init", "--no-verify")
    before = contents(project)
    ok(project, "new-stage", "6.1", "monitoring-api", "--template", "monitoring")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "feat: 6.1", "--no-verify")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(project), str(clone))
    ok(clone, "destroy-stage", "6.1")
    assert contents(clone) == before


def test_two_updates_at_once_take_turns(staged: Path) -> None:
    override(staged, DOC_SRC, lambda t: t + "\nchanged\n")
    runs = [
        subprocess.Popen(
            [sys.executable, "-m", "mlopsctl", "update", "1.1"],
            cwd=staged,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for run_ in runs:
        _, err = run_.communicate(timeout=120)
        assert run_.returncode == 0, err
    assert (staged / DOC).read_text().endswith("\nchanged\n")
    assert (staged / DOC).read_text().count("changed") == 1
    assert json.loads(ok(staged, "stages", "--json"))["behind"] == {}
