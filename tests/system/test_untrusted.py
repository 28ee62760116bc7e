"""What arrives with the repository is untrusted input: each attack of the report, as its
reproduction, now failing.

A reviewer merges a pull request and runs mlopsctl: the journal in ``.mlops/tmp``, the
record, the content store and the project's templates are the attacker's. Every attack
asserts exit 2 with one line on stderr, and that neither the project (``.git/`` included)
nor a sibling folder changed.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import git, snapshot
from tests.system.conftest import mlopsctl


def folder_hash(root: Path) -> str:
    """Names and contents of everything under ``root`` (links by their target)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if rel == "index":  # git's stat cache, refreshed by a read-only `git status`
            continue
        digest.update(rel.encode() + b"\0")
        if path.is_symlink():
            digest.update(os.readlink(path).encode())
        elif path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


class Guard:
    """The project, its .git and the sibling folder, hashed before an attack."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self.sibling = project.parent / "sib"
        self.before = (snapshot(project), folder_hash(project / ".git"), folder_hash(self.sibling))

    def unchanged(self) -> None:
        now = (snapshot(self.project), folder_hash(self.project / ".git"),
               folder_hash(self.sibling))  # fmt: skip
        assert now[2] == self.before[2], "the sibling folder changed"
        assert now[1] == self.before[1], ".git changed"
        assert now[0] == self.before[0], "the project changed"


def refused(out: subprocess.CompletedProcess[str], *words: str) -> str:
    assert out.returncode == 2, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def victim(project: Path) -> Path:
    """A committed project with substage 6.1, and a sibling folder holding a private key."""
    ok = mlopsctl(project, "new-stage", "6.1", "monitoring-api", "--template", "monitoring")
    assert ok.returncode == 0, ok.stderr
    git(project, "add", "-A")
    git(project, "commit", "-qm", "feat: stage 6.1", "--no-verify")
    sib = project.parent / "sib"
    sib.mkdir()
    (sib / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nsecret\n")
    return project


def plant(project: Path, rel: str, doc: object) -> None:
    path = project / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))


# --- a planted journal ----------------------------------------------------------------------

PLANTED_JOURNALS = {
    "moves an outside file in": {"entries": [{"path": "docs/stolen.md", "tmp": "../sib/id_rsa"}]},
    "deletes mlops.yaml": {"entries": [{"path": "mlops.yaml", "delete": True}]},
    "deletes .git/config": {"entries": [{"path": ".git/config", "delete": True}]},
    "a number for an entry": {"entries": [5]},
    "not JSON": "{entries",
    "a forged signature": {"version": 1, "entries": "[]", "mac": "0" * 64},
    "deeply nested": "[" * 100_000,
}


@pytest.mark.parametrize("attack", sorted(PLANTED_JOURNALS))
def test_a_planted_journal_is_never_replayed(victim: Path, attack: str) -> None:
    plant(victim, ".mlops/tmp/journal.json", PLANTED_JOURNALS[attack])
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting"), "journal.json", "not replayed")
    guard.unchanged()
    assert (victim / "mlops.yaml").is_file() and (victim / ".git/config").is_file()


@pytest.mark.parametrize(
    "entry",
    [
        {"path": "docs/stolen.md", "tmp": "../../sib/id_rsa", "backup": None, "delete": False},
        {"path": ".git/hooks/post-commit", "tmp": ".f." + "a" * 32 + ".mlopsctl-tmp",
         "backup": None, "delete": False},
        {"path": "../sib/id_rsa", "tmp": None, "backup": None, "delete": True},
    ],
)  # fmt: skip
def test_a_journal_signed_here_still_names_only_the_project_and_its_staging(
    victim: Path, entry: dict[str, object]
) -> None:
    """Even a journal with this user's signature is checked entry by entry."""
    from mlopsctl.core.scaffold import journal

    body = json.dumps([entry], separators=(",", ":"))
    key = journal._key(create=True)
    assert key is not None
    doc = {"version": 1, "entries": body, "mac": journal._mac(key, body.encode())}
    plant(victim, ".mlops/tmp/journal.json", doc)
    planted = victim / ".mlops/tmp" / (".f." + "a" * 32 + ".mlopsctl-tmp")
    planted.write_text("#!/bin/sh\ntouch /tmp/pwned\n")
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting"))
    guard.unchanged()


