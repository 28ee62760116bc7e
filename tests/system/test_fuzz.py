"""Generated inputs against mlopsctl's real entry point.

For every input: the documented exit code, no traceback, at most one line on stderr, and for
bad input (exit 2, or any dry run) a byte-identical tree. Each strategy mixes valid shapes with
hostile ones (separators, dots, shell and control characters, non-ASCII, options where values
belong). The examples run through ``mlopsctl.main.main`` in this process (hundreds cost
seconds); the first example of every command also runs as a separate ``mlopsctl`` process,
and both must agree. Hypothesis is seeded per run (the seed is in pytest's header).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import git, snapshot

TEXT = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
HOSTILE = st.sampled_from(
    ["..", "/", "../x", "a/b", "$(touch pwned)", ";rm -rf /", "`id`", "\n", "\t", "\x1b[31m",
     "--output=x", "-", "--", " ", "é", "字", "a" * 300, "6.1\n", "*", "?", "'", '"', "\\"]
)  # fmt: skip
WORD = st.one_of(
    HOSTILE, st.text(TEXT, max_size=12), st.from_regex(r"[a-z][a-z0-9-]{0,12}", fullmatch=True)
)
SETTINGS = settings(
    max_examples=int(os.environ.get("MLOPSCTL_FUZZ_EXAMPLES", "75")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODES: dict[str, set[int]] = {}
TRIED: dict[str, int] = {}


def run(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "mlopsctl", *args], cwd=cwd, capture_output=True, env=env,
        input=stdin, timeout=120,
    )  # fmt: skip


def run_in_process(
    cwd: Path, args: list[str], stdin: bytes | None
) -> subprocess.CompletedProcess[bytes]:
    """``mlopsctl ARGS`` through the entry point a process runs, in this process."""
    from mlopsctl.main import main

    out, err = io.StringIO(), io.StringIO()
    before, stdin_before = os.getcwd(), sys.stdin
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin or b""))
    try:
        os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(before)
        sys.stdin = stdin_before
    return subprocess.CompletedProcess(args, code, out.getvalue().encode(), err.getvalue().encode())


def judged(
    name: str,
    cwd: Path,
    args: list[str],
    allowed: set[int],
    tree: Path | None = None,
    stdin: bytes | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run, and assert the contract for every outcome."""
    before = snapshot(tree) if tree is not None else None
    out = run_in_process(cwd, args, stdin)
    if name not in TRIED:  # the first input of each command: also as a real process
        real = run(cwd, *args, stdin=stdin)
        assert real.returncode == out.returncode, (args, real.stderr, out.stderr)
        if tree is not None and out.returncode == 2:
            assert snapshot(tree) == before, args
    TRIED[name] = TRIED.get(name, 0) + 1
    CODES.setdefault(name, set()).add(out.returncode)
    err = out.stderr.decode("utf-8", "replace")
    assert out.returncode in allowed, (args, out.returncode, err)
    assert "Traceback" not in err, (args, err)
    assert len(err.strip().splitlines()) <= 1, (args, err)
    options = args[: args.index("--")] if "--" in args else args  # `-- --dry-run` is a word
    if tree is not None and (out.returncode == 2 or "--dry-run" in options):
        assert snapshot(tree) == before, args
    return out


def saw(name: str, codes: set[int]) -> None:
    """After a command's examples: it met valid and invalid input, both."""
    assert TRIED.get(name, 0) >= 10, TRIED
    assert codes <= CODES[name], (name, CODES[name])


@pytest.fixture(scope="module")
def fuzz_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlopsctl.core.scaffold import create

    root = tmp_path_factory.mktemp("fuzz") / "demo"
    create.plan_init(root, name="demo").apply()
    create.init_git(root)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: init", "--no-verify")
    return root


@SETTINGS
@given(name=WORD)
def test_branch_names(fuzz_project: Path, name: str) -> None:
    judged("check-branch NAME", fuzz_project, ["check-branch", name], {0, 1, 2})


@SETTINGS
@given(
    message=st.one_of(
        st.binary(max_size=200),
        st.text(TEXT, max_size=80).map(str.encode),
        st.builds(
            lambda head, body, comment: f"{head}\n\n{body}\n# {comment}\n".encode(),
            st.from_regex(
                r"(feat|fix|docs|chore)(\([a-z0-9-]{1,8}\))?!?: [a-z][a-z ]{0,30}", fullmatch=True
            ),
            st.text(TEXT, max_size=40),
            st.text(TEXT, max_size=20),
        ),
    )
)
def test_commit_messages_as_hook_files(fuzz_project: Path, message: bytes) -> None:
    msg = fuzz_project / ".git" / "FUZZ_MSG"
    msg.write_bytes(message)
    judged("check-commit FILE", fuzz_project, ["check-commit", str(msg)], {0, 1})


