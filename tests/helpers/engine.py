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
    for tag in tags.stdout.split():
        docker("rmi", tag)
        removed.append(f"image {tag}")
    return removed
