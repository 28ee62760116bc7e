"""Files several template instances write, and three-way merges.

A shared file is composed from the parts its instances contribute, in the order they were
added, by one of these rules (a template file's ``existing:`` option picks it):

- ``keep``: the first part is the file (a stage's ``__init__.py``: every substage of the stage
  wants it; it stays while any of them does);
- ``lines``: the first part, then each later part's lines that are not there yet
  (requirements, ``.env.template``);
- ``blocks``: a head, then each part's block. A part's text up to and including the line that
  holds :data:`MARKER` is its head, the rest its block; the file takes the first head and
  every block (Prometheus scrape targets, alert-rule groups, compose services, CI jobs).

Since the file is recomputed from its parts, removing a part (``destroy-stage``) or replacing
one (``update``) gives exactly the file the remaining parts make; the user's own edits are
carried over by a three-way merge against what mlopsctl last wrote.
"""

from __future__ import annotations

import os
import subprocess
import tempfile

from mlopsctl.errors import CommandFailed

MARKER = b"mlopsctl:blocks"


def merge_lines(current: bytes, wanted: bytes) -> bytes | None:
    """``current`` plus the lines of ``wanted`` it lacks (None when it lacks none)."""
    have = {line.strip() for line in current.decode("utf-8", "replace").splitlines()}
    missing = [
        line for line in wanted.decode("utf-8", "replace").splitlines()
        if line.strip() and not line.startswith("#") and line.strip() not in have
    ]  # fmt: skip
    if not missing:
        return None
    text = current.decode("utf-8", "replace")
    if text and not text.endswith("\n"):
        text += "\n"
    return (text + "\n".join(missing) + "\n").encode("utf-8")


def split_head(fragment: bytes) -> tuple[bytes | None, bytes]:
    """A ``blocks`` part as (head, block); head is None when the part has no marker line."""
    at = fragment.find(MARKER)
    if at < 0:
        return None, fragment
    end = fragment.find(b"\n", at)
    end = len(fragment) if end < 0 else end + 1
    return fragment[:end], fragment[end:]


def compose(merge: str, fragments: list[bytes]) -> bytes:
    """The file that ``fragments`` (in order) make under rule ``merge``."""
    if merge in ("own", "keep"):
        return fragments[0]
    if merge == "lines":
        out = fragments[0]
        for frag in fragments[1:]:
            out = merge_lines(out, frag) or out
        return out
    heads = [h for h, _ in map(split_head, fragments) if h is not None]
    out = heads[0] if heads else b""
    for frag in fragments:
        block = split_head(frag)[1]
        if block and out and not out.endswith(b"\n"):
            out += b"\n"
        out += block
    return out


def merge3(base: bytes, ours: bytes, theirs: bytes, path: str) -> tuple[bytes, bool]:
    """Merge the template's change (``base`` -> ``theirs``) into the user's file (``ours``),
    as ``git merge-file`` does; returns (content, whether it holds conflicts)."""
    if ours in (base, theirs):
        return theirs, False
    if theirs == base:
        return ours, False
    with tempfile.TemporaryDirectory(prefix="mlopsctl-merge-") as tmp:
        names = []
        for name, data in (("ours", ours), ("base", base), ("theirs", theirs)):
            full = os.path.join(tmp, name)
            with open(full, "wb") as fh:
                fh.write(data)
            names.append(full)
        cmd = [
            "git", "merge-file", "-p", "-L", f"{path} (yours)", "-L", f"{path} (last generated)",
            "-L", f"{path} (template now)", *names,
        ]  # fmt: skip
        try:
            done = subprocess.run(cmd, capture_output=True, check=False)
        except FileNotFoundError:
            from mlopsctl.errors import Missing

            raise Missing(
                "git is not installed; update merges files with `git merge-file`."
            ) from None
    if done.returncode < 0 or done.returncode > 127:
        raise CommandFailed(cmd[:2], done.returncode, done.stderr.decode("utf-8", "replace"))
    return done.stdout, done.returncode > 0
