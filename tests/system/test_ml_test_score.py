"""The ML Test Score from evidence: a project generated with the training, cicd-pipeline,
model-serving and monitoring templates, its tagged tests run by ``mlopsctl test``, scored by
``mlopsctl doctor``; manual items, exemptions, bad tags, and the HTML page in a real browser."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from mlopsctl.core import config
from mlopsctl.core.scaffold import create
from tests.conftest import git
from tests.helpers.machine import need
from tests.system.conftest import mlopsctl

TEMPLATES = [("1.1", "churn", "training"), ("4.1", "ci", "cicd-pipeline"),
             ("5.1", "serving", "model-serving"), ("6.1", "watch", "monitoring")]  # fmt: skip


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project, after one `mlopsctl test` run (shared: tests that change it copy it)."""
    root = tmp_path_factory.mktemp("ml") / "demo"
    create.plan_init(root, name="demo").apply()
    create.init_git(root)
    cfg = config.load(root)
    for sub, feature, template in TEMPLATES:
        create.plan_new_stage(cfg, sub, feature, template).apply()
    git(root, "add", "-A")
    git(root, "commit", "-qm", "feat: every template", "--no-verify")
    out = mlopsctl(root, "test", "--json")
    assert out.returncode == 0, out.stdout + out.stderr
    ran = json.loads(out.stdout)["ml_tests"]
    assert ran and all(t["outcome"] == "passed" for t in ran)
    return root


