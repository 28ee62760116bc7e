"""PromQL series selectors: ``http_requests_total{code=~"5..", job!="x"}``.

A canary analysis names its metrics with the selectors Prometheus users write. Scraped samples
are matched against them here (label matchers ``=``, ``!=``, ``=~``, ``!~``; regular
expressions anchored at both ends, as in PromQL, and matched with a time bound since they come
from ``mlops.yaml``); with a Prometheus server the selector is sent as written, with the
canary's own matcher added (:meth:`Selector.promql`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlopsctl.errors import BadInput

NAME_START = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:"
NAME_REST = NAME_START + "0123456789"
OPS = ("=~", "!~", "!=", "=")
ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
MAX_LENGTH = 1000


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str
    value: str

    def matches(self, labels: dict[str, str], key: str) -> bool:
        have = labels.get(self.label, "")
        if self.op in ("=", "!="):
            return (have == self.value) == (self.op == "=")
        from mlopsctl.core.conventions.patterns import fullmatch

        return fullmatch(self.value, have, key) == (self.op == "=~")

    def promql(self) -> str:
        escaped = self.value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'{self.label}{self.op}"{escaped}"'


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[Matcher, ...] = ()
    text: str = ""

    def matches(self, name: str, labels: dict[str, str], key: str = "selector") -> bool:
        if self.name and name != self.name:
            return False
        return all(m.matches({**labels, "__name__": name}, key) for m in self.matchers)

    def promql(self, extra: dict[str, str] | None = None) -> str:
        """The selector as PromQL, with ``extra`` equality matchers added."""
        matchers = [*self.matchers, *(Matcher(k, "=", v) for k, v in (extra or {}).items())]
        inner = ", ".join(m.promql() for m in matchers)
        return f"{self.name}{{{inner}}}" if inner else self.name


def parse(text: str, key: str = "selector") -> Selector:
    """Parse a series selector; bad input naming ``key`` when it does not parse."""
    try:
        return _Parser(text).selector()
    except ValueError as exc:
        raise BadInput(
            f"mlops.yaml: key '{key}' is not a PromQL series selector ({exc}); write it as "
            'metric_name{label="value"}, e.g. http_requests_total{code=~"5.."}.'
        ) from None


class _Parser:
    def __init__(self, text: str) -> None:
        if not isinstance(text, str) or not text.strip():
            raise ValueError("it is empty")
        if len(text) > MAX_LENGTH:
            raise ValueError(f"it is longer than {MAX_LENGTH} characters")
        self.text, self.at = text, 0

    def _space(self) -> None:
        while self.at < len(self.text) and self.text[self.at] in " \t":
            self.at += 1

    def _peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def _ident(self, start: str, what: str) -> str:
        self._space()
        begin = self.at
        if self._peek() == "" or self._peek() not in start:
            raise ValueError(f"{what} expected at character {self.at + 1}")
        self.at += 1
        while self._peek() != "" and self._peek() in NAME_REST:
            self.at += 1
        return self.text[begin : self.at]

    def _string(self) -> str:
        self._space()
        quote = self._peek()
        if quote not in ('"', "'"):
            raise ValueError(f"a quoted value expected at character {self.at + 1}")
        self.at += 1
        out: list[str] = []
        while True:
            ch = self._peek()
            if ch == "":
                raise ValueError("a quoted value is not closed")
            self.at += 1
            if ch == quote:
                return "".join(out)
            if ch == "\\":
                nxt = self._peek()
                if nxt not in ESCAPES:
                    raise ValueError(f"unknown escape \\{nxt} at character {self.at}")
                out.append(ESCAPES[nxt])
                self.at += 1
            else:
                out.append(ch)

    def selector(self) -> Selector:
        self._space()
        name = ""
        if self._peek() != "{":
            name = self._ident(NAME_START, "a metric name")
        matchers: list[Matcher] = []
        self._space()
        if self._peek() == "{":
            self.at += 1
            while True:
                self._space()
                if self._peek() == "}":
                    self.at += 1
                    break
                label = self._ident(NAME_START.replace(":", ""), "a label name")
                self._space()
                op = next((o for o in OPS if self.text.startswith(o, self.at)), None)
                if op is None:
                    raise ValueError(f"=, !=, =~ or !~ expected at character {self.at + 1}")
                self.at += len(op)
                value = self._string()
                if op in ("=~", "!~"):
                    from mlopsctl.core.conventions.patterns import compiles

                    problem = compiles(value)
                    if problem:
                        raise ValueError(f"{label}{op}: {problem}")
                matchers.append(Matcher(label, op, value))
                self._space()
                if self._peek() == ",":
                    self.at += 1
                elif self._peek() != "}":
                    raise ValueError(f"',' or '}}' expected at character {self.at + 1}")
        self._space()
        if self.at != len(self.text):
            raise ValueError(f"unexpected {self.text[self.at]!r} at character {self.at + 1}")
        if not name and not any(m.op == "=" and m.value for m in matchers):
            raise ValueError("it names no metric")
        return Selector(name, tuple(matchers), self.text.strip())


def finite(value: float) -> bool:
    return not (math.isnan(value) or math.isinf(value))