@SETTINGS
@given(
    spec=st.one_of(
        WORD,
        st.builds(lambda a, b: f"{a}..{b}", WORD, WORD),
        st.sampled_from(["HEAD..HEAD", "HEAD~0..HEAD", "main..HEAD", "HEAD...main"]),
    )
)
def test_ranges(fuzz_project: Path, spec: str) -> None:
    judged("check-commit --range", fuzz_project, ["check-commit", "--range", spec], {0, 1, 2},
           tree=fuzz_project)  # fmt: skip


SHA = st.one_of(
    st.sampled_from(["0" * 40, "HEAD_SHA", "HEAD", "zz", "f" * 64]),
    st.from_regex(r"[0-9a-f]{40}", fullmatch=True),
    WORD,
)
REF = st.one_of(
    st.sampled_from(["refs/heads/main", "refs/heads/Bad_Name", "refs/tags/v1.0.0", "(delete)"]),
    st.builds(lambda w: f"refs/heads/{w}", WORD),
    WORD,
)
PUSH_LINE = st.one_of(
    st.builds(lambda a, b, c, d: f"{a} {b} {c} {d}", REF, SHA, REF, SHA),
    st.builds(lambda c: f"refs/heads/main HEAD_SHA {c} {'0' * 40}", REF),  # real pushes
)


@SETTINGS
@given(
    remote=st.one_of(st.just("origin"), WORD),
    stdin=st.one_of(
        st.lists(PUSH_LINE, max_size=3).map(lambda lines: "\n".join(lines).encode()),
        st.binary(max_size=120),
    ),
)
def test_pre_push_lines(fuzz_project: Path, remote: str, stdin: bytes) -> None:
    head = git(fuzz_project, "rev-parse", "HEAD").encode()
    judged("check-push STDIN", fuzz_project, ["check-push", remote],
           {0, 1, 2}, tree=fuzz_project, stdin=stdin.replace(b"HEAD_SHA", head))  # fmt: skip


@SETTINGS
@given(path=st.one_of(WORD, st.builds(lambda a, b: f"{a}/{b}", WORD, WORD)))
def test_check_names_paths(fuzz_project: Path, path: str) -> None:
    judged("check-names PATH", fuzz_project, ["check-names", path], {0, 1, 2})


@SETTINGS
@given(
    substage=st.one_of(WORD, st.from_regex(r"[0-9]{1,3}\.[0-9]{1,3}", fullmatch=True)),
    feature=st.one_of(
        WORD, st.from_regex(r"[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5}){0,2}", fullmatch=True)
    ),
)
def test_stage_ids_and_features(fuzz_project: Path, substage: str, feature: str) -> None:
    judged("new-stage X.Y FEATURE", fuzz_project, ["new-stage", substage, feature, "--dry-run"],
           {0, 2, 3}, tree=fuzz_project)  # fmt: skip


@SETTINGS
@given(
    value=st.one_of(WORD, st.integers(-10, 70000).map(str), st.sampled_from(["true", "no", "1.5"])),
    key=st.sampled_from(["service_port", "predict", "nope", "with_compose"]),
)
def test_set_values(fuzz_project: Path, key: str, value: str) -> None:
    judged("new-stage --set", fuzz_project,
           ["new-stage", "6.1", "svc", "--template", "http-service", "--set", f"{key}={value}",
            "--dry-run"], {0, 2}, tree=fuzz_project)  # fmt: skip


@SETTINGS
@given(package=WORD)
def test_package_names(tmp_path_factory: pytest.TempPathFactory, package: str) -> None:
    folder = tmp_path_factory.mktemp("pkg")
    judged("init --package", folder, ["init", "p", "--package", package, "--no-git"], {0, 2},
           tree=folder)  # fmt: skip


@pytest.mark.parametrize(
    ("name", "codes"),
    [("check-branch NAME", {0, 1}), ("check-commit FILE", {0, 1}),
     ("check-commit --range", {0, 2}), ("check-push STDIN", {0, 2}),
     ("check-names PATH", {0, 2}), ("new-stage X.Y FEATURE", {0, 2}),
     ("new-stage --set", {0, 2}), ("init --package", {0, 2})],
)  # fmt: skip
def test_zz_every_command_met_valid_and_invalid_input(name: str, codes: set[int]) -> None:
    """(After the fuzz tests of this module, in the same worker.) Each command saw enough
    inputs, and both outcomes; a test whose strategy stopped producing one fails here."""
    if name not in TRIED:
        pytest.skip(f"the fuzz test of {name} was deselected")
    saw(name, codes)
    print(f"\n{name}: {TRIED[name]} inputs, exit codes {sorted(CODES[name])}")