def copy(project: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(project, target, symlinks=True)
    return target


def score(project: Path, *args: str) -> tuple[int, dict]:
    out = mlopsctl(project, "doctor", "--json", *args)
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads(out.stdout)
    return out.returncode, doc


def items(doc: dict) -> dict[str, dict]:
    return {i["id"]: i for s in doc["ml_test_score"]["sections"] for i in s["items"]}


def sums(doc: dict) -> dict[str, float]:
    return {s["key"]: s["points"] for s in doc["ml_test_score"]["sections"]}


def test_tagged_tests_score_automated_items_in_every_section(scored: Path) -> None:
    _, doc = score(scored)
    ml = doc["ml_test_score"]
    automated = {i for i, x in items(doc).items() if x["status"] == "automated"}
    assert automated == {
        "data-1", "data-2", "data-5", "data-7", "model-3", "model-5", "model-6",
        "infra-1", "infra-2", "infra-3", "infra-4", "infra-7",
        "monitor-1", "monitor-2", "monitor-3", "monitor-5", "monitor-6", "monitor-7",
    }  # fmt: skip
    assert sums(doc) == {"data": 4, "model": 3, "infra": 5, "monitor": 6}
    assert ml["score"] == min(sums(doc).values()) == 3
    assert ml["band"].startswith("Reasonably tested")
    evidence = items(doc)["infra-1"]["evidence"]
    assert (
        "tests/integration/test_1_1_churn.py::test_training_is_reproducible passed on" in evidence
    )
    assert items(doc)["model-1"]["status"] == "missing" and items(doc)["model-1"]["points"] == 0
    assert "ml_test_score.manual.model-1" in items(doc)["model-1"]["evidence"]
    human = mlopsctl(scored, "doctor")
    assert "ML Test Score: 3 (the lowest of data 4, model 3, infrastructure 5, monitoring 6)" in (
        human.stdout
    )


def test_a_broken_tagged_test_turns_its_item_to_failed(scored: Path, tmp_path: Path) -> None:
    project = copy(scored, tmp_path)
    test = project / "tests/integration/test_1_1_churn.py"
    test.write_text(test.read_text().replace("< 0.9 * baseline_loss", "> 0.9 * baseline_loss"))
    assert mlopsctl(project, "test", "integration").returncode == 1
    code, doc = score(project, "--ml-min", "3")
    item = items(doc)["model-5"]
    assert item["status"] == "failed" and item["points"] == 0
    assert item["evidence"].startswith(
        "tests/integration/test_1_1_churn.py::test_a_simpler_model_is_not_better failed on"
    )
    assert sums(doc)["model"] == 2 and doc["ml_test_score"]["score"] == 2
    assert code == 1  # under --ml-min 3
    test.write_text(test.read_text().replace("> 0.9 * baseline_loss", "< 0.9 * baseline_loss"))
    assert mlopsctl(project, "test", "integration").returncode == 0
    assert items(score(project)[1])["model-5"]["status"] == "automated"


def test_manual_items_and_exemptions_count_while_they_hold(scored: Path, tmp_path: Path) -> None:
    project = copy(scored, tmp_path)
    spec = project / "docs/02-model-review.md"
    spec.write_text("# Model review\n\nThe churn model's spec is reviewed in pull requests.\n")
    settings = project / "mlops.yaml"
    settings.write_text(settings.read_text() + (
        "ml_test_score:\n"
        "  manual:\n    model-1: docs/02-model-review.md\n    model-2: docs/absent.md\n"
        "  exempt:\n"
        "    model-4: {reason: the model is retrained nightly, until: 2099-12-31}\n"
        "    model-7: {reason: no protected attributes yet, until: 2020-01-31}\n"
    ))  # fmt: skip
    code, doc = score(project, "--ml-min", "4")
    found = items(doc)
    assert (found["model-1"]["status"], found["model-1"]["points"]) == ("manual", 0.5)
    assert found["model-1"]["evidence"] == "documented in docs/02-model-review.md"
    assert (found["model-2"]["status"], found["model-2"]["points"]) == ("missing", 0)
    assert "docs/absent.md, which does not exist" in found["model-2"]["evidence"]
    assert (found["model-4"]["status"], found["model-4"]["points"]) == ("exempt", 1)
    assert "until 2099-12-31: the model is retrained nightly" in found["model-4"]["evidence"]
    assert (
        found["model-7"]["points"] == 0 and "expired on 2020-01-31" in found["model-7"]["evidence"]
    )
    assert sums(doc) == {"data": 4, "model": 4.5, "infra": 5, "monitor": 6}
    assert doc["ml_test_score"]["score"] == 4 and code == 0
    assert doc["ml_test_score"]["band"].startswith("Strong levels of automated testing")
    assert mlopsctl(project, "doctor", "--ml-min", "4.5").returncode == 1


@pytest.mark.parametrize(
    ("entry", "key"),
    [
        ("  exempt:\n    data-3: {reason: later}\n", "ml_test_score.exempt.data-3.until"),
        ("  exempt:\n    data-3: {until: 2030-01-01}\n", "ml_test_score.exempt.data-3.reason"),
        ("  exempt:\n    data-9: {reason: x, until: 2030-01-01}\n", "ml_test_score.exempt.data-9"),
        ("  exempt:\n    data-3: {reason: x, until: someday}\n", "ml_test_score.exempt.data-3.until"),
        ("  manual:\n    model-1: ../outside.md\n", "ml_test_score.manual.model-1"),
    ],
)  # fmt: skip
def test_bad_settings_are_exit_2(scored: Path, tmp_path: Path, entry: str, key: str) -> None:
    project = copy(scored, tmp_path)
    settings = project / "mlops.yaml"
    settings.write_text(settings.read_text() + "ml_test_score:\n" + entry)
    out = mlopsctl(project, "doctor")
    assert out.returncode == 2, out.stdout
    assert key in out.stderr and len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("code", "says"),
    [
        ('@pytest.mark.ml_test("data-8")\ndef test_x() -> None:\n    pass\n',
         "ml_test id 'data-8' does not exist"),
        ('@pytest.mark.ml_test("data-3")\ndef helper() -> None:\n    pass\n',
         "helper is tagged ml_test but is not a test"),
        ("ID = 'data-3'\n\n\n@pytest.mark.ml_test(ID)\ndef test_y() -> None:\n    pass\n",
         "needs the id as a string literal"),
    ],
)  # fmt: skip
def test_bad_tags_stop_the_run_and_are_a_doctor_finding(
    scored: Path, tmp_path: Path, code: str, says: str
) -> None:
    project = copy(scored, tmp_path)
    (project / "tests/unit/test_1_1_tags.py").write_text("import pytest\n\n\n" + code)
    record = (project / ".mlops/state/ml-tests.json").read_bytes()
    out = mlopsctl(project, "test", "unit")
    assert out.returncode == 2, out.stdout
    assert says in out.stderr and "Nothing ran" in out.stderr
    assert (project / ".mlops/state/ml-tests.json").read_bytes() == record
    _, doc = score(project)
    check = next(c for c in doc["checks"] if c["id"] == "ml-tags")
    assert check["status"] == "fail" and says in check["reason"]


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def test_the_html_page_renders_in_a_browser(scored: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    need("chromium", None if browser else "chromium is missing: apt-get install chromium")
    assert browser is not None
    page = tmp_path / "readiness.html"
    out = mlopsctl(scored, "doctor", "--html", str(page))
    assert out.returncode == 0, out.stderr
    text = page.read_text()
    assert "<script" not in text.lower()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing external
    assert "<svg" in text and "<style>" in text
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             f"--user-data-dir={tmp_path / 'profile'}"]  # fmt: skip
    dom = subprocess.run([browser, *flags, "--dump-dom", page.as_uri()], capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert re.search(r'<b id="ml-test-score">3</b>', dom.stdout)
    assert "Reasonably tested" in dom.stdout and "infra-1" in dom.stdout
    assert re.search(r'<b id="readiness">\d+%</b>', dom.stdout)
    shot = tmp_path / "readiness.png"
    done = subprocess.run([browser, *flags, "--hide-scrollbars", "--window-size=1200,1600",
                           f"--screenshot={shot}", page.as_uri()], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    assert png_size(shot) == (1200, 1600)
    assert shot.stat().st_size > 20_000  # a page with text and a chart, not a blank one


def test_a_record_that_arrives_with_the_repository_counts_nothing(
    scored: Path, tmp_path: Path
) -> None:
    """A pull request that commits a record of passing outcomes (say, for tests that fail)
    raises nothing: outcomes come from runs on this machine or in CI."""
    project = copy(scored, tmp_path)
    git(project, "add", "-f", ".mlops/state/ml-tests.json")
    git(project, "commit", "-qm", "chore: a record", "--no-verify")
    _, doc = score(project)
    assert doc["ml_test_score"]["score"] == 0
    assert {i["status"] for i in items(doc).values()} == {"missing"}
    check = next(c for c in doc["checks"] if c["id"] == "ml-tags")
    assert check["status"] == "fail" and "is tracked by git" in check["reason"]
