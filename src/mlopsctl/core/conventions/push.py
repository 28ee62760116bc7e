"""What a ``git push`` sends, checked in the pre-push hook.

Git gives the hook one line per ref it is about to update::

    <local ref> <local sha> <remote ref> <remote sha>

Each pushed branch is checked by its *remote* name (``git push origin ok:Bad_Name`` creates
``Bad_Name`` there), and each commit the remote does not have yet by its message (commits made
with ``--no-verify`` are caught here). Deletions push nothing, and tags are not branches.

Import-light: this runs in every push.
"""

from __future__ import annotations

from mlopsctl.errors import BadInput, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from mlopsctl.core.conventions.branch import Rules, Verdict
    from mlopsctl.core.conventions.commit import Finding
    from mlopsctl.core.git.repo import Commit

HEX = frozenset("0123456789abcdef")
HEADS = "refs/heads/"


class RefUpdate:
    """One line of git's pre-push input."""

    __slots__ = ("local_ref", "local_sha", "remote_ref", "remote_sha")

    def __init__(self, local_ref: str, local_sha: str, remote_ref: str, remote_sha: str) -> None:
        self.local_ref = local_ref
        self.local_sha = local_sha
        self.remote_ref = remote_ref
        self.remote_sha = remote_sha

    @property
    def deletes(self) -> bool:
        return set(self.local_sha) == {"0"}

    @property
    def creates(self) -> bool:
        return set(self.remote_sha) == {"0"}

    @property
    def branch(self) -> str | None:
        """The remote branch this line updates; None for tags and other refs."""
        if self.remote_ref.startswith(HEADS):
            return self.remote_ref[len(HEADS) :]
        return None


def _sha(text: str) -> bool:
    return len(text) in (40, 64) and set(text) <= HEX


def parse(text: str) -> list[RefUpdate]:
    """git's pre-push lines; anything else is bad input (this is not git talking)."""
    updates = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        parts = line.rsplit(maxsplit=3)
        if len(parts) != 4 or not (_sha(parts[1]) and _sha(parts[3])):
            raise BadInput(
                f"line {n} of standard input ('{one_line(line[:80])}') is not "
                "'<local ref> <local sha> <remote ref> <remote sha>'; check-push reads what "
                "git gives a pre-push hook."
            )
        updates.append(RefUpdate(*parts))
    return updates


class RefReport:
    """The verdicts on one pushed branch."""

    __slots__ = ("branch", "commits", "failures", "update", "verdict")

    def __init__(
        self,
        update: RefUpdate,
        verdict: Verdict,
        commits: Sequence[Commit],
        failures: list[tuple[Commit, Finding]],
    ) -> None:
        self.update = update
        self.branch = verdict.name
        self.verdict = verdict
        self.commits = commits
        self.failures = failures

    @property
    def ok(self) -> bool:
        return self.verdict.ok and not self.failures


def check(
    updates: Sequence[RefUpdate],
    remote: str,
    rules: Rules,
    types: Sequence[str],
    scope_pattern: str | None,
) -> list[RefReport]:
    """A report per pushed branch (deletions and tags are left out)."""
    from mlopsctl.core.conventions import commit
    from mlopsctl.core.git import repo

    reports = []
    for update in updates:
        name = update.branch
        if update.deletes or name is None:
            continue
        remote_sha = None if update.creates else update.remote_sha
        commits = repo.commits_pushed(update.local_sha, remote_sha, remote)
        failures, _ = commit.check_commits(commits, types, scope_pattern, on_github=False)
        reports.append(RefReport(update, rules.check(name), commits, failures))
    return reports
