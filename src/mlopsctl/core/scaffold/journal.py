"""The journal of one apply: what it renames and removes, signed by the user who ran it.

A journal belongs to the run that wrote it, not to the repository: ``.mlops/tmp`` can arrive
with a ``git pull`` (nothing ignores it before mlopsctl first creates it), so a journal found
there is replayed only when it carries the HMAC of this user's journal key, a random key kept
outside every project (``$XDG_STATE_HOME/mlopsctl/journal.key``, else
``~/.local/state/mlopsctl/journal.key``, mode 0600). A planted journal cannot carry it, and a
signed one is still checked entry by entry: targets inside the project and outside ``.git``,
sources only bare temporary names inside ``.mlops/tmp``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from mlopsctl.core import fs
from mlopsctl.errors import BadInput, one_line

VERSION = 1
KEY_BYTES = 32
# the names fs.temp_name gives staged files (f), backups (b) and removed files set aside (d)
_TEMP = re.compile(r"\.[fbd]\.[0-9a-f]{32}" + re.escape(fs.TMP_SUFFIX))


@dataclass(frozen=True)
class Entry:
    path: str  # the target, relative to the project root
    tmp: str | None  # the staged content's bare name in .mlops/tmp
    backup: str | None  # the bare name of the copy of what the target held
    delete: bool = False


def key_path() -> str:
    base = os.environ.get("XDG_STATE_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "state"
    )
    return os.path.join(base, "mlopsctl", "journal.key")


def _key(create: bool) -> bytes | None:
    path = key_path()
    try:
        with open(path, "rb") as fh:
            key = fh.read(KEY_BYTES + 1)
        if len(key) == KEY_BYTES:
            return key
    except FileNotFoundError:
        pass
    except OSError:
        return None
    if not create:
        return None
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    key = os.urandom(KEY_BYTES)
    fs.atomic_write(Path(path), key, 0o600)
    return key


def _mac(key: bytes, body: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(key, body, hashlib.sha256).hexdigest()


def dump(entries: list[Entry]) -> bytes:
    """The signed journal of ``entries``."""
    body = json.dumps(
        [{"path": e.path, "tmp": e.tmp, "backup": e.backup, "delete": e.delete} for e in entries],
        separators=(",", ":"),
    )
    key = _key(create=True)
    if key is None:
        raise BadInput(
            f"Cannot keep mlopsctl's journal key at {key_path()}; make that folder writable "
            "(or set XDG_STATE_HOME to one that is)."
        )
    mac = _mac(key, body.encode())
    return json.dumps({"version": VERSION, "entries": body, "mac": mac}).encode()


def _refuse(path: Path, why: str) -> BadInput:
    return BadInput(
        f"{one_line(str(path))} {why}, so it is not replayed and nothing was changed; if no "
        "mlopsctl run of yours was interrupted there, remove the folder .mlops/tmp."
    )


def load(root: Path, path: Path, limit: int) -> list[Entry]:
    """The entries of the journal at ``path``, refused unless this user's mlopsctl wrote it
    and every entry is one that :func:`dump` could have written."""
    if path.is_symlink() or not path.is_file():
        raise _refuse(path, "is not a plain file")
    try:
        with open(path, "rb") as fh:
            raw = fh.read(limit + 1)
    except OSError as exc:
        raise _refuse(path, f"cannot be read ({exc.strerror})") from None
    if len(raw) > limit:
        raise _refuse(path, f"is larger than {limit} bytes")
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise _refuse(path, "is not a journal mlopsctl wrote") from None
    if not (
        isinstance(doc, dict)
        and doc.get("version") == VERSION
        and type(doc.get("version")) is int
        and isinstance(doc.get("entries"), str)
        and isinstance(doc.get("mac"), str)
    ):
        raise _refuse(path, "is not a journal this mlopsctl wrote")
    key = _key(create=False)
    import hmac

    if key is None or not hmac.compare_digest(_mac(key, doc["entries"].encode()), doc["mac"]):
        raise _refuse(path, "was not written by mlopsctl for this user on this machine")
    try:
        items = json.loads(doc["entries"])
    except (ValueError, RecursionError):
        raise _refuse(path, "is damaged") from None
    if not isinstance(items, list):
        raise _refuse(path, "is damaged")
    out = []
    for item in items:
        entry = _entry(item)
        if entry is None:
            raise _refuse(path, "holds an entry mlopsctl never writes")
        fs.inside(root, entry.path, f"{path.name} entry")
        out.append(entry)
    return out


def _entry(item: object) -> Entry | None:
    if not isinstance(item, dict) or set(item) != {"path", "tmp", "backup", "delete"}:
        return None
    path, tmp, backup, delete = item["path"], item["tmp"], item["backup"], item["delete"]
    if not isinstance(path, str) or type(delete) is not bool:
        return None
    for name in (tmp, backup):
        if name is not None and not (isinstance(name, str) and _TEMP.fullmatch(name)):
            return None
    if delete != (tmp is None) or (delete and backup is not None):
        return None
    return Entry(path, tmp, backup, delete)
