"""Time `mlopsctl update 6.1` (no change) against `mlopsctl new-stage 6.1` of the same stage.

Both run on copies of one project in the same run, sampled alternately: new-stage creates 6.1
(monitoring template) in a project without it; update re-renders 6.1 in a project that has
it and finds every file in step. Goal: update at most 1.5x new-stage. (copier's `update`
measured on this machine took 2.1-2.5x its `copy`.) A third case times an update that merges
a user edit with a template change (one project-level template override).

Usage: python benchmarks/update.py [--rounds N]   (needs mlopsctl on PATH: pip install .)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import MLOPSCTL, report, sample_alternately, start, time_command

from mlopsctl.core.scaffold.templates import packaged_dir

STAGE = ["6.1", "monitoring-api", "--template", "monitoring"]
GUIDE = "{{docs_dir}}/{{stage_id}}-{{feature}}-implementation.md.j2"


def main() -> None:
    rounds, work = start(__doc__ or "", 15)
    try:
        bare = work / "bare"
        subprocess.run([MLOPSCTL, "init", str(bare), "--no-git", "--name", "demo"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        staged = work / "staged"
        shutil.copytree(bare, staged)
        subprocess.run([MLOPSCTL, "new-stage", *STAGE], cwd=staged, check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        edited = work / "edited"
        shutil.copytree(staged, edited)
        doc = next(edited.glob("docs/06-*/6.1-monitoring-api-implementation.md"))
        doc.write_text("My own first line.\n" + doc.read_text())
        override = edited / "templates/monitoring/files" / GUIDE
        override.parent.mkdir(parents=True)
        source = packaged_dir() / "stage/files" / GUIDE
        override.write_text(source.read_text() + "\nA line the standard added.\n")

        def copy(src: Path, tag: str, i: int) -> Path:
            out = work / f"{tag}-{i}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(src, out)
            return out

        def new_stage(i: int) -> float:
            return time_command([MLOPSCTL, "new-stage", *STAGE], cwd=copy(bare, "ns", i))

        def update(i: int) -> float:
            return time_command([MLOPSCTL, "update", "6.1"], cwd=copy(staged, "up", i))

        def merge(i: int) -> float:
            return time_command([MLOPSCTL, "update", "6.1"], cwd=copy(edited, "mg", i))

        samples = sample_alternately(
            {
                "mlopsctl new-stage 6.1 (monitoring, 20 files)": new_stage,
                "mlopsctl update 6.1 (nothing changed)": update,
                "mlopsctl update 6.1 (one three-way merge)": merge,
            },
            rounds,
        )
        report("update vs new-stage (same stage, same run)", samples,
               "mlopsctl new-stage 6.1 (monitoring, 20 files)")  # fmt: skip
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
