"""Time `mlopsctl doctor` with the ML Test Score against the doctor from before it.

The project: generated with the training, cicd-pipeline, model-serving and monitoring
templates, committed, its tests run once (so the score has a record to read). The baseline is
mlopsctl at the commit before the ML Test Score (`--baseline REF` names another), installed
without its dependencies into a virtual environment that sees this one's packages; both
doctors run on the same project, alternately, in the same run. Goal: at most 100 ms more.

Usage: python benchmarks/doctor.py [--rounds N] [--baseline REF]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import ENV, MLOPSCTL, report, sample_alternately, time_command

REPO = Path(__file__).resolve().parents[1]
TEMPLATES = [("1.1", "churn", "training"), ("4.1", "ci", "cicd-pipeline"),
             ("5.1", "serving", "model-serving"), ("6.1", "watch", "monitoring")]  # fmt: skip


def baseline_commit() -> str:
    found = subprocess.run(
        ["git", "log", "--format=%H", "-1", "--grep", "feat(doctor): the ML Test Score"],
        cwd=REPO, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not found:
        sys.exit("no commit of the ML Test Score in this checkout's history; pass --baseline REF")
    return f"{found}^"


def install(ref: str, work: Path) -> Path:
    """mlopsctl at ``ref`` in a venv of its own (this environment's packages visible)."""
    tree = work / "baseline-src"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(tree), ref], cwd=REPO,
                   check=True)  # fmt: skip
    venv = work / "baseline-venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    subprocess.run([str(venv / "bin/python"), "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", str(tree)], check=True)  # fmt: skip
    return venv / "bin" / "mlopsctl"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--baseline", default=None, help="the git ref of the baseline doctor")
    args = parser.parse_args()
    if not MLOPSCTL:
        sys.exit("needs mlopsctl on PATH: pip install .")
    work = Path(tempfile.mkdtemp(prefix="mlopsctl-bench-"))
    ref = args.baseline or baseline_commit()
    try:
        old = install(ref, work)
        project = work / "demo"
        subprocess.run([MLOPSCTL, "init", str(project), "--name", "demo"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        for sub, feature, template in TEMPLATES:
            subprocess.run([MLOPSCTL, "new-stage", sub, feature, "--template", template],
                           cwd=project, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
        for cmd in (["git", "add", "-A"], ["git", "commit", "-qm", "feat: all", "--no-verify"]):
            subprocess.run(cmd, cwd=project, check=True)
        subprocess.run([MLOPSCTL, "test"], cwd=project, check=True, capture_output=True)

        def doctor(binary: str) -> float:
            return time_command([binary, "doctor", "--json"], env=ENV, cwd=project)

        base = f"doctor at {ref[:12]} (baseline)"
        samples = sample_alternately(
            {base: lambda i: doctor(str(old)), "doctor with the ML Test Score": lambda i:
             doctor(str(MLOPSCTL))},
            args.rounds, warmup=1,
        )  # fmt: skip
        report("doctor with the ML Test Score vs the doctor before it", samples, base)
        added = statistics.median(samples["doctor with the ML Test Score"]) - statistics.median(
            samples[base]
        )
        print(f"  added: {added * 1000:+.0f} ms (goal: at most +100 ms)")
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(work / "baseline-src")],
                       cwd=REPO, capture_output=True)  # fmt: skip
        subprocess.run(["rm", "-rf", str(work)], check=False)


if __name__ == "__main__":
    main()
