"""Render a template to file contents in a sandboxed Jinja environment.

Rendering returns file contents and writes nothing into the project: the plan decides what
happens there. Undefined variables are errors (``StrictUndefined``); ``*``, ``**`` and ``+``
and each file's output are bounded (a template comes with the repository). Compiled templates
are cached as Jinja bytecode in the user's cache folder, keyed by the source's checksum, so
repeated runs skip compilation.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlopsctl import __version__
from mlopsctl.core.scaffold.templates import FileOptions, Template
from mlopsctl.errors import BadInput

TEMPLATE_SUFFIX = ".j2"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_PLACEHOLDER = re.compile(r"\{\{\s*(" + _NAME.pattern + r")\s*\}\}")


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative, "/"-separated
    content: bytes
    executable: bool
    existing: str  # "conflict" or "keep"


def _cache_dir() -> Path | None:
    from mlopsctl.core.yamlcache import cache_root

    path = Path(cache_root()) / f"jinja-{__version__}"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


MAX_OUTPUT = 16 * 2**20  # bytes of one rendered file (a template comes with the repository)
MAX_VALUE = 2**20  # items or characters one Jinja expression may build


def _too_big(what: str) -> BadInput:
    return BadInput(
        f"A template expression builds {what}; templates render files of at most "
        f"{MAX_OUTPUT // 2**20} MiB: fix the template."
    )


def _sized(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value.bit_length() // 8
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else 0


def _bounded_class() -> Any:
    from jinja2.sandbox import SandboxedEnvironment

    class BoundedSandbox(SandboxedEnvironment):
        """The sandbox, with ``*``, ``**`` and ``+`` bounded: ``'x' * 10**10`` or
        ``10 ** 10 ** 10`` are refused before they are computed."""

        intercepted_binops = frozenset(["*", "**", "+"])

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            ints = isinstance(left, int) and isinstance(right, int)
            if operator == "*":
                for seq, times in ((left, right), (right, left)):
                    sequence = isinstance(seq, (str, bytes, list, tuple))
                    if sequence and isinstance(times, int) and len(seq) * max(times, 0) > MAX_VALUE:
                        raise _too_big(f"a value of {len(seq)} x {times} items")
                if ints and left.bit_length() + right.bit_length() > 64 * 1024:
                    raise _too_big("a number of over 20,000 digits")
            elif operator == "**":
                if ints and abs(left) > 1 and left.bit_length() * max(right, 0) > 64 * 1024:
                    raise _too_big(f"the number {left} ** {right}")
            elif operator == "+" and _sized(left) + _sized(right) > MAX_VALUE:
                raise _too_big("a value of over a million items")
            return super().call_binop(context, operator, left, right)

    return BoundedSandbox


def render_bounded(template: Any, ctx: dict[str, Any]) -> str:
    """A Jinja template's text, stopped once it passes :data:`MAX_OUTPUT`."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(ctx):
        size += len(chunk)
        if size > MAX_OUTPUT:
            raise _too_big(f"a file of over {MAX_OUTPUT // 2**20} MiB")
        parts.append(chunk)
    return "".join(parts)


def _environment(template: Template) -> Any:
    from jinja2 import FileSystemBytecodeCache, FileSystemLoader, StrictUndefined

    cache = _cache_dir()
    return _bounded_class()(
        loader=FileSystemLoader([str(r / "files") for r in template.roots]),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
        bytecode_cache=FileSystemBytecodeCache(str(cache)) if cache else None,
    )


def render(template: Template, context: dict[str, Any]) -> list[RenderedFile]:
    """Render every file of ``template``; any error aborts before anything is written.

    Files marked ``describes`` come last, with what the others became in their context.
    """
    sources = template.sources()
    options = {
        src: template.files.get(src.removesuffix(TEMPLATE_SUFFIX)) or template.files.get(src)
        for src in sources
    }
    describing = [src for src in sources if (opt := options[src]) is not None and opt.describes]
    env = _environment(template)
    origin: dict[str, str] = {}
    out = _render_sources(env, template, [s for s in sources if s not in describing], options,
                          context, origin)  # fmt: skip
    if describing:
        facts = {**context, "generated": _describe(out), "settings": _settings(out)}
        out += _render_sources(env, template, describing, options, facts, origin)
    return out


