"""Template discovery and manifests.

A template is a folder ``<name>/`` holding ``template.yaml`` (description, kind, parameters,
per-file options) and ``files/`` (the tree to render: names and ``*.j2`` contents are Jinja;
other files are copied as they are). A project's ``templates/<name>/`` is searched before the
packaged one, file by file, so a project can override a single file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlopsctl.core.config import SAFE_TEXT
from mlopsctl.errors import BadInput, one_line

MANIFEST = "template.yaml"
_TYPES = {"str": str, "int": int, "float": float, "bool": bool}


def packaged_dir() -> Path:
    """Templates inside the installed package, else the source checkout's ``templates/``."""
    import mlopsctl

    here = Path(mlopsctl.__file__).resolve().parent  # src/mlopsctl, or site-packages/mlopsctl
    inside = here / "templates"
    if inside.is_dir():
        return inside
    return here.parent.parent / "templates"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str
    default: Any
    help: str = ""
    choices: tuple[str, ...] = ()
    min: float | None = None
    max: float | None = None
    pattern: str | None = None  # for str: what a whole value must match (else SAFE_TEXT)

    def coerce(self, text: str) -> Any:
        """Turn a ``--set`` value into this parameter's type."""
        if self.type == "bool":
            word = text.strip().lower()
            if word in ("1", "true", "yes", "on"):
                return True
            if word in ("0", "false", "no", "off"):
                return False
            raise BadInput(f"--set {self.name}: expected true or false.")
        from mlopsctl.core.secrets import shown as masked

        shown = one_line(masked(self.name, text) or "")
        if len(shown) > 60:
            shown = f"{shown[:57]}..."
        if self.type in ("int", "float"):
            kind = "a whole number" if self.type == "int" else "a number"
            try:
                if len(text) > MAX_DIGITS:
                    raise ValueError(text)
                value: float = int(text) if self.type == "int" else float(text)
            except ValueError:
                raise BadInput(
                    f"--set {self.name}={shown}: expected {kind} of at most {MAX_DIGITS} "
                    "characters."
                ) from None
            low = -math.inf if self.min is None else self.min
            high = math.inf if self.max is None else self.max
            if not (math.isfinite(value) and low <= value <= high):
                span = f" from {low:g} to {high:g}"
                raise BadInput(f"--set {self.name}={shown}: expected {kind}{span}.")
            return value
        if self.choices and text not in self.choices:
            raise BadInput(f"--set {self.name}={shown}: expected one of {', '.join(self.choices)}.")
        if len(text) > MAX_TEXT:
            raise BadInput(f"--set {self.name}={shown}: longer than {MAX_TEXT} characters.")
        pattern = self.pattern or SAFE_TEXT
        if not _fullmatch(pattern, text, self.name):
            raise BadInput(
                f"--set {self.name}={shown}: must match {pattern} (it is written into code and "
                "configuration files)."
            )
        return text


MAX_DIGITS = 32
MAX_TEXT = 1000
PATTERN_SECONDS = 0.25  # a template's pattern: a backtracking one (``(a+)+$``) is stopped


def _fullmatch(pattern: str, text: str, name: str) -> bool:
    """Whether ``text`` matches the whole ``pattern``, within a time bound (a template's
    pattern comes with the repository, so it may be one that backtracks for ever)."""
    import regex

    try:
        return regex.fullmatch(pattern, text, timeout=PATTERN_SECONDS) is not None
    except TimeoutError:
        raise BadInput(
            f"--set {name}: the template's pattern {one_line(pattern)[:60]} took over "
            f"{PATTERN_SECONDS:g} s to match; fix the pattern in template.yaml (it backtracks)."
        ) from None
    except regex.error as exc:
        raise BadInput(
            f"The template's pattern for {name}, {one_line(pattern)[:60]}, is not a regular "
            f"expression ({exc}); fix template.yaml."
        ) from None


EXISTING = ("conflict", "keep", "append", "blocks")


@dataclass(frozen=True)
class FileOptions:
    when: str | None = None  # a Jinja expression; the file is rendered only when true
    # what an existing file that differs means: "conflict", "keep" (leave it as it is),
    # "append" (add the rendered lines it lacks, e.g. requirements) or "blocks" (add the
    # rendered block below the file's mlopsctl:blocks line; see core/scaffold/shared.py)
    existing: str = "conflict"
    foreach: str | None = None  # a Jinja expression giving items bound as ``item``
    # rendered after the other files, with ``generated`` (what the template created) and
    # ``settings`` (the keys it adds to .env.template) in its context: docs that stay true
    describes: bool = False


