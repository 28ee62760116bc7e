"""Parse YAML files once: the validated result is cached as JSON in the user's cache folder.

PyYAML costs more to import than the rest of a hook command together, and mlops.yaml and
template manifests rarely change, so a cache entry keyed by the file's mtime, size and the
mlopsctl version stands in for them. Nothing is ever written into the project.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mlopsctl import __version__


def cache_file(path: Path) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    name = str(path.absolute()).strip("/").replace("/", "%")
    if len(name) > 200:
        import hashlib

        name = hashlib.sha1(name.encode()).hexdigest()
    return Path(base) / "mlopsctl" / "yaml" / f"{name}.json"


def load(path: Path, parse: Callable[[str], Any]) -> Any:
    """``parse(text)`` of ``path``, from the cache when the file is unchanged."""
    st = path.stat()
    key = [st.st_mtime_ns, st.st_size, __version__]
    cache = cache_file(path)
    try:
        cached = json.loads(cache.read_text(encoding="utf-8"))
        if cached.get("key") == key:
            return cached["data"]
    except (OSError, ValueError, AttributeError):
        pass
    data = parse(path.read_text(encoding="utf-8"))
    try:
        from mlopsctl.core.fsutil import atomic_write

        atomic_write(cache, json.dumps({"key": key, "data": data}).encode())
    except OSError:
        pass  # a read-only home still works, only slower
    return data


def safe_load(text: str, filename: str) -> Any:
    """PyYAML's safe_load, with a syntax error as one sentence naming the file and line."""
    import yaml

    from mlopsctl.errors import BadInput

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{filename} is not valid YAML{where}; fix the syntax.") from exc
