from pathlib import Path

import pytest

from mlopsctl.core.scaffold import render, templates
from mlopsctl.errors import BadInput


def make_template(root: Path, files: dict[str, str], manifest: str = "kind: stage\n") -> Path:
    base = root / "templates" / "t"
    for rel, text in files.items():
        (base / "files" / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / "files" / rel).write_text(text)
    (base / "template.yaml").write_text(manifest)
    return root


def test_names_and_contents_render(tmp_path: Path) -> None:
    root = make_template(
        tmp_path, {"{{name}}/x_{{n}}.txt.j2": "{{ name }}-{{ n }}", "raw.yml": "${{ x }}"}
    )
    out = render.render(templates.find("t", root), {"name": "a", "n": 1})
    assert {(r.path, r.content) for r in out} == {("a/x_1.txt", b"a-1"), ("raw.yml", b"${{ x }}")}


def test_undefined_variables_are_errors(tmp_path: Path) -> None:
    root = make_template(tmp_path, {"a.txt.j2": "{{ missing }}"})
    with pytest.raises(BadInput, match="'missing' is undefined"):
        render.render(templates.find("t", root), {})


def test_sandbox_blocks_unsafe_attributes(tmp_path: Path) -> None:
    root = make_template(tmp_path, {"a.txt.j2": "{{ ''.__class__.__mro__ }}"})
    with pytest.raises(BadInput, match="failed to render"):
        render.render(templates.find("t", root), {})


def test_paths_cannot_escape_the_project(tmp_path: Path) -> None:
    root = make_template(tmp_path, {"{{p}}/x.txt": "x"})
    with pytest.raises(BadInput, match="outside the project"):
        render.render(templates.find("t", root), {"p": "../.."})


def test_when_and_foreach(tmp_path: Path) -> None:
    manifest = (
        "kind: stage\nparameters:\n  extra: {type: bool, default: false}\n"
        "files:\n  extra.txt: {when: extra}\n  'd/{{item}}.txt': {foreach: items}\n"
    )
    root = make_template(tmp_path, {"extra.txt": "e", "d/{{item}}.txt.j2": "{{ item }}"}, manifest)
    t = templates.find("t", root)
    out = render.render(t, {"extra": False, "items": ["a", "b"]})
    assert sorted(r.path for r in out) == ["d/a.txt", "d/b.txt"]
    assert t.resolve_params({"extra": "yes"}) == {"extra": True}
    with pytest.raises(BadInput, match="expected true or false"):
        t.resolve_params({"extra": "maybe"})


def test_project_templates_override_packaged_files(tmp_path: Path) -> None:
    override = tmp_path / "templates" / "stage" / "files" / "{{docs_dir}}"
    override.mkdir(parents=True)
    (override / "{{stage_id}}-{{feature}}-implementation.md.j2").write_text("ours {{ stage_id }}\n")
    t = templates.find("stage", tmp_path)
    assert t.roots[0] == tmp_path / "templates" / "stage"
    assert len(t.roots) == 2
    src = "{{docs_dir}}/{{stage_id}}-{{feature}}-implementation.md.j2"
    assert t.source_path(src).read_text() == "ours {{ stage_id }}\n"
    assert "tests/unit/test_{{stage}}_{{substage}}_{{feature_snake}}.py.j2" in t.sources()


def test_unknown_template(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="Unknown template 'nope'; choose one of: .*stage"):
        templates.find("nope", tmp_path)


def test_two_sources_rendering_one_path_is_a_template_error(tmp_path: Path) -> None:
    root = make_template(tmp_path, {"a.txt": "x", "a.txt.j2": "y"})
    with pytest.raises(BadInput, match="renders a.txt from both"):
        render.render(templates.find("t", root), {})
