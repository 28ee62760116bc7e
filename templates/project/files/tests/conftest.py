"""Shared fixtures. Each test gets the marker of its suite folder (unit, integration, ...)."""

from pathlib import Path

import pytest

SUITES = {"unit", "integration", "e2e", "performance", "security"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        suite = Path(str(item.fspath)).parent.name
        if suite in SUITES:
            item.add_marker(getattr(pytest.mark, suite))


@pytest.fixture
def project_root() -> Path:
    return Path(__file__).resolve().parent.parent
