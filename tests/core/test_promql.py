"""PromQL series selectors: parsing, matching and rendering, and what does not parse."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlopsctl.core.promql import Matcher, Selector, parse
from mlopsctl.errors import BadInput


def test_a_selector_with_every_matcher_kind() -> None:
    s = parse('http_requests_total{code=~"5..", path!="/health", method="GET", host!~"x.*"}')
    assert s.name == "http_requests_total"
    assert [(m.label, m.op, m.value) for m in s.matchers] == [
        ("code", "=~", "5.."), ("path", "!=", "/health"), ("method", "=", "GET"),
        ("host", "!~", "x.*"),
    ]  # fmt: skip
    labels = {"code": "503", "path": "/predict", "method": "GET", "host": "api"}
    assert s.matches("http_requests_total", labels)
    assert not s.matches("http_requests_total", {**labels, "code": "200"})
    assert not s.matches("http_requests_total", {**labels, "code": "5031"})  # anchored
    assert not s.matches("other_total", labels)
    assert not s.matches("http_requests_total", {**labels, "path": "/health"})
    assert not s.matches("http_requests_total", {**labels, "host": "xyz"})


def test_a_bare_name_and_a_missing_label_read_as_empty() -> None:
    assert parse("up").matches("up", {})
    assert parse('up{job=""}').matches("up", {"instance": "a"})  # absent label is ""
    assert parse('{__name__="up"}').matches("up", {})


def test_quotes_escapes_and_trailing_commas() -> None:
    s = parse('m{a=\'x\', b="q\\"t", c="line\\nbreak",}')
    assert [m.value for m in s.matchers] == ["x", 'q"t', "line\nbreak"]


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("1metric", "a metric name expected"),
        ('m{code=~"5..}', "not closed"),
        ('m{code~"5"}', "=, !=, =~ or !~ expected"),
        ('m{code="5" path="x"}', "',' or '}' expected"),
        ('m{code=~"("}', "code=~"),
        ('m{code="5"} extra', "unexpected"),
        ("{}", "names no metric"),
        ('m{code="\\q"}', "unknown escape"),
        ("m" * 1001, "longer than"),
    ],
)
def test_what_does_not_parse_is_bad_input_naming_the_key(text: str, why: str) -> None:
    with pytest.raises(BadInput, match="key 'environments.staging.analysis.x'") as caught:
        parse(text, "environments.staging.analysis.x")
    assert why in str(caught.value)


def test_promql_adds_the_canarys_own_matcher() -> None:
    s = parse('http_requests_total{code=~"5.."}')
    assert s.promql({"mlops_release": "abc"}) == (
        'http_requests_total{code=~"5..", mlops_release="abc"}'
    )
    assert Selector("up").promql() == "up"
    assert Matcher("a", "=", 'x"y\\z').promql() == 'a="x\\"y\\\\z"'


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_values_survive_rendering_and_parsing_again(value: str) -> None:
    rendered = Selector("m").promql({"lbl": value})
    assert parse(rendered).matchers[0].value == value
