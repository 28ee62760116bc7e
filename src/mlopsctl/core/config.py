"""The project config ``mlops.yaml``: defaults, discovery, validation, a parse cache.

The defaults reproduce the standard (``conventions.md``). The YAML parse is cached by content
(:mod:`mlopsctl.core.yamlcache`), so that the hook commands, which run on every commit, need
not import PyYAML; validation runs on every load.
"""

from __future__ import annotations

import math
import os
import re

from mlopsctl.errors import BadInput, Missing, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path
    from typing import Any

    Check = Callable[[Any, str, str], Any]

CONFIG_NAME = "mlops.yaml"

DEFAULT_STAGES: dict[int, tuple[str, str]] = {
    1: ("data-pipeline", "Data pipeline"),
    2: ("feature-store", "Feature store"),
    3: ("version-control", "Version control"),
    4: ("cicd-pipeline", "CI/CD pipeline"),
    5: ("model-serving", "Model serving"),
    6: ("monitoring", "Monitoring"),
    7: ("security", "Security"),
    8: ("scalability", "Scalability"),
    9: ("event-driven", "Event-driven"),
}
DEFAULT_COMMIT_TYPES = [
    "feat", "fix", "docs", "style", "refactor", "test", "chore",
    "perf", "build", "ci", "revert",
]  # fmt: skip
DEFAULT_BRANCH_KINDS = [
    "main", "develop", "feature", "ticket", "experiment", "bugfix", "hotfix", "docs", "release",
]  # fmt: skip

KEBAB = r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*"  # whole-string patterns, matched with fullmatch
IDENT = r"[a-z_][a-z0-9_]*"
KEBAB_OR_SNAKE = r"[A-Za-z][A-Za-z0-9_-]{0,62}"
# Names and titles are written into Python, TOML, YAML and Markdown: no quotes, backslashes,
# dollars, braces, comment or control characters.
SAFE_TEXT = r"\w[\w .,/()+&-]{0,79}"
TEXT_RULE = "letters, digits, spaces and . , / ( ) + & - (80 at most)"


class Stage:
    """One stage of the standard: its number, slug and title."""

    __slots__ = ("number", "slug", "title")

    def __init__(self, number: int, slug: str, title: str) -> None:
        self.number, self.slug, self.title = number, slug, title

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Stage) and (self.number, self.slug, self.title) == (
            other.number, other.slug, other.title,
        )  # fmt: skip

    def __hash__(self) -> int:
        return hash((self.number, self.slug, self.title))

    def __repr__(self) -> str:
        return f"Stage({self.number!r}, {self.slug!r}, {self.title!r})"

    @property
    def docs_dir(self) -> str:
        return f"docs/{self.number:02d}-{self.slug}"

    @property
    def module(self) -> str:
        return self.slug.replace("-", "_")


class Config:
    """The validated project config. ``root`` is None outside a project."""

    __slots__ = ("data", "root_dir")

    def __init__(self, root: Path | str | None, data: Mapping[str, Any]) -> None:
        self.root_dir = None if root is None else os.fspath(root)
        self.data = data

    @property
    def root(self) -> Path | None:
        if self.root_dir is None:
            return None
        from pathlib import Path

        return Path(self.root_dir)

    @property
    def name(self) -> str:
        return str(self.data["project"]["name"])

    @property
    def package(self) -> str:
        return str(self.data["project"]["package"])

    @property
    def stages(self) -> dict[int, Stage]:
        return {
            int(n): Stage(int(n), s["slug"], s["title"]) for n, s in self.data["stages"].items()
        }

    def section(self, key: str) -> Mapping[str, Any]:
        value: Mapping[str, Any] = self.data[key]
        return value

    def require_root(self) -> Path:
        if self.root_dir is None:
            raise Missing(
                f"No {CONFIG_NAME} found in this folder or any parent; "
                "run `mlopsctl init` to create a project."
            )
        from pathlib import Path

        return Path(self.root_dir)


def check_text(value: str, what: str) -> str:
    """``value`` if it is safe to write into generated files, else bad input naming it."""
    if not re.fullmatch(SAFE_TEXT, value):
        raise BadInput(f"{what} '{one_line(value)}' may hold only {TEXT_RULE}.")
    return value


