"""`mlopsctl test unit` against a bare `python -m pytest tests/unit` on the same files.

Both run in the same generated project (three substages, their unit tests), sampled
alternately in one run; prints medians and the ratio.

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
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
