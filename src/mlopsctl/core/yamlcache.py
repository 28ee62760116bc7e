"""Parse a YAML text once: the result is cached by content in the user's cache folder.

PyYAML costs more to import than the rest of a hook command together, and mlops.yaml and
template manifests rarely change. The cache holds what ``yaml.safe_load`` made of a text,
addressed by the text itself (byte sum, length, and the text kept for comparison), so a
fresh clone, a copied project or a branch switch back to known content still hits it;
validation runs on every load, so a change of rules never meets stale data. Entries are
``marshal`` data, which keeps YAML's integer keys integers; a document with other types
(dates, sets) is simply not cached. Nothing is ever written into the project.
"""

from __future__ import annotations

import marshal
import os
import sys

from mlopsctl import __version__
from mlopsctl.errors import BadInput, one_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any

_STAMP = (__version__, sys.version_info[:2])


def cache_root() -> str:
    """mlopsctl's folder in the user's cache (``$XDG_CACHE_HOME``, else ``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "mlopsctl")


def cache_file(text: str) -> str:
    """The cache entry for ``text``: named by its length and byte sum. The name only picks
    the slot; the entry keeps the text itself, so a slot shared by two texts is a miss,
    never a wrong answer (and needs no hash module on the hooks' start-up path)."""
    raw = text.encode("utf-8")
    return os.path.join(cache_root(), "yaml", f"{sum(raw) & 0xFFFFFFFF:08x}-{len(raw)}.marshal")


def read_text(path: Path | str) -> str:
    """A project file's text; unreadable or not UTF-8 is bad input naming the file."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise BadInput(f"Cannot read {one_line(os.fspath(path))} ({exc.strerror}).") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(
            f"{one_line(os.fspath(path))} is not UTF-8 text (byte {exc.start}); save it as UTF-8."
        ) from None


def load(path: Path | str) -> Any:
    """``yaml.safe_load`` of the file at ``path``, from the cache when its text is known."""
    text = read_text(path)
    cache = cache_file(text)
    try:
        with open(cache, "rb") as fh:
            stamp, cached_text, data = marshal.loads(fh.read())
        if stamp == _STAMP and cached_text == text:
            return data
    except (OSError, ValueError, EOFError, TypeError):
        pass
    data = safe_load(text, os.fspath(path))
    try:
        blob = marshal.dumps((_STAMP, text, data))
    except ValueError:
        return data  # dates or other types marshal cannot keep: parse every time
    try:
        from pathlib import Path

        from mlopsctl.core.fs import atomic_write

        atomic_write(Path(cache), blob)
    except OSError:
        pass  # a read-only home still works, only slower
    return data


def safe_load(text: str, filename: str) -> Any:
    """PyYAML's safe_load, with a syntax error as one sentence naming the file and line."""
    import yaml

    if len(text) > MAX_YAML:
        raise BadInput(
            f"{filename} is larger than {MAX_YAML // 2**20} MiB; a configuration file is never "
            "that large: check what it holds."
        )
    try:
        return yaml.load(text, Loader=_loader())  # a SafeLoader subclass
    except _Duplicate as exc:
        raise BadInput(
            f"{filename}: key '{one_line(str(exc.key))}' appears twice in one mapping at line "
            f"{exc.line}; keep one of them (YAML would silently drop the first)."
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise BadInput(f"{filename} is not valid YAML{where}; fix the syntax.") from exc
    except (ValueError, OverflowError) as exc:  # a number of thousands of digits
        raise BadInput(
            f"{filename} holds a value YAML cannot read ({one_line(str(exc))[:80]}); numbers "
            "there have at most a few digits: fix it."
        ) from None
    except RecursionError:
        raise BadInput(f"{filename} is nested too deeply; fix its structure.") from None


MAX_YAML = 4 * 2**20


class _Duplicate(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(key)
        self.key, self.line = key, line


_LOADER: Any = None


def _loader() -> Any:
    """PyYAML's SafeLoader that refuses a key given twice in one mapping."""
    global _LOADER
    if _LOADER is None:
        import yaml

        class UniqueKeys(yaml.SafeLoader):
            def construct_mapping(self, node: Any, deep: bool = False) -> Any:
                seen: set[object] = set()
                for key_node, _ in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge":
                        continue
                    key = self.construct_object(key_node, deep=deep)
                    try:
                        duplicate = key in seen
                        seen.add(key)
                    except TypeError:  # an unhashable key: the base class says so
                        continue
                    if duplicate:
                        raise _Duplicate(key, key_node.start_mark.line + 1)
                return super().construct_mapping(node, deep=deep)

        _LOADER = UniqueKeys
    return _LOADER