def test_a_staging_folder_linked_out_is_refused_before_anything_is_read(victim: Path) -> None:
    outside = victim.parent / "sib" / "tmp"
    outside.mkdir()
    (outside / "journal.json").write_text(
        json.dumps({"entries": [{"path": "mlops.yaml", "delete": True}]})
    )
    (victim / ".mlops/tmp").symlink_to(outside)
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting"), ".mlops/tmp", "symbolic link")
    guard.unchanged()


def test_the_generated_gitignore_keeps_the_staging_folder_out_of_commits(project: Path) -> None:
    plant(project, ".mlops/tmp/journal.json", "{}")
    status = git(project, "status", "--porcelain", "--untracked-files=all")
    assert ".mlops/tmp" not in status


# --- a tampered record ----------------------------------------------------------------------


def edit_record(project: Path, change: object) -> None:
    path = project / ".mlops/generated.json"
    doc = json.loads(path.read_text())
    change(doc)  # type: ignore[operator]
    path.write_text(json.dumps(doc))


INJECTION = 'demo"""\nimport os; os.system("touch /tmp/mlopsctl-injected")\n"""'


def test_a_project_name_in_the_record_cannot_inject_code(victim: Path) -> None:
    edit_record(victim, lambda r: r["stages"]["project"]["parameters"].update(name=INJECTION))
    guard = Guard(victim)
    refused(mlopsctl(victim, "update", "--all"), "Recorded project name")
    guard.unchanged()
    assert not Path("/tmp/mlopsctl-injected").exists()


RECORD_DAMAGE = {
    "version 99": lambda r: r.update(version=99),
    'version "2"': lambda r: r.update(version="2"),
    "version 1e400": lambda r: r.update(version=float("inf")),
    "version true": lambda r: r.update(version=True),
    "an unknown field": lambda r: r.update(extra={"x": 1}),
    'conflict "no"': lambda r: next(iter(r["files"].values())).update(conflict="no"),
    "a stage key that is no substage": lambda r: r["stages"].update({"6.x": r["stages"]["6.1"]}),
    "a path as a stage key": lambda r: r["stages"].update({"../x": r["stages"]["6.1"]}),
    "a feature that is a number": lambda r: r["stages"]["6.1"]["parameters"].update(feature=12345),
    "a feature that is a path": lambda r: r["stages"]["6.1"]["parameters"].update(
        feature="../../x"
    ),
    "a template that is a path": lambda r: r["stages"]["6.1"].update(template="../../other"),
    "a parameter holding a mapping": lambda r: r["stages"]["6.1"]["parameters"].update(
        port={"a": 1}
    ),
    "a part owned by a path": lambda r: next(e for e in r["files"].values() if "parts" in e)[
        "parts"
    ][0].update(owner="../x"),
}


@pytest.mark.parametrize("damage", sorted(RECORD_DAMAGE))
@pytest.mark.parametrize("command", [["stages", "--json"], ["update", "--all"]])
def test_a_damaged_record_is_refused_never_rewritten(
    victim: Path, damage: str, command: list[str]
) -> None:
    edit_record(victim, RECORD_DAMAGE[damage])
    guard = Guard(victim)
    refused(mlopsctl(victim, *command), "generated.json")
    guard.unchanged()


def test_a_deeply_nested_record_is_refused(victim: Path) -> None:
    (victim / ".mlops/generated.json").write_text(
        '{"files": ' + "[" * 200_000 + "]" * 200_000 + "}"
    )
    guard = Guard(victim)
    refused(mlopsctl(victim, "stages"), "generated.json")
    guard.unchanged()


