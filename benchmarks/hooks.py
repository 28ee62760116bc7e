"""Latency of the hook commands against a bare interpreter start, in one run.

Times `mlopsctl check-branch NAME`, `mlopsctl check-commit FILE`, `mlopsctl check-names` and
`mlopsctl check-push` on a new branch's pre-push line (the console script, as git hooks run
it) and `python -c pass` with the same interpreter, sampled alternately inside a generated
project, and prints medians and ratios.

Usage: python benchmarks/hooks.py [--rounds N]
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import MLOPSCTL, report, sample_alternately, start, time_command


def main() -> None:
    rounds, work = start(__doc__ or "", 40)
    try:
        subprocess.run([MLOPSCTL, "init", str(work / "p"), "--name", "p"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        project = work / "p"
        subprocess.run([MLOPSCTL, "new-stage", "6.1", "monitoring-api"], cwd=project, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        msg = project / ".git" / "COMMIT_EDITMSG"
        msg.write_text("feat(stage6): add latency alert\n\n# Please enter the commit message\n")
        unit = "tests/unit/test_6_1_monitoring_api.py"
        for args in (["add", "-A"], ["commit", "-q", "--no-verify", "-m", "feat: layout"]):
            subprocess.run(["git", *args], cwd=project, check=True)
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, check=True,
                              capture_output=True, text=True).stdout.strip()  # fmt: skip
        push_line = f"refs/heads/main {head} refs/heads/feature/stage6-x {'0' * 40}\n"

        def cmd(*argv: str) -> object:
            return lambda _i: time_command(list(argv), cwd=project)

        samples = sample_alternately(
            {
                "python -c pass (baseline)": cmd(sys.executable, "-c", "pass"),  # type: ignore[dict-item]
                "mlopsctl check-branch feature/stage6-x": cmd(
                    MLOPSCTL, "check-branch", "feature/stage6-x"
                ),  # type: ignore[dict-item]
                "mlopsctl check-branch (from git HEAD)": cmd(MLOPSCTL, "check-branch"),  # type: ignore[dict-item]
                "mlopsctl check-commit COMMIT_EDITMSG": cmd(MLOPSCTL, "check-commit", str(msg)),  # type: ignore[dict-item]
                "mlopsctl check-names <one file>": cmd(MLOPSCTL, "check-names", unit),  # type: ignore[dict-item]
                "mlopsctl check-push origin <new branch>": lambda _i: time_command(
                    [MLOPSCTL, "check-push", "origin"], cwd=project, input=push_line.encode()
                ),
            },
            rounds,
            warmup=2,
        )
        report("hook commands vs a bare interpreter start", samples, "python -c pass (baseline)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
