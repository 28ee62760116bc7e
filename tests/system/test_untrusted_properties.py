"""Property tests of what arrives with the repository: generated ``mlops.yaml`` files, records
and journals (random shapes, types and sizes), and generated feature names.

Each input goes through mlopsctl's real entry point (``mlopsctl.main.main``, in this process,
so that hundreds of inputs cost seconds; one case per kind also runs as a separate process):
every run exits 0, 2 or (a dry run that would conflict) 3, says what is wrong in one line,
and leaves the tree byte-identical when it refuses. Hypothesis is seeded per run; a failure
prints the seed to replay it with ``--hypothesis-seed``.
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import git, snapshot

EXAMPLES = int(os.environ.get("MLOPSCTL_FUZZ_EXAMPLES", "75"))
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
RAN: dict[str, int] = {}

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=10**300, max_value=10**320),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=30),
    st.sampled_from(["../x", "/etc/passwd", ".git/HEAD", "6.1", "6.x", "project", "a" * 5000,
                     "-----", "stage", "monitoring", "1e400", "2", 'x"""\nimport os']),
)  # fmt: skip
VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


@contextlib.contextmanager
def inside(folder: Path) -> Iterator[None]:
    before = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(before)


def run_main(folder: Path, *args: str) -> tuple[int, str, str]:
    from mlopsctl.main import main

    out, err = io.StringIO(), io.StringIO()
    with inside(folder), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def judged(kind: str, folder: Path, args: list[str]) -> int:
    before = snapshot(folder)
    code, _, err = run_main(folder, *args)
    RAN[kind] = RAN.get(kind, 0) + 1
    assert code in (0, 2, 3), (args, code, err)
    assert "Traceback" not in err and "unexpected" not in err, (args, err)
    if code:
        assert len(err.strip().splitlines()) == 1, (args, err)
    if (code in (2, 3) and "--dry-run" in args) or code == 2:
        assert snapshot(folder) == before, (args, code, err)
    return code


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlopsctl.core.scaffold import create
    from mlopsctl.main import main

    root = tmp_path_factory.mktemp("props") / "demo"
    create.plan_init(root, name="demo").apply()
    create.init_git(root)
    with inside(root), contextlib.redirect_stdout(io.StringIO()):
        assert main(["new-stage", "6.1", "monitoring-api", "--template", "monitoring"]) == 0
    git(root, "add", "-A")
    git(root, "commit", "-qm", "chore: base", "--no-verify")
    return root


@pytest.fixture
def work(pristine: Path, tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(pristine, root, symlinks=True)
    return root


def restore(work: Path, pristine: Path) -> None:
    shutil.rmtree(work)
    shutil.copytree(pristine, work, symlinks=True)


def mutate(doc: Any, data: st.DataObject) -> Any:
    """``doc`` with one value somewhere in it replaced, or a key added or removed."""
    if isinstance(doc, dict) and doc and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(doc, key=str)))
        how = data.draw(st.sampled_from(["replace", "descend", "drop", "add"]))
        if how == "replace":
            return {**doc, key: data.draw(VALUES)}
        if how == "descend":
            return {**doc, key: mutate(doc[key], data)}
        if how == "drop":
            return {k: v for k, v in doc.items() if k != key}
        return {**doc, data.draw(st.text(max_size=10)): data.draw(VALUES)}
    if isinstance(doc, list) and doc and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(doc) - 1))
        return [*doc[:i], mutate(doc[i], data), *doc[i + 1 :]]
    return data.draw(VALUES)


def test_generated_mlops_yaml(work: Path, pristine: Path) -> None:
    base = yaml.safe_load((pristine / "mlops.yaml").read_text())

    @SETTINGS
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        if data.draw(st.integers(0, 9)) == 0:
            text = data.draw(st.text(max_size=200))
        else:
            text = yaml.safe_dump(mutate(base, data), allow_unicode=True)
        (work / "mlops.yaml").write_text(text)
        command = data.draw(st.sampled_from([
            ["stages", "--json"], ["new-stage", "6.2", "alerting", "--dry-run"],
            ["update", "--all", "--dry-run"], ["check-branch", "feature/stage6-x", "--json"],
        ]))  # fmt: skip
        judged("mlops.yaml", work, command)
        (work / "mlops.yaml").write_bytes((pristine / "mlops.yaml").read_bytes())

    one()


def test_generated_records(work: Path, pristine: Path) -> None:
    path = ".mlops/generated.json"
    base = json.loads((pristine / path).read_text())

    @SETTINGS
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        doc = mutate(base, data)
        try:
            text = json.dumps(doc)
        except ValueError:
            text = str(doc)
        (work / path).write_text(text)
        command = data.draw(st.sampled_from([
            ["stages", "--json"], ["update", "--all", "--dry-run"],
            ["destroy-stage", "6.1", "--dry-run"], ["new-stage", "6.2", "alerting", "--dry-run"],
        ]))  # fmt: skip
        judged("record", work, command)
        (work / path).write_bytes((pristine / path).read_bytes())

    one()


