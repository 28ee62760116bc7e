"""Removing what a test made on the Docker engine, by its own names and labels only.

Every engine test names its project ``t<8 hex>``; mlopsctl names what it makes for that
project after it (``<project>-<env>`` networks, ``<project>-<env>-<colour>`` compose projects,
``mlopsctl-lock-<project>-<env>``, ``mlopsctl-releases-<project>-...``, ``mlopsctl-keep/
<project>-<env>`` tags, ``<project>-<env>`` stacks). Nothing is pruned: an unused network
or image of the user's is never touched.
"""

from __future__ import annotations

import subprocess


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)


def _ours(name: str, project: str) -> bool:
    return name == project or name.startswith(f"{project}-") or name.startswith(f"{project}_")


def remove_test_objects(project: str) -> list[str]:
    """Remove every stack, container, network and kept image of ``project``; what was
    removed, for a test to look at."""
    if docker("info").returncode != 0:
        return []
    removed: list[str] = []
    stacks = docker("stack", "ls", "--format", "{{.Name}}")
    for stack in stacks.stdout.split() if stacks.returncode == 0 else []:
        if _ours(stack, project):
            docker("stack", "rm", stack)
            removed.append(f"stack {stack}")
    listing = docker(
        "ps", "-a", "--format",
        '{{.ID}}\t{{.Names}}\t{{.Label "com.docker.compose.project"}}\t{{.Label "io.mlopsctl.project"}}',
    ).stdout  # fmt: skip
    for line in listing.splitlines():
        cid, cname, compose_project, mlopsctl_project = [*line.split("\t"), "", "", ""][:4]
        if (
            mlopsctl_project == project
            or _ours(compose_project, project)
            or cname.startswith((f"mlopsctl-lock-{project}-", f"mlopsctl-releases-{project}-",
                                 f"client-{project}"))
            or _ours(cname, project)
        ):  # fmt: skip
            docker("rm", "-f", cid)
            removed.append(f"container {cname}")
    for _ in range(20):  # a stack's networks go when its tasks have
        left = [n for n in docker("network", "ls", "--format", "{{.Name}}").stdout.split()
                if _ours(n, project)]  # fmt: skip
        if not left:
            break
        for network in left:
            if docker("network", "rm", network).returncode == 0:
                removed.append(f"network {network}")
        subprocess.run(["sleep", "0.5"], check=False)
    tags = docker("images", "--format", "{{.Repository}}:{{.Tag}}", f"mlopsctl-keep/{project}-*")
    own = docker("images", "--format", "{{.Repository}}:{{.Tag}}", f"{project}-app")
    for tag in [*tags.stdout.split(), *own.stdout.split()]:
        docker("rmi", tag)
        removed.append(f"image {tag}")
    return removed


# --- the one-node swarm of a run --------------------------------------------------------------
#
# `docker swarm init` and `docker swarm leave` reconfigure the engine's networking: containers
# on bridge networks lose their connections and their names for a while (a blue-green test
# running beside a swarm module's setup or teardown saw every request fail). So a run that
# holds swarm tests makes the swarm once, before any worker starts, and leaves it (only if it
# made it) after every worker is done.

SWARM_FILES = ("test_swarm.py", "test_swarm_updates.py", "test_canary_swarm.py")


def swarm_state() -> str:
    return docker("info", "--format", "{{.Swarm.LocalNodeState}}").stdout.strip()


def run_needs_swarm(args: list[str], tests_root: str) -> bool:
    """Whether the paths given to pytest hold a swarm test file."""
    return _covers(args, tests_root, [f"system/{name}" for name in SWARM_FILES])


def run_needs_images(args: list[str], tests_root: str) -> bool:
    """Whether the paths given to pytest hold system tests (which deploy the test images)."""
    return _covers(args, tests_root, ["system/"])


def _covers(args: list[str], tests_root: str, inside: list[str]) -> bool:
    import os

    wanted = [os.path.join(tests_root, *name.split("/")) for name in inside]
    for arg in args or [tests_root]:
        path = os.path.abspath(arg.split("::", 1)[0])
        for w in wanted:
            if w.endswith(os.sep) and (path + os.sep).startswith(w):
                return True  # a path inside a wanted folder
            if w.rstrip(os.sep) == path or w.startswith(path.rstrip(os.sep) + os.sep):
                return True
    return False


def start_swarm() -> tuple[bool, bool]:
    """Make this engine a one-node swarm when it is not one: (made it, docker_gwbridge was
    there before)."""
    if docker("info").returncode != 0 or swarm_state() == "active":
        return False, True
    bridges = docker("network", "ls", "--format", "{{.Name}}").stdout.split()
    done = docker("swarm", "init", "--advertise-addr", "127.0.0.1")
    return done.returncode == 0, "docker_gwbridge" in bridges


def stop_swarm(had_gwbridge: bool) -> None:
    docker("swarm", "leave", "--force")
    if not had_gwbridge:  # swarm init made it; leaving does not remove it
        docker("network", "rm", "docker_gwbridge")
