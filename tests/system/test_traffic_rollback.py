"""Rollbacks and kept releases on the engine (a file of its own, so that xdist runs it beside
the other traffic tests)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.deploys import own_images
from tests.system.test_traffic import Client, attached_colours, deploy, docker, project

pytestmark = pytest.mark.docker
__all__ = ["project"]  # the fixture, shared with test_traffic.py


def test_rollback_starts_the_recorded_image_even_after_its_tag_moved(project: Path) -> None:
    repo = own_images(project, "v1", "v3")
    assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
    assert deploy(project, "deploy", "staging", "--version", "v3").returncode == 0
    docker("tag", f"{repo}:v3", f"{repo}:v1")  # someone moves the tag
    back = deploy(project, "rollback", "--env", "staging", "v1")
    assert back.returncode == 0, back.stderr
    client = Client(project)
    try:
        assert client.settle(10)[-10:] == ["ok v1"] * 10
    finally:
        client.stop()


def test_rollback_of_production_leaves_staging_alone(project: Path) -> None:
    for env in ("staging", "production"):
        for version in ("v1", "v3"):
            assert deploy(project, "deploy", env, "--version", version, "--yes").returncode == 0
    staging_before = attached_colours(project, "staging")
    ours = f"label=com.docker.compose.project={project.name}-staging-"
    ids_before = sorted(
        i
        for colour in ("blue", "green")
        for i in docker("ps", "-q", "--filter", ours + colour).split()
    )
    back = deploy(project, "rollback", "--env", "production", "--yes")
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["release"]["environment"] == "production"
    assert attached_colours(project, "staging") == staging_before
    ids_after = sorted(
        i
        for colour in ("blue", "green")
        for i in docker("ps", "-q", "--filter", ours + colour).split()
    )
    assert ids_after == ids_before


def kept_versions(project: Path) -> dict[str, dict[str, str]]:
    import docker as sdk

    from mlopsctl.core.deploy import engine

    return engine.kept(sdk.from_env(), project.name, "staging")


def test_only_the_last_releases_images_are_kept(project: Path) -> None:
    config = project / "mlops.yaml"
    config.write_text(
        config.read_text().replace(
            "staging: {drain: 1, bake: 1}", "staging: {drain: 0, bake: 1, retain: 2}"
        )
    )
    repo = own_images(project, "v1", "v3")
    docker("tag", f"{repo}:v3", f"{repo}:v4")
    try:
        for version in ("v1", "v3", "v4"):
            assert deploy(project, "deploy", "staging", "--version", version).returncode == 0
        assert list(kept_versions(project)) == ["v4", "v3"]
        gone = deploy(project, "rollback", "--env", "staging", "v1")
        assert gone.returncode == 2 and "No kept images of v1" in gone.stderr
        # retention follows the order of deploys, not the age of the images: the older v1
        # image deployed last is kept, and v3 goes
        assert deploy(project, "deploy", "staging", "--version", "v1").returncode == 0
        assert list(kept_versions(project)) == ["v1", "v4"]
        gone = deploy(project, "rollback", "--env", "staging", "v3")
        assert gone.returncode == 2 and "No kept images of v3" in gone.stderr
        tags = docker("images", "--format", "{{.Tag}}", f"mlopsctl-keep/{project.name}-staging")
        assert len(tags.split()) == 2  # one tag per kept image ID (v4 is v3's image)
    finally:
        docker("rmi", f"{repo}:v4", check=False)
