"""yamlcache: parsed once, cached by content, never wrong; bad YAML is one sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core import yamlcache
from mlopsctl.errors import BadInput


def test_a_cached_parse_equals_a_fresh_one_and_follows_the_content(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_text("a: 1\nb: [x, y]\n")
    assert yamlcache.load(f) == {"a": 1, "b": ["x", "y"]}
    assert Path(yamlcache.cache_file(f.read_text())).is_file()
    assert yamlcache.load(f) == {"a": 1, "b": ["x", "y"]}
    f.write_text("a: 2\n")
    assert yamlcache.load(f) == {"a": 2}


@pytest.mark.parametrize(
    ("text", "words"),
    [("a: [1\n", "not valid YAML"), ("n: " + "9" * 5000 + "\n", "cannot read"),
     ("a: " + "[" * 3000 + "]" * 3000 + "\n", "m.yaml")],
)  # fmt: skip
def test_bad_yaml_is_bad_input(tmp_path: Path, text: str, words: str) -> None:
    f = tmp_path / "m.yaml"
    f.write_text(text)
    with pytest.raises(BadInput, match=words):
        yamlcache.load(f)


def test_not_utf8_names_the_byte(tmp_path: Path) -> None:
    f = tmp_path / "m.yaml"
    f.write_bytes(b"a: \xff\n")
    with pytest.raises(BadInput, match="byte 3"):
        yamlcache.load(f)