def check_package(name: str) -> str:
    """``name`` if it can be the project's Python package, else bad input saying why."""
    import keyword
    import sys

    shown = one_line(name)
    if not re.fullmatch(IDENT, name):
        raise BadInput(f"Package '{shown}' is not a Python package name; use snake_case.")
    if len(name) > 64:
        raise BadInput(
            f"Package '{shown[:40]}...' is longer than 64 characters; use a shorter one."
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise BadInput(f"Package '{shown}' is a Python keyword; choose another --package.")
    if name in sys.stdlib_module_names:
        raise BadInput(
            f"Package '{shown}' would shadow the standard library module of that name; "
            "choose another --package."
        )
    return name


def default_data(name: str = "project", package: str = "project") -> dict[str, Any]:
    return {
        "version": 1,
        "project": {"name": name, "package": package},
        "stages": {str(n): {"slug": s, "title": t} for n, (s, t) in DEFAULT_STAGES.items()},
        "naming": {"ignore": []},
        "branches": {"kinds": list(DEFAULT_BRANCH_KINDS), "extra": []},
        "commits": {"types": list(DEFAULT_COMMIT_TYPES), "scope_pattern": None},
        "tests": {"python": None, "coverage_gate": 80, "package": None, "fork": True},
        "environments": {},
        "notify": {"webhook": None},
        "ml_test_score": {"manual": {}, "exempt": {}},
    }


def find_root_dir(start: Path | str | None = None) -> str | None:
    """The nearest folder upwards from ``start`` that holds ``mlops.yaml``."""
    here = os.path.abspath(os.fspath(start) if start is not None else os.getcwd())
    while True:
        if os.path.isfile(os.path.join(here, CONFIG_NAME)):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def find_root(start: Path | str | None = None) -> Path | None:
    found = find_root_dir(start)
    if found is None:
        return None
    from pathlib import Path

    return Path(found)


def load(start: Path | str | None = None) -> Config:
    """Load the config of the project around ``start``; the defaults outside a project."""
    root = find_root_dir(start)
    if root is None:
        return Config(None, default_data())
    return Config(root, _load_cached(root))


def load_project(start: Path | str | None = None) -> Config:
    """Like :func:`load`, but a missing project is an error (exit 4)."""
    config = load(start)
    config.require_root()
    return config


def _load_cached(root: str) -> dict[str, Any]:
    from mlopsctl.core import yamlcache

    raw = yamlcache.load(os.path.join(root, CONFIG_NAME))
    return validate({} if raw is None else raw, CONFIG_NAME)


# --- validation -------------------------------------------------------------------------


def _fail(filename: str, key: str, allowed: str) -> BadInput:
    return BadInput(f"{filename}: key '{key}' {allowed}.")


def _str(pattern: str | None = None, what: str = "") -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        if not isinstance(value, str) or not value:
            raise _fail(fn, key, "must be a non-empty string")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise _fail(fn, key, f"must be {what}, got '{one_line(value)}'")
        return value

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        return None if value is None else inner(value, key, fn)

    return check


def _shown(value: Any) -> str:
    text = one_line(repr(value))
    return text if len(text) <= 40 else f"{text[:37]}..."


def _int(low: int, high: int) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _fail(
                fn, key, f"must be a whole number from {low} to {high}, got {_shown(value)}"
            )
        return value

    return check


def _package(value: Any, key: str, fn: str) -> Any:
    _str(IDENT, "a Python package name (snake_case)")(value, key, fn)
    try:
        return check_package(value)
    except BadInput as exc:
        raise _fail(fn, key, f"must be a usable package name ({exc})") from None


def _bool(value: Any, key: str, fn: str) -> Any:
    if not isinstance(value, bool):
        raise _fail(fn, key, f"must be true or false, got {_shown(value)}")
    return value


def _regex(value: Any, key: str, fn: str) -> Any:
    _str()(value, key, fn)
    from mlopsctl.core.conventions.patterns import compiles

    problem = compiles(value)
    if problem is not None:
        raise _fail(fn, key, f"must be a valid regular expression ({problem})")
    return value


def _list(item: Check, choices: list[str] | None = None) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        if not isinstance(value, list):
            raise _fail(fn, key, "must be a list")
        out = [item(v, f"{key}[{i}]", fn) for i, v in enumerate(value)]
        for i, v in enumerate(out):
            if choices is not None and v not in choices:
                raise _fail(fn, f"{key}[{i}]", f"must be one of {', '.join(choices)}, got '{v}'")
        return out

    return check


def _join(key: str, sub: object) -> str:
    return f"{key}.{sub}" if key else str(sub)


def _section(fields: dict[str, Check]) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        if not isinstance(value, dict):
            raise _fail(fn, key, "must be a mapping")
        unknown = sorted(str(k) for k in value if k not in fields)
        if unknown:
            raise _fail(
                fn, _join(key, unknown[0]), f"is unknown; allowed keys: {', '.join(fields)}"
            )
        return {k: fields[k](value[k], _join(key, k), fn) for k in value}

    return check


def _stages(value: Any, key: str, fn: str) -> Any:
    if not isinstance(value, dict) or not value:
        raise _fail(fn, key, "must be a non-empty mapping of stage numbers to {slug, title}")
    out: dict[str, Any] = {}
    stage_fields = _section(
        {"slug": _str(KEBAB, "a kebab-case slug"), "title": _str(SAFE_TEXT, TEXT_RULE)}
    )
    for n, spec in value.items():
        if not (isinstance(n, int) or (isinstance(n, str) and n.isdigit())) or not (
            1 <= int(n) <= 99
        ):
            raise _fail(fn, f"{key}.{n}", "must be a stage number from 1 to 99")
        stage = stage_fields(spec, f"{key}.{n}", fn)
        if "slug" not in stage:
            raise _fail(fn, f"{key}.{n}.slug", "is required")
        stage.setdefault("title", stage["slug"].replace("-", " ").capitalize())
        out[str(int(n))] = stage
    return dict(sorted(out.items(), key=lambda kv: int(kv[0])))


def _choice(choices: tuple[str, ...]) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        if value not in choices:
            raise _fail(fn, key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    return check


def _number(low: float, high: float) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not ok or not low <= value <= high:  # also refuses nan and inf
            raise _fail(fn, key, f"must be a number from {low:g} to {high:g}, got {value!r}")
        return value

    return check


def _selector(value: Any, key: str, fn: str) -> Any:
    _str()(value, key, fn)
    from mlopsctl.core.promql import parse

    parse(value, key)
    return value


_BOUND = _number(-1e300, 1e300)


def _metric(value: Any, key: str, fn: str) -> Any:
    if not isinstance(value, dict):
        raise _fail(fn, key, "must be a mapping with kind (gauge or ratio) and min and/or max")
    kind = _choice(("gauge", "ratio"))(value.get("kind"), f"{key}.kind", fn)
    fields = {"kind": _str(), "min": _BOUND, "max": _BOUND, "description": _str()}
    needed = ("selector",) if kind == "gauge" else ("numerator", "denominator")
    fields.update({name: _selector for name in needed})
    checked = _section(fields)(value, key, fn)
    for name in needed:
        if name not in checked:
            raise _fail(fn, f"{key}.{name}", f"is required for a {kind}")
    if "min" not in checked and "max" not in checked:
        raise _fail(fn, key, "needs a bound: min, max or both")
    if checked.get("min", -math.inf) > checked.get("max", math.inf):
        raise _fail(fn, f"{key}.min", "must not be above max")
    return checked


def _metrics(value: Any, key: str, fn: str) -> Any:
    if not isinstance(value, dict) or not value:
        raise _fail(fn, key, "must be a non-empty mapping of metric names to metrics")
    if len(value) > 50:
        raise _fail(fn, key, "may hold at most 50 metrics")
    for name in value:
        _str(KEBAB_OR_SNAKE, "a metric name of letters, digits, '-' and '_'")(
            name, f"{key}.{name}", fn
        )
    return {str(n): _metric(spec, f"{key}.{n}", fn) for n, spec in value.items()}


def _url(value: Any, key: str, fn: str) -> Any:
    _str()(value, key, fn)
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value):
        raise _fail(
            fn, key, f"must be an http(s) URL such as http://prometheus:9090, got {_shown(value)}"
        )
    return value.rstrip("/")


def _path(value: Any, key: str, fn: str) -> Any:
    _str()(value, key, fn)
    if not value.startswith("/") or len(value) > 200 or not value.isprintable():
        raise _fail(fn, key, f"must be a URL path starting with /, got {_shown(value)}")
    return value


_ANALYSIS_FIELDS = _section(
    {
        "interval": _number(0.1, 3600),
        "delay": _number(0, 3600),
        "samples": _int(1, 1000),
        "failure_limit": _int(0, 1000),
        "replicas": _int(1, 100),
        "scrape": _section(
            {
                "port": _int(1, 65535),
                "path": _path,
                "services": _list(_str(KEBAB_OR_SNAKE, "a service name")),
            }
        ),
        "prometheus": _url,
        "prometheus_label": _str(r"[a-zA-Z_][a-zA-Z0-9_]*", "a Prometheus label name"),
        "metrics": _metrics,
    }
)


def _analysis(value: Any, key: str, fn: str) -> Any:
    checked = _ANALYSIS_FIELDS(value, key, fn)
    if "metrics" not in checked:
        raise _fail(fn, f"{key}.metrics", "is required: the metrics that judge the canary")
    if "scrape" in checked and "prometheus" in checked:
        raise _fail(fn, key, "takes scrape or prometheus, not both")
    if "scrape" not in checked and "prometheus" not in checked:
        raise _fail(fn, key, "needs a source: scrape: {port, path} or prometheus: URL")
    if "scrape" in checked and "port" not in checked["scrape"]:
        raise _fail(fn, f"{key}.scrape.port", "is required")
    return checked


_ENVIRONMENT = _section(
    {
        "compose_file": _str(),
        "health_timeout": _int(1, 3600),
        "health_url": _optional(_str()),
        "confirm": _bool,
        "drain": _number(0, 3600),
        "bake": _number(0, 3600),
        "retain": _int(1, 100),
        "engine": _choice(("compose", "swarm")),
        "strategy": _choice(("blue-green", "canary")),
        "analysis": _analysis,
    }
)


def _environments(value: Any, key: str, fn: str) -> Any:
    if value is None:  # `environments:` with only comments under it
        return {}
    if not isinstance(value, dict):
        raise _fail(fn, key, "must be a mapping of environment names")
    out = {}
    for name, spec in value.items():
        _str(KEBAB, "a lower-case environment name")(name, f"{key}.{name}", fn)
        out[name] = _ENVIRONMENT(spec or {}, f"{key}.{name}", fn)
    return out


ML_TEST_ID = r"(data|model|infra|monitor)-[1-7]"


def _ml_ids(item: Check) -> Check:
    def check(value: Any, key: str, fn: str) -> Any:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _fail(fn, key, "must be a mapping of ML Test Score ids (data-1 ... monitor-7)")
        out = {}
        for tid, spec in value.items():
            if not isinstance(tid, str) or not re.fullmatch(ML_TEST_ID, tid):
                raise _fail(
                    fn, f"{key}.{tid}", "is not an ML Test Score id; use data-1..7, model-1..7, "
                    "infra-1..7 or monitor-1..7"
                )  # fmt: skip
            out[tid] = item(spec, f"{key}.{tid}", fn)
        return out

    return check


def _document(value: Any, key: str, fn: str) -> Any:
    _str()(value, key, fn)
    parts = value.split("/")
    if value.startswith("/") or "\\" in value or any(p in ("", ".", "..") for p in parts):
        raise _fail(fn, key, f"must be a path inside the project, got {_shown(value)}")
    return value


def _date(value: Any, key: str, fn: str) -> Any:
    import datetime

    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise _fail(fn, key, f"must be a date such as 2027-03-31, got {_shown(value)}")


def _exemption(value: Any, key: str, fn: str) -> Any:
    checked = _section({"reason": _str(), "until": _date})(value, key, fn)
    for needed in ("reason", "until"):
        if needed not in checked:
            raise _fail(fn, f"{key}.{needed}", "is required: an exemption names why and until when")
    return checked


SCHEMA: dict[str, Check] = {
    "version": _int(1, 1),
    "project": _section({"name": _str(), "package": _package}),
    "stages": _stages,
    "naming": _section({"ignore": _list(_str())}),
    "branches": _section({"kinds": _list(_str(), DEFAULT_BRANCH_KINDS), "extra": _list(_regex)}),
    "commits": _section(
        {"types": _list(_str(IDENT, "a lower-case word")), "scope_pattern": _optional(_regex)}
    ),
    "tests": _section(
        {
            "python": _optional(_str()),
            "coverage_gate": _int(0, 100),
            "package": _optional(_package),
            "fork": _bool,
        }
    ),
    "environments": _environments,
    "notify": _section({"webhook": _optional(_str())}),
    "ml_test_score": _section({"manual": _ml_ids(_document), "exempt": _ml_ids(_exemption)}),
}


def validate(raw: Any, filename: str = CONFIG_NAME) -> dict[str, Any]:
    """Validate a parsed config and merge it over the defaults."""
    if not isinstance(raw, dict):
        raise BadInput(f"{filename} must hold a mapping of keys at the top level.")
    checked = _section(SCHEMA)(raw, "", filename)
    data = default_data()
    for key, value in checked.items():
        if isinstance(value, dict) and key not in ("stages", "environments"):
            data[key] = {**data[key], **value}
        else:
            data[key] = value
    return data
