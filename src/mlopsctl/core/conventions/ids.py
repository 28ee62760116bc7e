"""Substage ids (``6.1``) and feature names (``monitoring-api``), parsed and normalised."""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from mlopsctl.core.config import Stage
from mlopsctl.errors import BadInput, one_line

_STAGE_ID = re.compile(r"([0-9]+)\.([0-9]+)")
MAX_FEATURE = 64
_FEATURE_CHARS = re.compile(r"[A-Za-z0-9 _-]+")


@dataclass(frozen=True)
class SubstageId:
    stage: Stage
    number: int

    def __str__(self) -> str:
        return f"{self.stage.number}.{self.number}"


@dataclass(frozen=True)
class Feature:
    kebab: str  # monitoring-api: document titles
    snake: str  # monitoring_api: Python identifiers
    title: str  # Monitoring Api: prose
    camel: str  # MonitoringApi: class names


def parse_substage(text: str, stages: dict[int, Stage]) -> SubstageId:
    """Parse ``X.Y``; X must be a stage of the project, Y a positive integer."""
    known = ", ".join(str(n) for n in sorted(stages))
    m = _STAGE_ID.fullmatch(text) if len(text) <= 16 else None
    if not m:
        raise BadInput(
            f"Stage id '{one_line(text)[:40]}' is not of the form X.Y; "
            f"use a stage ({known}) and a substage number, e.g. 6.1."
        )
    x, y = int(m.group(1)), int(m.group(2))
    if x not in stages or m.group(1) != str(x):
        raise BadInput(f"Stage id '{text}' names no stage of this project; use one of {known}.")
    if y < 1 or m.group(2) != str(y):
        raise BadInput(f"Stage id '{text}' needs a substage number of 1 or more, e.g. {x}.1.")
    return SubstageId(stages[x], y)


def parse_stage(text: str, stages: dict[int, Stage]) -> tuple[int, int | None]:
    """Parse ``X`` or ``X.Y`` (used by ``--stage`` filters)."""
    if (
        text.isascii()
        and text.isdigit()
        and len(text) <= 3
        and text == str(int(text))
        and int(text) in stages
    ):
        return int(text), None
    sub = parse_substage(text, stages)
    return sub.stage.number, sub.number


def normalise_feature(text: str, reserved: bool = True) -> Feature:
    """Accept ``monitoring-api``, ``monitoring_api`` or ``Monitoring API``; with
    ``reserved``, refuse a name whose class name generated code could not define."""
    name = text.strip()
    if not name or not _FEATURE_CHARS.fullmatch(name):
        raise BadInput(
            f"Feature name '{text}' may hold only letters, digits, spaces, '-' and '_' "
            "(no path separators, dots or shell characters); e.g. monitoring-api."
        )
    words = [w.lower() for w in re.split(r"[\s_-]+", name) if w]
    if not words or not words[0][0].isalpha():
        raise BadInput(f"Feature name '{text}' must start with a letter; e.g. monitoring-api.")
    snake = "_".join(words)
    if len(snake) > MAX_FEATURE:  # it becomes part of file names (255 bytes at most)
        raise BadInput(
            f"Feature name '{text[:40]}...' is longer than {MAX_FEATURE} characters; "
            "use a shorter name."
        )
    if keyword.iskeyword(snake):
        raise BadInput(f"Feature name '{text}' is a Python keyword; choose another name.")
    camel = "".join(w.capitalize() for w in words)
    if reserved and camel in reserved_classes():
        example = "-".join(words) + "-service"
        raise BadInput(
            f"Feature name '{text}' gives the class name {camel}, which generated code already "
            f"uses (a Python name, or one the stage module defines or imports); choose another "
            f"name, e.g. {example}."
        )
    return Feature(
        kebab="-".join(words),
        snake=snake,
        title=" ".join(w.capitalize() for w in words),
        camel=camel,
    )


# What the generated stage module and its tests define or import at module level, beside
# the feature's own class (tests/core/conventions/test_ids.py checks the templates against it)
TEMPLATE_NAMES = frozenset({"Settings", "Any", "Iterable", "Mapping", "Path"})


def reserved_classes() -> frozenset[str]:
    """Class names a feature may not take: Python's keywords and built-in names (None,
    True, ValueError...) and the names the generated modules use themselves."""
    import builtins

    return TEMPLATE_NAMES | frozenset(dir(builtins)) | frozenset(keyword.kwlist)
