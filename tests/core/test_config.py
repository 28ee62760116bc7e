from pathlib import Path

import pytest

from mlopsctl.core import config, yamlcache
from mlopsctl.errors import BadInput, Missing


def test_defaults_reproduce_the_stage_table() -> None:
    cfg = config.Config(None, config.default_data())
    stages = cfg.stages
    assert sorted(stages) == list(range(1, 10))
    assert stages[6].slug == "monitoring"
    assert stages[6].docs_dir == "docs/06-monitoring"
    assert stages[9].docs_dir == "docs/09-event-driven"
    assert cfg.section("tests")["coverage_gate"] == 80


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"projekt": {}}, "key 'projekt' is unknown; allowed keys: version, project"),
        ({"project": {"package": "Bad-Name"}}, "key 'project.package' must be a Python package"),
        ({"tests": {"coverage_gate": "80"}}, "key 'tests.coverage_gate' must be a whole number"),
        ({"tests": {"coverage_gate": 101}}, "from 0 to 100, got 101"),
        ({"branches": {"extra": ["feature/("]}}, "key 'branches.extra[0]' must be a valid regular"),
        ({"branches": {"kinds": ["feature", "weird"]}}, "must be one of main, develop"),
        ({"stages": {"ten": {"slug": "x"}}}, "key 'stages.ten' must be a stage number"),
        ({"stages": {10: {"slug": "Not Kebab"}}}, "key 'stages.10.slug' must be a kebab-case slug"),
        ({"stages": {10: {"title": "x"}}}, "key 'stages.10.slug' is required"),
        ({"commits": {"scope_pattern": "[a-"}}, "key 'commits.scope_pattern' must be a valid"),
        ({"environments": {"staging": {"port": 1}}}, "key 'environments.staging.port' is unknown"),
        ([1, 2], "must hold a mapping"),
    ],
)
def test_bad_config_names_file_key_and_what_is_allowed(raw: object, message: str) -> None:
    with pytest.raises(BadInput, match="mlops.yaml") as info:
        config.validate(raw)
    assert message in str(info.value)


def test_a_project_can_change_the_stage_table() -> None:
    data = config.validate({"stages": {1: {"slug": "ingest"}, 10: {"slug": "ml-platform"}}})
    cfg = config.Config(None, data)
    assert sorted(cfg.stages) == [1, 10]
    assert cfg.stages[10].docs_dir == "docs/10-ml-platform"
    assert cfg.stages[1].title == "Ingest"


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("version: 1\nproject: name: x\n")
    with pytest.raises(BadInput, match=r"mlops.yaml is not valid YAML at line 2"):
        config.load(tmp_path)


def test_found_by_walking_up(tmp_path: Path) -> None:
    (tmp_path / "mlops.yaml").write_text("project: {name: x, package: x}\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    cfg = config.load(deep)
    assert cfg.root == tmp_path
    assert cfg.name == "x"


def test_outside_a_project_defaults_apply_and_project_commands_exit_4(tmp_path: Path) -> None:
    cfg = config.load(tmp_path)
    assert cfg.root is None
    assert 6 in cfg.stages
    with pytest.raises(Missing, match="run `mlopsctl init`"):
        config.load_project(tmp_path)


def test_cache_follows_edits(tmp_path: Path) -> None:
    path = tmp_path / "mlops.yaml"
    path.write_text("project: {name: one, package: one}\n")
    assert config.load(tmp_path).name == "one"
    assert Path(yamlcache.cache_file(path.read_text())).is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mlops.yaml"]
    path.write_text("project: {name: second, package: second}\n")
    assert config.load(tmp_path).name == "second"
    path.write_text("project: {name: 3, package: x}\n")
    with pytest.raises(BadInput, match="project.name"):
        config.load(tmp_path)


def test_the_parse_cache_is_keyed_by_content(tmp_path: Path) -> None:
    text = "stages:\n  6: {slug: monitoring}\n"
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "mlops.yaml").write_text(text)
    assert yamlcache.load(tmp_path / "a" / "mlops.yaml") == {"stages": {6: {"slug": "monitoring"}}}
    entries = list((Path(yamlcache.cache_root()) / "yaml").iterdir())
    assert len(entries) == 1
    assert yamlcache.load(tmp_path / "b" / "mlops.yaml") == {"stages": {6: {"slug": "monitoring"}}}
    assert (
        list((Path(yamlcache.cache_root()) / "yaml").iterdir()) == entries
    )  # the copy hit the same entry


def test_documents_marshal_cannot_keep_are_parsed_every_time(tmp_path: Path) -> None:
    path = tmp_path / "dated.yaml"
    path.write_text("released: 2026-11-21\n")
    assert str(yamlcache.load(path)["released"]) == "2026-11-21"
    assert not Path(yamlcache.cache_file(path.read_text())).exists()
    assert str(yamlcache.load(path)["released"]) == "2026-11-21"