# --- .git/ is never mlopsctl's --------------------------------------------------------------


def test_a_record_entry_inside_git_is_never_removed(victim: Path) -> None:
    head = (victim / ".git/HEAD").read_bytes()
    digest = hashlib.sha256(head).hexdigest()
    (victim / ".mlops/objects" / digest).write_bytes(head)
    edit_record(
        victim, lambda r: r["files"].update({".git/HEAD": {"owner": "6.1", "sha256": digest}})
    )
    guard = Guard(victim)
    refused(mlopsctl(victim, "destroy-stage", "6.1"), ".git")
    guard.unchanged()
    assert git(victim, "rev-parse", "--abbrev-ref", "HEAD") == "main"


def test_a_template_cannot_write_a_git_hook(victim: Path) -> None:
    evil = victim / "templates/evil"
    (evil / "files" / "{{ '.' ~ 'git' }}" / "hooks").mkdir(parents=True)
    (evil / "template.yaml").write_text("kind: stage\n")
    (evil / "files" / "{{ '.' ~ 'git' }}" / "hooks" / "post-commit").write_text("touch pwned\n")
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting", "--template", "evil"), ".git")
    guard.unchanged()
    assert not (victim / ".git/hooks/post-commit").exists()


# --- templates that reach out ---------------------------------------------------------------


def test_a_template_file_linked_to_an_outside_file_is_refused(victim: Path) -> None:
    evil = victim / "templates/evil"
    (evil / "files").mkdir(parents=True)
    (evil / "template.yaml").write_text("kind: stage\n")
    (evil / "files" / "notes.md").symlink_to(victim.parent / "sib" / "id_rsa")
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting", "--template", "evil"), "symbolic link")
    guard.unchanged()
    objects = victim / ".mlops/objects"
    assert not any(b"PRIVATE KEY" in p.read_bytes() for p in objects.iterdir())


def test_a_template_folder_linked_out_of_the_project_is_refused(victim: Path) -> None:
    outside = victim.parent / "sib" / "tpl"
    (outside / "files").mkdir(parents=True)
    (outside / "template.yaml").write_text("kind: stage\n")
    (outside / "files" / "x.txt").write_text("from outside\n")
    (victim / "templates").mkdir()
    (victim / "templates" / "evil").symlink_to(outside)
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting", "--template", "evil"), "symbolic link")
    guard.unchanged()


@pytest.mark.parametrize("name", ["../../other", "/tmp/x", "a/b", "..", "Evil", "x" * 100])
def test_a_template_is_named_never_given_as_a_path(victim: Path, name: str) -> None:
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting", "--template", name), "template name")
    guard.unchanged()


def test_a_store_folder_linked_out_is_never_read(victim: Path) -> None:
    outside = victim.parent / "sib" / "objects"
    (victim / ".mlops/objects").rename(outside)
    (victim / ".mlops/objects").symlink_to(outside)
    guard = Guard(victim)
    for command in (["update", "6.1"], ["destroy-stage", "6.1"]):
        refused(mlopsctl(victim, *command), ".mlops/objects", "symbolic link")
    guard.unchanged()


# --- features that would generate broken code ------------------------------------------------


@pytest.mark.parametrize("feature", ["none", "true", "false", "settings", "value-error", "any"])
def test_a_feature_whose_class_would_not_work_is_refused(victim: Path, feature: str) -> None:
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "3.1", feature), "class name")
    guard.unchanged()


# --- bounded work ---------------------------------------------------------------------------


def evil_template(project: Path, name: str, manifest: str, files: dict[str, str]) -> None:
    folder = project / "templates" / name
    (folder / "files").mkdir(parents=True)
    (folder / "template.yaml").write_text(manifest)
    for rel, text in files.items():
        (folder / "files" / rel).write_text(text)


