"""`mlopsctl test unit` against a bare `python -m pytest tests/unit` on the same files, and the
cost and gain of the test map (`mlopsctl test --affected`).

The first part runs in a generated project of three substages, sampled alternately in one run.
The second, in a project of ten substages: a full `mlopsctl test --cov` that records the test
map (coverage.py's test contexts) against the same run without it (goal: at most 1.15x), and
`mlopsctl test --affected --cov` after a one-line change in one module against the full run
(goal: at most 0.3x). Prints medians and the ratios.

Usage: python benchmarks/test_runner.py [--rounds N]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import MLOPSCTL, report, sample_alternately, start, time_command


def main() -> None:
    rounds, work = start(__doc__ or "", 15)
    try:
        project = work / "p"
        quiet = {"check": True, "stdout": subprocess.DEVNULL}
        subprocess.run([MLOPSCTL, "init", str(project), "--no-git", "--name", "p"], **quiet)  # type: ignore[call-overload]
        for sub, feature in [
            ("1.1", "ingestion"),
            ("5.1", "serving-api"),
            ("6.1", "monitoring-api"),
        ]:
            subprocess.run([MLOPSCTL, "new-stage", sub, feature], cwd=project, **quiet)  # type: ignore[call-overload]
        fresh = work / "fresh"  # the same project with tests.fork: false
        shutil.copytree(project, fresh)
        config = fresh / "mlops.yaml"
        config.write_text(config.read_text().replace("fork: true", "fork: false"))

        def run(cmd: list[str], cwd: Path) -> object:
            return lambda _i: time_command(cmd, cwd=cwd)

        pytest_ = [sys.executable, "-m", "pytest"]
        base = "python -m pytest tests/unit (baseline)"
        samples = sample_alternately(
            {
                base: run([*pytest_, "tests/unit"], project),
                "mlopsctl test unit": run([MLOPSCTL, "test", "unit"], project),
                "mlopsctl test unit (tests.fork: false)": run([MLOPSCTL, "test", "unit"], fresh),
            },  # type: ignore[dict-item]
            rounds,
            warmup=2,
        )
        report("mlopsctl test unit vs bare pytest (18 tests)", samples, base)
        base = "python -m pytest, once per suite (baseline)"
        samples = sample_alternately(
            {
                base: lambda _i: sum(
                    time_command([*pytest_, f"tests/{suite}"], cwd=project)
                    for suite in ("unit", "integration", "e2e")
                ),
                "python -m pytest tests (one run, no suites)": run([*pytest_, "tests"], project),
                "mlopsctl test (unit, integration, e2e)": run([MLOPSCTL, "test"], project),
            },  # type: ignore[dict-item]
            rounds,
            warmup=1,
        )
        report("mlopsctl test vs pytest per suite (27 tests in 3 suites)", samples, base)
        affected(work, rounds)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def affected(work: Path, rounds: int) -> None:
    """The test map: what recording it costs, and what --affected saves after a small change."""
    project = work / "ten"
    quiet = {"check": True, "stdout": subprocess.DEVNULL}
    subprocess.run([MLOPSCTL, "init", str(project), "--name", "ten"], **quiet)  # type: ignore[call-overload]
    for n in range(1, 11):
        stage = (n - 1) % 9 + 1
        subprocess.run([MLOPSCTL, "new-stage", f"{stage}.{n}", f"feature-{n}"], cwd=project,
                       **quiet)  # type: ignore[call-overload]  # fmt: skip
    for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "feat: ten", "--no-verify"]):
        subprocess.run(cmd, cwd=project, check=True)
    subprocess.run([MLOPSCTL, "test", "--cov"], cwd=project, **quiet)  # type: ignore[call-overload]
    module = next(project.glob("src/ten/*/feature_3.py"))
    original = module.read_text()
    edited = original.replace("self.processed += len(out)", "self.processed += len(out)  # edited")
    assert edited != original, "the edit did not apply"

    def full(i: int) -> float:
        return time_command([MLOPSCTL, "test", "--cov"], cwd=project)

    def unrecorded(i: int) -> float:  # pytest arguments: the run records no map
        return time_command([MLOPSCTL, "test", "--cov", "--", "-q"], cwd=project)

    def only_affected(i: int) -> float:
        module.write_text(edited)
        try:
            return time_command([MLOPSCTL, "test", "--affected", "--cov"], cwd=project)
        finally:
            module.write_text(original)

    base = "mlopsctl test --cov, no map (baseline)"
    samples = sample_alternately(
        {base: unrecorded, "mlopsctl test --cov, recording the map": full}, rounds, warmup=1
    )
    report("recording the test map (10 substages; goal: at most 1.15x)", samples, base)
    base = "mlopsctl test --cov, every test (baseline)"
    samples = sample_alternately(
        {base: full, "mlopsctl test --affected --cov, one module edited": only_affected},
        rounds, warmup=1,
    )  # fmt: skip
    report("--affected after a one-line change (10 substages; goal: at most 0.3x)", samples, base)


if __name__ == "__main__":
    main()