def _render_sources(
    env: Any,
    template: Template,
    sources: list[str],
    options: dict[str, FileOptions | None],
    context: dict[str, Any],
    origin: dict[str, str],
) -> list[RenderedFile]:
    from jinja2 import TemplateError

    out: list[RenderedFile] = []
    for src in sources:
        opts = options[src]
        try:
            items: list[Any] = [None]
            if opts is not None and opts.foreach:
                items = list(_evaluate(env, opts.foreach, context))
            for item in items:
                ctx = context if item is None else {**context, "item": item}
                if opts is not None and opts.when and not _evaluate(env, opts.when, ctx):
                    continue
                rendered = _render_one(
                    env, template, src, ctx, opts.existing if opts else "conflict"
                )
                if rendered.path in origin:
                    raise BadInput(
                        f"Template '{template.name}' renders {rendered.path} from both "
                        f"{origin[rendered.path]} and {src}; give them the same source name "
                        "so that one overrides the other."
                    )
                origin[rendered.path] = src
                out.append(rendered)
        except TemplateError as exc:
            raise BadInput(
                f"Template '{template.name}' failed to render {src}: {exc.message}; "
                "fix the template or pass the missing value with --set."
            ) from exc
        except (ArithmeticError, LookupError, TypeError, ValueError, RecursionError) as exc:
            raise BadInput(
                f"Template '{template.name}' failed to render {src} "
                f"({type(exc).__name__}: {exc}); fix the template."
            ) from exc
    return out


def _docstring(path: str, content: bytes) -> str | None:
    """A Python module's docstring, as the module really has it."""
    if not path.endswith(".py"):
        return None
    import ast

    try:
        return ast.get_docstring(ast.parse(content))
    except (SyntaxError, ValueError):
        return None


def _describe(files: list[RenderedFile]) -> list[dict[str, Any]]:
    """What a describing file may say of the others: path, docstring, shared or not."""
    return [
        {
            "path": f.path,
            "docstring": _docstring(f.path, f.content),
            "shared": f.existing != "conflict",
        }
        for f in sorted(files, key=lambda f: f.path)
    ]


def _settings(files: list[RenderedFile]) -> list[tuple[str, str]]:
    """The ``KEY=default`` lines the template adds to ``.env.template``."""
    from mlopsctl.core.testing.envfiles import parse

    pairs = []
    for f in files:
        if f.path == ".env.template":
            text = f.content.decode("utf-8", "replace")
            pairs += [(k, v or "") for k, v in parse(text).items()]
    return pairs


def _render_one(
    env: Any, template: Template, src: str, ctx: dict[str, Any], existing: str
) -> RenderedFile:
    source = template.source_path(src)
    rel = src.removesuffix(TEMPLATE_SUFFIX)
    if "{" in rel:
        rel = _substitute(env, rel, ctx)
    rel = os.path.normpath(rel).replace(os.sep, "/")
    if rel.startswith(("../", "/")) or rel == "..":
        raise BadInput(
            f"Template '{template.name}' renders {src} outside the project; fix the template."
        )
    if src.endswith(TEMPLATE_SUFFIX):
        content = render_bounded(env.get_template(src), ctx).encode("utf-8")
    else:
        if source.stat().st_size > MAX_OUTPUT:
            raise BadInput(
                f"Template '{template.name}' file {src} is larger than "
                f"{MAX_OUTPUT // 2**20} MiB; keep large data out of templates."
            )
        content = source.read_bytes()
    executable = rel.endswith(".sh") or bool(source.stat().st_mode & stat.S_IXUSR)
    return RenderedFile(rel, content, executable, existing)


def _lookup(dotted: str, ctx: dict[str, Any]) -> Any:
    """Resolve ``a.b.c`` like the sandbox would (public attributes and keys only)."""
    from jinja2 import UndefinedError

    head, *rest = dotted.split(".")
    if head not in ctx:
        raise UndefinedError(f"'{head}' is undefined")
    value = ctx[head]
    for part in rest:
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif hasattr(value, part):
            value = getattr(value, part)
        else:
            raise UndefinedError(f"'{dotted}' is undefined")
    return value


def _evaluate(env: Any, expression: str, ctx: dict[str, Any]) -> Any:
    """A manifest's ``when``/``foreach``: a plain name is looked up, anything else is Jinja."""
    text = expression.strip()
    if _NAME.fullmatch(text) and text.lower() not in ("true", "false", "none"):
        return _lookup(text, ctx)
    return env.compile_expression(text)(**ctx)


def _substitute(env: Any, text: str, ctx: dict[str, Any]) -> str:
    """A file name: plain ``{{ name }}`` placeholders are replaced without compiling Jinja."""
    plain = _PLACEHOLDER.sub(lambda m: str(_lookup(m.group(1), ctx)), text)
    if "{{" in plain or "{%" in plain:
        return render_bounded(env.from_string(text), ctx)
    return plain
