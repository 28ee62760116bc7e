"""Test isolation: HOME, caches and git identity live in tmp folders; CI variables are cleared."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

REAL_PIP_CACHE = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
CI_VARIABLES = (
    "PRE_COMMIT_LOCAL_BRANCH", "PRE_COMMIT_REMOTE_BRANCH", "GITHUB_HEAD_REF", "GITHUB_REF_NAME",
    "GITHUB_ACTIONS", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "CI_COMMIT_REF_NAME",
    "CI_COMMIT_BRANCH", "BRANCH_NAME", "BUILDKITE_BRANCH", "MLOPSCTL_DEBUG", "VIRTUAL_ENV",
    "MLOPS_NOTIFY_WEBHOOK", "NO_COLOR",
)  # fmt: skip


SEED_VARIABLE = "MLOPSCTL_HYPOTHESIS_SEED"


def pytest_configure(config: pytest.Config) -> None:
    """Fuzzing is seeded per run, the same seed in every xdist worker (they inherit the
    variable), and the seed is printed so that a failure can be replayed."""
    import random

    from hypothesis import core

    given = config.getoption("hypothesis_seed", None)
    seed = (
        given
        if given is not None
        else os.environ.setdefault(SEED_VARIABLE, str(random.randrange(2**32)))
    )
    core.global_force_seed = int(seed)  # type: ignore[attr-defined]
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        config.stash[HAD_LOCK_IMAGE] = _has_lock_image()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """The controller makes the run's one-node swarm before any worker starts (see
    tests/helpers/engine.py for why never in the middle of a run)."""
    from tests.helpers import engine

    config = session.config
    if hasattr(config, "workerinput"):
        return
    tests = str(Path(__file__).parent)
    if engine.run_needs_swarm(list(config.args), tests):
        config.stash[MADE_SWARM] = engine.start_swarm()
    if engine.run_needs_images(list(config.args), tests) and engine.docker("info").returncode == 0:
        import tempfile

        from tests.system.conftest import IMAGE, SHARED_IMAGES, build_images

        name = IMAGE  # this process's name for them; the workers inherit it
        os.environ[SHARED_IMAGES] = name
        config.stash[BUILT_IMAGES] = name

        with tempfile.TemporaryDirectory(prefix="mlopsctl-test-images-") as folder:
            build_images(name, Path(folder))


MADE_SWARM = pytest.StashKey[tuple[bool, bool]]()
BUILT_IMAGES = pytest.StashKey[str]()


HAD_LOCK_IMAGE = pytest.StashKey[bool]()


def _has_lock_image() -> bool:
    from mlopsctl.core.deploy.engine import LOCK_IMAGE

    try:
        out = subprocess.run(["docker", "image", "inspect", LOCK_IMAGE], capture_output=True,
                             timeout=30)  # fmt: skip
    except (OSError, subprocess.TimeoutExpired):
        return True  # no engine: nothing to clean up
    return out.returncode == 0


def pytest_sessionfinish(session: pytest.Session) -> None:
    """At the end of the whole run, mlopsctl's lock image goes if the suite's deploys made it
    (every worker is done by then)."""
    from mlopsctl.core.deploy.engine import LOCK_IMAGE

    config = session.config
    if hasattr(config, "workerinput"):
        return
    built = config.stash.get(BUILT_IMAGES, "")
    if built:
        from tests.system.conftest import remove_images

        remove_images(built)
    made, had_gwbridge = config.stash.get(MADE_SWARM, (False, True))
    if made:
        from tests.helpers.engine import stop_swarm

        stop_swarm(had_gwbridge)
    if config.stash.get(HAD_LOCK_IMAGE, True):
        return
    if _has_lock_image():
        subprocess.run(["docker", "rmi", LOCK_IMAGE], capture_output=True, timeout=60)


# The files that take longest, longest first: xdist (``--dist loadfile --no-loadscope-reorder``)
# hands out files in collection order, so starting these first keeps one of them from being the
# run's tail on a worker that already finished everything else.
HEAVIEST_FIRST = (
    "system/test_swarm_updates.py", "system/test_deploy_script_kills.py",
    "system/test_deploy_script_kills_more.py",
    "system/test_deploy_kills.py", "system/test_deploy_kills_more.py",
    "system/test_deploy_races.py", "system/test_deploy_races_script.py",
    "system/test_canary_kills.py", "system/test_traffic_rollback.py", "system/test_swarm.py",
    "system/test_deploy_bake.py", "system/test_canary_prometheus.py",
    "system/test_canary_swarm.py", "system/test_generated_ci.py", "system/test_crash.py",
    "system/test_deploy.py", "system/test_traffic.py", "system/test_traffic_v2.py",
    "system/test_canary.py", "system/test_ml_test_score.py", "system/test_test_runner.py",
    "system/test_doctor.py", "system/test_untrusted_properties.py", "system/test_templates.py",
    "system/test_secrets.py", "system/test_affected.py", "system/test_wheel.py",
    "system/test_crash_kills.py", "system/test_fuzz.py", "system/test_attacks.py",
    "system/test_git_hooks.py",
)  # fmt: skip


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVIEST_FIRST)}

    def weight(item: pytest.Item) -> int:
        path = Path(str(item.fspath)).as_posix()
        return next((r for name, r in rank.items() if path.endswith(f"/tests/{name}")), len(rank))

    items.sort(key=weight)  # stable: a file's tests keep their order


def pytest_report_header(config: pytest.Config) -> str:
    from hypothesis import core

    seed = core.global_force_seed  # type: ignore[attr-defined]
    return f"hypothesis seed: {seed} (replay a failure with --hypothesis-seed={seed})"


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tests marked ``docker`` need an engine: skipped without one, failed under CI."""
    if item.get_closest_marker("docker") is not None:
        from tests.helpers.machine import docker_problem, need

        need("a Docker engine", docker_problem())


@pytest.fixture(autouse=True)
def isolated(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("PIP_CACHE_DIR", REAL_PIP_CACHE)
    monkeypatch.setenv("PRE_COMMIT_HOME", str(home / ".pre-commit"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(home / ".gitconfig"))
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Test\n\temail = test@example.invalid\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n"
    )
    for name in CI_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")


def git(cwd: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return proc.stdout.strip()


def set_environments(config: Path, entries: str) -> None:
    """Give a generated mlops.yaml these ``environments:`` entries (YAML, indented two), in
    place of the section the project template ends with."""
    import re

    head = re.split(r"(?m)^environments:", config.read_text(), maxsplit=1)[0]
    config.write_text(f"{head}environments:\n{entries}")


def snapshot(root: Path) -> dict[str, str]:
    """Every file under ``root`` (outside .git) with a hash of its content and its mtime."""
    out = {}
    for path in sorted(root.rglob("*")):
        if ".git" in path.relative_to(root).parts or not path.is_file():
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        out[path.relative_to(root).as_posix()] = f"{digest}:{path.stat().st_mtime_ns}"
    return out


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Invoke the Typer app in-process in a folder: ``cli(cwd, "new-stage", "6.1")``."""
    from mlopsctl.cli.typer_app import build_app

    runner = CliRunner()
    app = build_app()

    def invoke(cwd: Path, *args: str, input: str | None = None) -> object:
        monkeypatch.chdir(cwd)
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return invoke


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A freshly initialised project (with git) in a tmp folder."""
    from mlopsctl.core.scaffold import create

    root = tmp_path / "demo"
    sc = create.plan_init(root, name="demo")
    sc.apply()
    create.init_git(root)
    yield root
