"""The journal of an apply: signed by this user's key, refused when planted or tampered with,
checked entry by entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlopsctl.core import fs
from mlopsctl.core.scaffold import journal
from mlopsctl.errors import BadInput

TMP = ".f." + "a" * 32 + fs.TMP_SUFFIX
BACKUP = ".b." + "b" * 32 + fs.TMP_SUFFIX


@pytest.fixture
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


def write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "journal.json"
    path.write_bytes(data)
    return path


def test_a_journal_this_user_wrote_reads_back(tmp_path: Path, key_home: Path) -> None:
    entries = [journal.Entry("docs/a.md", TMP, BACKUP), journal.Entry("old.md", None, None, True)]
    path = write(tmp_path, journal.dump(entries))
    assert journal.load(tmp_path, path, 10_000) == entries
    key = Path(journal.key_path())
    assert key.is_file() and key.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "change",
    [
        lambda doc: {**doc, "mac": "0" * 64},  # planted
        lambda doc: {**doc, "entries": doc["entries"].replace("docs/a.md", "docs/b.md")},
        lambda doc: {**doc, "version": True},
        lambda doc: {**doc, "version": 2},
        lambda doc: [doc],
    ],
)
def test_a_planted_or_tampered_journal_is_refused(
    tmp_path: Path, key_home: Path, change: object
) -> None:
    doc = json.loads(journal.dump([journal.Entry("docs/a.md", TMP, None)]))
    path = write(tmp_path, json.dumps(change(doc)).encode())  # type: ignore[operator]
    with pytest.raises(BadInput, match="not replayed and nothing was changed"):
        journal.load(tmp_path, path, 10_000)


def test_another_users_key_does_not_verify(tmp_path: Path, key_home: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    path = write(tmp_path, journal.dump([journal.Entry("a.md", TMP, None)]))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "someone-else"))
    with pytest.raises(BadInput, match="not written by mlopsctl for this user"):
        journal.load(tmp_path, path, 10_000)


@pytest.mark.parametrize(
    "item",
    [
        {"path": "a.md", "tmp": "../../sib/id_rsa", "backup": None, "delete": False},
        {"path": "a.md", "tmp": None, "backup": BACKUP, "delete": True},
        {"path": "a.md", "tmp": TMP, "backup": None, "delete": "no"},
        {"path": "a.md", "tmp": TMP, "backup": None},
        5,
    ],
)
def test_entries_mlopsctl_never_writes_are_refused(
    tmp_path: Path, key_home: Path, item: object
) -> None:
    signed = json.loads(journal.dump([]))
    body = json.dumps([item], separators=(",", ":"))
    key = journal._key(create=False)
    assert key is not None
    doc = {**signed, "entries": body, "mac": journal._mac(key, body.encode())}
    path = write(tmp_path, json.dumps(doc).encode())
    with pytest.raises(BadInput, match="holds an entry mlopsctl never writes"):
        journal.load(tmp_path, path, 10_000)


def test_targets_outside_the_project_or_in_git_are_refused(tmp_path: Path, key_home: Path) -> None:
    for target in ("../outside.md", ".git/config"):
        path = write(tmp_path, journal.dump([journal.Entry(target, TMP, None)]))
        with pytest.raises(BadInput):
            journal.load(tmp_path, path, 10_000)


def test_a_link_and_an_oversized_journal_are_refused(tmp_path: Path, key_home: Path) -> None:
    real = write(tmp_path, journal.dump([]))
    link = tmp_path / "link.json"
    link.symlink_to(real)
    with pytest.raises(BadInput, match="not a plain file"):
        journal.load(tmp_path, link, 10_000)
    with pytest.raises(BadInput, match="larger than 10 bytes"):
        journal.load(tmp_path, real, 10)
