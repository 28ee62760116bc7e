"""create: --set words, the module-path bound, and a recorded substage keeping its template."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core import config
from mlopsctl.core.config import Config, default_data
from mlopsctl.core.conventions.ids import normalise_feature
from mlopsctl.core.scaffold import create
from mlopsctl.errors import BadInput

STAGES = Config(None, default_data()).stages


def test_set_words() -> None:
    assert create.parse_sets(
        [
            "a=1",
            "b=x=y",
            " c =",
        ]
    ) == {"a": "1", "b": "x=y", "c": ""}
    for bad in (["novalue"], ["=x"]):
        with pytest.raises(BadInput, match="KEY=VALUE"):
            create.parse_sets(bad)


def test_module_paths_are_bounded() -> None:
    create.check_module("p", STAGES[6], normalise_feature("x" * 40))
    with pytest.raises(BadInput, match="at most"):
        create.check_module("p" * 30, STAGES[6], normalise_feature("x" * 64))


def test_a_recorded_substage_keeps_its_template_without_template(tmp_path: Path) -> None:
    root = tmp_path / "demo"
    create.plan_init(root, name="demo").apply()
    cfg = config.load_project(root)
    create.plan_new_stage(cfg, "6.1", "latency", "monitoring").apply()
    again = create.plan_new_stage(config.load_project(root), "6.1", "latency", None, force=True)
    assert again.template == "monitoring"
    assert {a.action for a in again.plan.actions} == {"identical"}
    other = create.plan_new_stage(config.load_project(root), "6.1", "latency", "stage", force=True)
    assert other.template == "stage"  # named: the user asked for it
