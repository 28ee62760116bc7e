"""update: the command that brings what is behind up to date."""

from __future__ import annotations

from mlopsctl.core.scaffold.update import update_command


def test_the_fix_names_the_substages_and_the_project() -> None:
    assert update_command({"6.2": [], "6.1": []}) == "mlopsctl update 6.1 6.2"
    assert update_command({"project": []}) == "mlopsctl update --all"
    assert update_command({"project": [], "1.1": []}) == (
        "mlopsctl update 1.1 && mlopsctl update --all"
    )
