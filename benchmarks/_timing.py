"""Shared timing helpers for the benchmarks: alternate sampling, medians, ratios.

Every timed command, baselines included, runs without PYTHONDONTWRITEBYTECODE: with it set
(some shells and CI images do), an editable checkout recompiles its modules on every run while
installed packages load the .pyc that pip wrote, which would measure the shell, not the tools.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from mlopsctl.core.proc import find_tool

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
MLOPSCTL = find_tool("mlopsctl")  # the console script, as users and git hooks run it


def time_command(cmd: Sequence[str], env: dict[str, str] | None = None, **kwargs: Any) -> float:
    start = time.perf_counter()
    subprocess.run(list(cmd), check=True, stdout=subprocess.DEVNULL, env=env or ENV, **kwargs)
    return time.perf_counter() - start


def sample_alternately(
    cases: dict[str, Callable[[int], float]], rounds: int, warmup: int = 1
) -> dict[str, list[float]]:
    """Run every case once per round, in turn, so drift on the machine hits all alike."""
    for i in range(warmup):
        for fn in cases.values():
            fn(-1 - i)
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(rounds):
        for name, fn in cases.items():
            samples[name].append(fn(i))
    return samples


def report(title: str, samples: dict[str, list[float]], baseline: str) -> None:
    base = statistics.median(samples[baseline])
    print(f"\n{title}")
    print(f"{'case':48s} {'median':>9s} {'ratio':>7s}   n")
    for name, values in samples.items():
        med = statistics.median(values)
        print(f"{name:48s} {med * 1000:8.1f}ms {med / base:6.2f}x {len(values):3d}")


def start(doc: str, rounds: int) -> tuple[int, Path]:
    """A benchmark's ``--rounds`` (default ``rounds``) and a fresh work folder; exits when
    mlopsctl is not on PATH. The caller removes the folder."""
    import sys
    import tempfile

    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    args = parser.parse_args()
    if not MLOPSCTL:
        sys.exit("needs mlopsctl on PATH: pip install .")
    return args.rounds, Path(tempfile.mkdtemp(prefix="mlopsctl-bench-"))
