"""init and new-stage as real processes: the argparse front end that users and scripts hit.

tests/cli drives the same commands through Typer's CliRunner; here every bad input of the
contract goes through ``mlopsctl.main`` as a process, for its exit code and an unchanged tree.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_scaffold_cli import BAD_FEATURES, BAD_STAGE_IDS
from tests.conftest import snapshot
from tests.system.conftest import mlopsctl


@pytest.mark.parametrize(
    "args",
    [[s, "feature"] for s in BAD_STAGE_IDS] + [["6.1", f] for f in BAD_FEATURES],
)
def test_bad_input_exits_2_with_one_sentence_and_changes_nothing(
    project: Path, args: list[str]
) -> None:
    before = snapshot(project)
    out = mlopsctl(project, "new-stage", *args)
    assert out.returncode == 2, out
    assert out.stderr.startswith("mlopsctl: error: ") and len(out.stderr.splitlines()) == 1
    assert snapshot(project) == before
    assert not (project / "pwned").exists()


def test_conflict_exits_3_twice_changes_nothing_and_json(project: Path) -> None:
    first = mlopsctl(project, "new-stage", "6.1", "monitoring-api", "--json")
    assert first.returncode == 0, first.stderr
    assert {a["action"] for a in json.loads(first.stdout)["actions"]} == {"create"}
    before = snapshot(project)
    again = mlopsctl(project, "new-stage", "6.1", "monitoring-api")
    assert again.returncode == 0 and "done: 9 identical" in again.stdout
    assert snapshot(project) == before
    mine = project / "tests/unit/test_6_1_monitoring_api.py"
    mine.write_text("# mine\n")
    clash = mlopsctl(project, "new-stage", "6.1", "monitoring-api")
    assert clash.returncode == 3 and "conflict" in clash.stdout
    assert mine.read_text() == "# mine\n"
    forced = mlopsctl(project, "new-stage", "6.1", "monitoring-api", "--force")
    assert forced.returncode == 0 and mine.read_text() != "# mine\n"


def test_usage_errors_are_one_line_naming_the_help(project: Path, tmp_path: Path) -> None:
    out = mlopsctl(project, "new-stage", "6.1", "--no-such-flag")
    assert out.returncode == 2
    assert out.stderr == (
        "mlopsctl: error: No such option: --no-such-flag; see `mlopsctl new-stage --help`\n"
    )
    out = mlopsctl(tmp_path, "init", "p", "--no-git", "--nam", "x")  # no abbreviations
    assert out.returncode == 2 and "No such option: --nam" in out.stderr
    assert not (tmp_path / "p").exists()


def test_from_without_a_feature_gets_a_name_of_its_own(project: Path) -> None:
    assert mlopsctl(project, "new-stage", "6.1", "monitoring-api").returncode == 0
    before = (project / f"src/{project.name}/monitoring/monitoring_api.py").read_bytes()
    out = mlopsctl(project, "new-stage", "6.5", "--from", "6.1")
    assert out.returncode == 0, out.stderr
    assert (project / "tests/unit/test_6_5_monitoring_api_6_5.py").is_file()
    assert (project / f"src/{project.name}/monitoring/monitoring_api.py").read_bytes() == before


def test_force_is_never_offered_over_another_substages_files(project: Path) -> None:
    assert mlopsctl(project, "new-stage", "6.1", "monitoring-api").returncode == 0
    module = project / f"src/{project.name}/monitoring/monitoring_api.py"
    before = module.read_bytes()
    for args in (
        ["6.6", "monitoring-api", "--from", "6.1", "--force"],
        ["6.2", "monitoring-api", "--force"],
    ):
        out = mlopsctl(project, "new-stage", *args)
        assert out.returncode == 3, out.stderr
        assert "belongs to substage 6.1" in out.stderr and "--force" not in out.stderr
        assert module.read_bytes() == before


def test_init_again_after_a_stage_recognises_mlopsctls_own_appends(project: Path) -> None:
    out = mlopsctl(project, "new-stage", "6.1", "latency", "--template", "monitoring")
    assert out.returncode == 0, out.stderr
    states = json.loads(mlopsctl(project, "stages", "--json").stdout)
    assert {f["state"] for s in states["substages"] for f in s["files"]} == {"pristine"}
    again = mlopsctl(project, "init", ".", "--name", project.name, "--no-git", "--json")
    assert again.returncode == 0, again.stderr
    assert set(json.loads(again.stdout)["counts"]) == {"identical"}
    with (project / ".env.template").open("a") as fh:
        fh.write("MY_OWN_KEY=\n")  # the user's edit of a shared file is kept
    kept = mlopsctl(project, "init", ".", "--name", project.name, "--no-git", "--json")
    assert kept.returncode == 0, kept.stderr
    assert {a["path"]: a["action"] for a in json.loads(kept.stdout)["actions"]}[
        ".env.template"
    ] == "modified"
    assert "MY_OWN_KEY=\n" in (project / ".env.template").read_text()
    with (project / "pytest.ini").open("a") as fh:
        fh.write("# mine\n")  # a file of the project template alone: a real conflict
    assert mlopsctl(project, "init", ".", "--name", project.name, "--no-git").returncode == 3
