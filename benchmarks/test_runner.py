"""`mlopsctl test unit` against a bare `python -m pytest tests/unit` on the same files.

Both run in the same generated project (three substages, their unit tests), sampled
alternately in one run; prints medians and the ratio.

Usage: python benchmarks/test_runner.py [--rounds N]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import MLOPSCTL, report, sample_alternately, time_command


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if not MLOPSCTL:
        sys.exit("needs mlopsctl on PATH: pip install .")
    work = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-"))
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
        samples = sample_alternately(
            {
                "python -m pytest tests/unit (baseline)": lambda _i: time_command(
                    [sys.executable, "-m", "pytest", "tests/unit"], cwd=project
                ),
                "mlopsctl test unit": lambda _i: time_command(
                    [MLOPSCTL, "test", "unit"], cwd=project
                ),
            },
            args.rounds,
            warmup=2,
        )
        report("mlopsctl test unit vs bare pytest (18 tests)", samples,
               "python -m pytest tests/unit (baseline)")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