def test_bounds_on_every_input(victim: Path) -> None:
    params = (
        "kind: stage\nparameters:\n  p:\n    type: str\n    default: a\n"
        "    pattern: '(a|a)+$'\n  n:\n    type: int\n    default: 1\n"
    )
    evil_template(victim, "slow", params, {"x.txt": "plain\n"})
    evil_template(victim, "big", "kind: stage\n", {"x.txt.j2": "{{ 'x' * 10**10 }}\n"})
    loops = (
        "{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxx{% endfor %}{% endfor %}"
    )
    evil_template(victim, "loops", "kind: stage\n", {"x.txt.j2": loops})
    guard = Guard(victim)
    out = subprocess.run(
        ["timeout", "60", "python3", "-m", "mlopsctl", "check-commit", "/dev/zero"],
        cwd=victim, capture_output=True, text=True,
    )  # fmt: skip
    refused(out, "/dev/zero", "larger than")
    slow = ["new-stage", "3.1", "x", "--template", "slow"]
    line = refused(mlopsctl(victim, *slow, "--set", "p=" + "a" * 40 + "!"), "took over")
    assert "(a|a)+$" in line
    refused(mlopsctl(victim, *slow, "--set", "n=" + "9" * 400), "--set n=")
    refused(mlopsctl(victim, "new-stage", "3.1", "x", "--template", "big"), "template expression")
    refused(mlopsctl(victim, "new-stage", "3.1", "x", "--template", "loops"), "16 MiB")
    refused(mlopsctl(victim, "new-stage", "6." + "1" * 300, "x"), "Stage id")
    guard.unchanged()
    config = victim / "mlops.yaml"
    config.write_text(config.read_text() + "\nextra_number: " + "9" * 5000 + "\n")
    guard = Guard(victim)
    refused(mlopsctl(victim, "stages"), "mlops.yaml")
    guard.unchanged()


def test_temporary_names_do_not_collide() -> None:
    from mlopsctl.core import fs

    names = {fs.temp_name(Path("/x/f")) for _ in range(200_000)}
    assert len(names) == 200_000


# --- what a new user meets -------------------------------------------------------------------


def test_force_without_template_keeps_the_recorded_template_and_the_advice_repeats_the_command(
    victim: Path,
) -> None:
    module = victim / "src/demo/monitoring/monitoring_api.py"
    module.write_text(module.read_text() + "\n# mine\n")
    stopped = mlopsctl(victim, "new-stage", "6.1", "monitoring-api", "--template", "monitoring")
    assert stopped.returncode == 3
    assert "mlopsctl new-stage 6.1 monitoring-api --template monitoring` with --force" in (
        stopped.stderr
    )
    plain = mlopsctl(victim, "new-stage", "6.1", "monitoring-api", "--dry-run", "--json")
    actions = {a["action"] for a in json.loads(plain.stdout)["actions"]}
    assert actions <= {"identical", "conflict"}, plain.stdout
    forced = mlopsctl(victim, "new-stage", "6.1", "monitoring-api", "--force")
    assert forced.returncode == 0, forced.stderr
    record = json.loads((victim / ".mlops/generated.json").read_text())
    assert record["stages"]["6.1"]["template"] == "monitoring"
    assert "mine" not in module.read_text() and "prometheus" in module.read_text().lower()


def test_a_from_copy_starts_pristine(victim: Path) -> None:
    done = mlopsctl(victim, "new-stage", "6.2", "alerting", "--from", "6.1")
    assert done.returncode == 0, done.stderr
    doc = json.loads(mlopsctl(victim, "stages", "--json").stdout)
    copy = next(s for s in doc["substages"] if s["id"] == "6.2")
    states = {f["path"]: f["state"] for f in copy["files"]}
    assert set(states.values()) == {"pristine"}, states


def test_test_all_has_a_row_for_every_suite(project: Path) -> None:
    out = mlopsctl(project, "test", "all", "--json")
    suites = {s["suite"]: s["status"] for s in json.loads(out.stdout)["suites"]}
    assert list(suites) == ["unit", "integration", "e2e", "performance", "security"]
    assert suites["performance"] == "no tests"


