"""`.env` files: layering, masking of secrets, and checks against `.env.template`.

Layers, later ones winning: ``.env``, then ``.env.<NAME>``; variables already set in the real
environment win over both.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from mlopsctl.core import secrets
from mlopsctl.errors import BadInput

ENV_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass
class Variable:
    key: str
    value: str | None
    source: str  # ".env", ".env.testing" or "environment"

    @property
    def secret(self) -> bool:
        """The key names a secret, or the value carries one (a password in a URL, a token)."""
        return secrets.is_secret_key(self.key) or secrets.value_has_secret(self.value or "")

    def shown(self) -> str | None:
        return secrets.shown(self.key, self.value)


@dataclass
class Layered:
    files: list[str]
    variables: dict[str, Variable] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        return {k: v.value or "" for k, v in self.variables.items()}

    def as_dict(self, reveal: bool = False) -> dict[str, object]:
        return {
            "files": self.files,
            "variables": [
                {
                    "key": v.key,
                    "value": v.value if reveal else v.shown(),
                    "source": v.source,
                    "secret": v.secret,
                }
                for v in self.variables.values()
            ],
        }


def layer_files(root: Path, name: str | None, required: bool) -> list[Path]:
    files = [root / ".env"]
    if name is not None:
        if not ENV_NAME.match(name):
            raise BadInput(f"--env '{name}' is not an environment name; e.g. --env testing.")
        overlay = root / f".env.{name}"
        if required and not overlay.is_file():
            raise BadInput(f"--env {name}: {overlay.name} does not exist; create it or drop --env.")
        files.append(overlay)
    return [f for f in files if f.is_file()]


MAX_ENV_FILE = 4 * 2**20


def read(path: Path) -> dict[str, str | None]:
    from dotenv import dotenv_values

    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_ENV_FILE:
        raise BadInput(
            f"{path.name} is larger than {MAX_ENV_FILE // 2**20} MiB; an .env file holds "
            "KEY=value lines: check what it holds."
        )
    return dict(dotenv_values(path))


def parse(text: str) -> dict[str, str | None]:
    """The keys and values of ``.env``-format text, read as :func:`read` reads a file."""
    import io

    from dotenv import dotenv_values

    return dict(dotenv_values(stream=io.StringIO(text)))


def load(
    root: Path, name: str | None = None, required: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Layered:  # fmt: skip
    """The merged variables of the layers; keys set in ``environ`` take its value."""
    env = os.environ if environ is None else environ
    files = layer_files(root, name, required)
    merged = Layered([f.name for f in files])
    for path in files:
        for key, value in read(path).items():
            merged.variables[key] = Variable(key, value, path.name)
    for key in list(merged.variables):
        if key in env:
            merged.variables[key] = Variable(key, env[key], "environment")
    return merged


@dataclass
class Report:
    missing: list[str]
    extra: list[str]
    tracked: list[str]
    template: bool
    leaks: list[str] = field(default_factory=list)  # path:line of secret-shaped values
    files: list[str] = field(default_factory=list)  # the .env layers found

    @property
    def ok(self) -> bool:
        return self.template and not self.missing and not self.tracked and not self.leaks

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "template": self.template,
            "missing": self.missing,
            "not_in_template": self.extra,
            "tracked": self.tracked,
            "secrets": self.leaks,
            "files": self.files,
        }


def check(
    root: Path, name: str | None = None, environ: Mapping[str, str] | None = None,
    ci: bool = False,
) -> Report:  # fmt: skip
    """Keys of the template that no layer sets, keys the template lacks, tracked env files.

    ``ci``: what a runner without secrets can check instead of the values: tracked env files,
    secret-shaped values in tracked files, and secret keys the template gives a value.
    """
    from mlopsctl.core import secrets
    from mlopsctl.core.git import repo

    env = os.environ if environ is None else environ
    template = root / ".env.template"
    expected = read(template) if template.is_file() else {}
    tracked = repo.tracked_env_files(root)
    if ci:
        listed = repo.listed_files(root) or []
        leaks = secrets.find_in_files(root, [p for p in listed if not p.startswith(".mlops/")])
        leaks += [
            f".env.template: {key} has a value; leave secrets empty in the template"
            for key, value in expected.items()
            if value and secrets.is_secret_key(key)
        ]
        return Report([], [], tracked, template.is_file(), leaks)
    merged = load(root, name, required=name is not None, environ=env)
    have = set(merged.variables) | {k for k in expected if k in env}
    missing = [k for k in expected if k not in have]
    extra = [k for k in merged.variables if k not in expected]
    return Report(missing, extra, tracked, template.is_file(), files=merged.files)