@dataclass(frozen=True)
class Template:
    name: str
    kind: str
    description: str
    roots: tuple[Path, ...]  # search order: project first, then packaged
    parameters: dict[str, Parameter] = field(default_factory=dict)
    files: dict[str, FileOptions] = field(default_factory=dict)
    stages: tuple[int, ...] = ()  # the stages the template is made for; empty: any

    def sources(self) -> list[str]:
        """Relative paths under ``files/`` across all roots, the first root winning.

        A template holds plain files and folders: a symbolic link in it (which could carry an
        outside file's content into the project and its store) is bad input.
        """
        import os

        seen: dict[str, None] = {}
        for root in self.roots:
            base = root / "files"
            if not base.is_dir():
                continue
            found = []
            for folder, dirs, names in os.walk(base):
                dirs[:] = [d for d in dirs if d != "__pycache__"]
                for name in [*dirs, *names]:
                    full = os.path.join(folder, name)
                    if os.path.islink(full):
                        raise BadInput(
                            f"Template '{self.name}' holds a symbolic link, "
                            f"{one_line(os.path.relpath(full, root))}; templates hold plain "
                            "files only: replace the link with the file it names."
                        )
                found += [Path(folder, n).relative_to(base).as_posix() for n in names]
            for rel in sorted(found):
                seen.setdefault(rel, None)
        return list(seen)

    def source_path(self, rel: str) -> Path:
        for root in self.roots:
            candidate = root / "files" / rel
            if candidate.is_file():
                return candidate
        raise FileNotFoundError(rel)

    def resolve_params(self, sets: dict[str, str]) -> dict[str, Any]:
        unknown = sorted(set(sets) - set(self.parameters))
        if unknown:
            allowed = ", ".join(self.parameters) or "none"
            raise BadInput(
                f"--set {unknown[0]}: template '{self.name}' has no such parameter "
                f"(parameters: {allowed})."
            )
        values = {n: p.default for n, p in self.parameters.items()}
        values.update({k: self.parameters[k].coerce(v) for k, v in sets.items()})
        return values


def _bound(value: Any, path: Path, name: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadInput(f"{path}: parameter '{name}' has a min or max that is not a number.")
    return float(value)


def _contained(project_root: Path, name: str) -> None:
    """The project's templates/ and templates/<name>/ (with its manifest and files/) are
    real folders inside the project, not links out of it."""
    import os

    for rel in ("templates", f"templates/{name}", f"templates/{name}/{MANIFEST}",
                f"templates/{name}/files"):  # fmt: skip
        if os.path.islink(project_root / rel):
            raise BadInput(
                f"{rel} in the project is a symbolic link; mlopsctl follows no link out of the "
                "project: replace it with the folder or file it names."
            )


def search_roots(project_root: Path | None) -> list[Path]:
    roots = [project_root / "templates"] if project_root is not None else []
    return [*roots, packaged_dir()]


def available(project_root: Path | None) -> list[Template]:
    names: dict[str, None] = {}
    for base in search_roots(project_root):
        if base.is_dir():
            for child in sorted(base.iterdir()):
                if (child / MANIFEST).is_file() or (child / "files").is_dir():
                    names.setdefault(child.name, None)
    return [find(name, project_root) for name in names]


def find(name: str, project_root: Path | None) -> Template:
    return _find(name, project_root, ())


NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def check_name(name: str) -> str:
    """A template is named, never given as a path: ``--template ../../other`` would render,
    and record, a folder outside the project that every clone then follows."""
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise BadInput(
            f"Template name '{one_line(str(name))[:80]}' is not a template name (lower-case "
            "letters, digits, '-' and '_'); put the template in the project's templates/ "
            "folder and name it (see `mlopsctl templates list`)."
        )
    return name


def _find(name: str, project_root: Path | None, seen: tuple[str, ...]) -> Template:
    check_name(name)
    if project_root is not None:
        _contained(project_root, name)
    roots = tuple(b / name for b in search_roots(project_root) if (b / name).is_dir())
    manifests = [r / MANIFEST for r in roots if (r / MANIFEST).is_file()]
    if not manifests:
        known = ", ".join(
            sorted({c.name for b in search_roots(project_root) if b.is_dir() for c in b.iterdir()})
        )
        raise BadInput(f"Unknown template '{name}'; choose one of: {known}.")
    return _read_manifest(name, roots, manifests[0], project_root, seen)


def _read_manifest(
    name: str, roots: tuple[Path, ...], path: Path, project_root: Path | None = None,
    seen: tuple[str, ...] = (),
) -> Template:  # fmt: skip
    from mlopsctl.core import yamlcache

    raw = yamlcache.load(path) or {}
    if not isinstance(raw, dict):
        raise BadInput(f"{path} must hold a mapping; fix the template manifest.")
    base: Template | None = None
    if raw.get("extends"):
        parent = str(raw["extends"])
        if parent in (*seen, name):
            raise BadInput(f"{path}: template '{name}' extends itself through '{parent}'.")
        base = _find(parent, project_root, (*seen, name))
    params: dict[str, Parameter] = dict(base.parameters) if base else {}
    for pname, spec in (raw.get("parameters") or {}).items():
        spec = spec or {}
        ptype = spec.get("type", "str")
        if ptype not in _TYPES:
            raise BadInput(
                f"{path}: parameter '{pname}' has type '{ptype}'; use str, int, float or bool."
            )
        params[pname] = Parameter(
            pname,
            ptype,
            spec.get("default"),
            spec.get("help", ""),
            tuple(spec.get("choices", ())),
            _bound(spec.get("min"), path, pname),
            _bound(spec.get("max"), path, pname),
            spec.get("pattern"),
        )
    files = dict(base.files) if base else {}
    for src, opts in (raw.get("files") or {}).items():
        existing = opts.get("existing", "conflict")
        if existing not in EXISTING:
            raise BadInput(
                f"{path}: file '{src}' has existing: {existing}; use {', '.join(EXISTING)}."
            )
        files[src] = FileOptions(
            when=opts.get("when"),
            existing=existing,
            foreach=opts.get("foreach"),
            describes=bool(opts.get("describes", False)),
        )
    return Template(
        name=name,
        kind=str(raw.get("kind", base.kind if base else "stage")),
        description=str(raw.get("description", "")),
        roots=roots + (base.roots if base else ()),
        parameters=params,
        files=files,
        stages=tuple(int(n) for n in raw.get("stages", ())),
    )
