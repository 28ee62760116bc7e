"""compose: targets, project names and the fixed host ports that blue-green refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlopsctl.core.deploy import compose
from mlopsctl.errors import BadInput


def test_targets_and_their_aliases(tmp_path: Path) -> None:
    (tmp_path / "docker").mkdir()
    for name in ("main", "stage-5", "monitoring"):
        (tmp_path / "docker" / f"docker-compose.{name}.yml").write_text("services: {}\n")
    assert list(compose.targets(tmp_path)) == ["main", "monitoring", "stage-5"]
    assert compose.resolve_target(tmp_path, None)[0] == "main"
    assert compose.resolve_target(tmp_path, "5")[0] == "stage-5"
    with pytest.raises(BadInput, match="known targets: main, monitoring, stage-5"):
        compose.resolve_target(tmp_path, "../x")


@pytest.mark.parametrize(
    ("parts", "name"),
    [(("Demo", "staging"), "demo-staging"), (("my proj!", "prod", "blue"), "my-proj--prod-blue"),
     (("---",), "mlops")],
)  # fmt: skip
def test_project_names(parts: tuple[str, ...], name: str) -> None:
    assert compose.project_name(*parts) == name


def test_fixed_host_ports_are_found_in_every_spelling() -> None:
    resolved = {"services": {
        "api": {"ports": ["8080:80", "127.0.0.1:9000:9000/tcp", "80"]},
        "web": {"ports": [{"target": 80, "published": "8443"}, {"target": 81, "published": 0}]},
        "db": None,
    }}  # fmt: skip
    assert compose.fixed_ports(resolved) == [("api", "8080"), ("api", "9000"), ("web", "8443")]


def test_declares_ports_reads_the_raw_file(tmp_path: Path) -> None:
    f = tmp_path / "c.yml"
    f.write_text("services:\n  api:\n    image: x\n")
    assert not compose.declares_ports(f)
    f.write_text("services:\n  api:\n    ports: ['80']\n")
    assert compose.declares_ports(f)