def test_a_collection_error_is_counted_and_named(victim: Path) -> None:
    (victim / "tests/unit/test_6_1_broken.py").write_text("import prometheus_client_missing\n")
    (victim / "requirements.txt").write_text(
        (victim / "requirements.txt").read_text() + "prometheus-client-missing>=1\n"
    )
    out = mlopsctl(victim, "test", "unit", "--json")
    assert out.returncode == 1
    (suite,) = json.loads(out.stdout)["suites"]
    assert suite["errors"] == 1 and suite["status"] == "failed"
    assert [f["test"] for f in suite["failures"]] == ["tests/unit/test_6_1_broken.py"]
    assert "No module named 'prometheus_client_missing'" in suite["failures"][0]["output"]
    assert "requirements are not installed" in suite["message"]
    assert "pip install -r requirements.txt" in suite["message"]
    table = mlopsctl(victim, "test", "unit")
    assert "test_6_1_broken.py" in table.stdout


def test_smaller_frictions(project: Path) -> None:
    env = mlopsctl(project, "env", "check")
    assert env.returncode == 1
    assert env.stdout.strip().splitlines() == [
        line for line in env.stdout.strip().splitlines() if "no .env file" in line
    ], env.stdout
    branch = mlopsctl(project, "check-branch", "Feature_Monitoring")
    assert "did you mean feature/" in branch.stdout
    names = mlopsctl(project, "check-names")
    assert names.returncode == 0 and "check-names: ok" in names.stdout
    commit = mlopsctl(project, "check-commit", "-m", "feat: add x\nthe body")
    assert "feat: add x\\n\\nthe body" in commit.stdout
    gone = mlopsctl(project, "destroy-stage", "6.9")
    refused(gone, "6.9")
    spaced = mlopsctl(project, "new-stage", " 6.1 ", "x")
    refused(spaced, "Stage id")


def test_a_new_user_is_told_where_the_project_is_and_what_to_install(tmp_path: Path) -> None:
    made = mlopsctl(tmp_path, "init", "demo")
    assert made.returncode == 0, made.stderr
    said = " ".join(made.stdout.split())  # (Rich folds long lines)
    assert f"project 'demo' is in {tmp_path / 'demo'}" in said
    assert "mlopsctl new-stage 6.1 monitoring-api" in said
    stage = mlopsctl(tmp_path / "demo", "new-stage", "5.1", "serve", "--template", "model-serving")
    assert stage.returncode == 0, stage.stderr
    said = " ".join(stage.stdout.split())
    assert "requirements.txt gained prometheus-client" in said
    assert "pip install -r requirements.txt" in said


def test_an_update_conflict_never_advises_a_flag_update_lacks(victim: Path) -> None:
    module = victim / "src/demo/monitoring/monitoring_api.py"
    record = json.loads((victim / ".mlops/generated.json").read_text())
    del record["files"]["src/demo/monitoring/monitoring_api.py"]  # now a file of nobody's
    (victim / ".mlops/generated.json").write_text(json.dumps(record))
    module.write_text("# the user's own file\n")
    out = mlopsctl(victim, "update", "6.1")
    assert out.returncode == 3, out.stdout + out.stderr
    assert "--force" not in out.stderr


def test_a_journal_that_is_a_link_is_refused(victim: Path) -> None:
    outside = victim.parent / "sib" / "journal.json"
    outside.write_text(json.dumps({"entries": [{"path": "mlops.yaml", "delete": True}]}))
    (victim / ".mlops/tmp").mkdir(parents=True)
    (victim / ".mlops/tmp/journal.json").symlink_to(outside)
    guard = Guard(victim)
    refused(mlopsctl(victim, "new-stage", "6.2", "alerting"), "not a plain file")
    guard.unchanged()
