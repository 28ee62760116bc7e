"""Regular expressions a project writes in ``mlops.yaml``, matched with a time bound.

A pattern such as ``(a+)+$`` takes exponential time on some inputs in Python's own engine,
and these patterns run inside git hooks, where a hang blocks every commit. They are matched
with the ``regex`` engine (Python's syntax) and its timeout; a pattern that runs out of time
is bad input naming the key, not a hang.
"""

from __future__ import annotations

from mlopsctl.errors import BadInput

TIMEOUT = 0.5  # seconds; the built-in patterns match in microseconds


def fullmatch(pattern: str, text: str, key: str) -> bool:
    """Whether ``pattern`` (from mlops.yaml ``key``) matches the whole of ``text``."""
    import regex

    try:
        return regex.fullmatch(pattern, text, timeout=TIMEOUT) is not None
    except TimeoutError:
        raise BadInput(
            f"mlops.yaml {key} '{pattern}' took over {TIMEOUT:g}s on one input; rewrite it "
            "without nested repetition such as (a+)+."
        ) from None


def compiles(pattern: str) -> str | None:
    """None when ``pattern`` is a valid expression, else why not."""
    import regex

    try:
        regex.compile(pattern)
    except regex.error as exc:
        return str(exc)
    return None