def test_generated_journals(work: Path, pristine: Path) -> None:
    from mlopsctl.core.scaffold import journal

    entry = {"path": "docs/x.md", "tmp": ".f." + "0" * 32 + ".mlopsctl-tmp", "backup": None,
             "delete": False}  # fmt: skip

    @SETTINGS
    @given(data=st.data())
    def one(data: st.DataObject) -> None:
        shape = data.draw(st.sampled_from(["random", "unsigned", "signed"]))
        if shape == "random":
            doc: Any = data.draw(VALUES)
        else:
            entries = mutate([entry], data)
            body = json.dumps(entries, separators=(",", ":"), default=str)
            key = journal._key(create=True) if shape == "signed" else b"x" * 32
            assert key is not None
            doc = {"version": 1, "entries": body, "mac": journal._mac(key, body.encode())}
        staging = work / ".mlops/tmp"
        staging.mkdir(parents=True, exist_ok=True)
        (staging / ".gitignore").write_text("*\n")
        (staging / ("f." + "0" * 32)).write_text("staged\n")
        (staging / "journal.json").write_text(json.dumps(doc, default=str))
        code = judged("journal", work, ["new-stage", "6.2", "alerting"])
        if code == 0:
            assert not staging.exists()
        restore(work, pristine)

    one()


def test_each_kind_through_a_separate_process(work: Path) -> None:
    """The same contract as a real process sees it (one input of each kind)."""
    cases = [
        ("mlops.yaml", "project:\n  name: [1, 2]\n"),
        (".mlops/generated.json", '{"version": 99, "files": {}}'),
        (".mlops/tmp/journal.json", '{"entries": [{"path": "mlops.yaml", "delete": true}]}'),
    ]
    for rel, text in cases:
        target = work / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        saved = target.read_bytes() if target.exists() else None
        target.write_text(text)
        before = snapshot(work)
        out = subprocess.run([sys.executable, "-m", "mlopsctl", "new-stage", "6.2", "alerting"],
                             cwd=work, capture_output=True, text=True)  # fmt: skip
        assert out.returncode == 2, (rel, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr
        assert snapshot(work) == before
        if saved is None:
            target.unlink()
        else:
            target.write_bytes(saved)


# --- every feature new-stage accepts generates code that works -------------------------------

NASTY = st.sampled_from([
    "none", "true", "false", "settings", "any", "list", "type", "match", "case", "self", "cls",
    "print", "object", "exception", "value error", "main", "json", "os", "sys", "field",
    "dataclass", "iterable", "mapping", "path", "stage id", "feature", "env prefix", "annotations",
    "test", "pytest", "monitoring", "a", "x1", "class", "import", "async", "await", "lambda",
])  # fmt: skip
FEATURES = st.one_of(
    NASTY,
    st.lists(
        st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,8}", fullmatch=True), min_size=1, max_size=3
    ).map(" ".join),
)
TEMPLATES = {"stage": 3, "http-service": 3, "model-serving": 5, "monitoring": 6, "cicd-pipeline": 4}


def top_level_names(tree: ast.Module) -> list[str]:
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def test_every_accepted_feature_generates_code_that_compiles_without_clashes(
    pristine: Path,
) -> None:
    from mlopsctl.core import config
    from mlopsctl.core.scaffold import create
    from mlopsctl.errors import BadInput

    cfg = config.load_project(pristine)
    seen = {"accepted": 0, "refused": 0}

    @SETTINGS
    @given(feature=FEATURES, template=st.sampled_from(sorted(TEMPLATES)))
    def one(feature: str, template: str) -> None:
        try:
            change = create.stage_change(cfg, f"{TEMPLATES[template]}.7", feature, template, {})
        except BadInput:
            seen["refused"] += 1
            return
        seen["accepted"] += 1
        from mlopsctl.core.conventions.ids import normalise_feature

        camel = normalise_feature(feature).camel
        for f in change.files:
            if not f.path.endswith(".py"):
                continue
            tree = ast.parse(f.content, f.path)
            compile(tree, f.path, "exec")
            names = top_level_names(tree)
            if camel in names:  # the feature's class, and nothing else of that name
                assert names.count(camel) == 1, (f.path, camel, names)

    one()
    RAN["feature"] = seen["accepted"] + seen["refused"]
    assert seen["accepted"] and seen["refused"]


def test_the_reserved_names_cover_what_the_stage_module_and_its_tests_bind(
    pristine: Path,
) -> None:
    from mlopsctl.core import config
    from mlopsctl.core.conventions.ids import TEMPLATE_NAMES
    from mlopsctl.core.scaffold import create

    cfg = config.load_project(pristine)
    change = create.stage_change(cfg, "3.7", "probe-feature", "stage", {})
    bound: set[str] = set()
    for f in change.files:
        if f.path.endswith(".py"):
            names = top_level_names(ast.parse(f.content))
            # the names a feature's CamelCase class could take (not CONSTANTS)
            bound |= {n for n in names if n[:1].isupper() and not n.isupper()}
    assert bound - {"ProbeFeature"} <= TEMPLATE_NAMES


def test_accepted_features_pass_their_generated_tests(work: Path) -> None:
    """A few accepted hard names, rendered for real: the generated tests pass."""
    accepted = ["object store", "self check", "print queue", "type map", "json export"]
    for i, feature in enumerate(accepted, 1):
        code, _, err = run_main(work, "new-stage", f"3.{i}", feature)
        assert code == 0, (feature, err)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "tests/unit", "tests/integration", "-k", "test_3_"],
                         cwd=work, capture_output=True, text=True)  # fmt: skip
    assert out.returncode == 0, out.stdout[-3000:]


def test_zz_how_many_inputs_ran() -> None:
    """(Last in the file: the count of inputs, printed for the record.)"""
    sys.stdout.write(f"\nproperty inputs through the real entry point: {RAN}\n")
