"""The readiness page: self-contained, escaped, masked, with the score's chart."""

from __future__ import annotations

import re

from mlopsctl.core.readiness import page


def report(evidence: str = "fine") -> dict:
    items = [{"id": f"data-{n}", "title": f"t{n}", "status": "automated" if n < 3 else "missing",
              "points": 1.0 if n < 3 else 0.0, "evidence": evidence} for n in range(1, 8)]  # fmt: skip
    sections = [{"key": k, "name": k.title(), "points": 2.0, "items": items}
                for k in ("data", "model", "infra", "monitor")]  # fmt: skip
    return {
        "score": 75,
        "checks": [
            {
                "id": "ci",
                "title": "CI <ok>",
                "status": "fail",
                "reason": "r",
                "fix": "mlopsctl new-stage 4.1",
            }
        ],
        "ml_test_score": {"sections": sections, "score": 2.0, "band": "b", "problems": []},
    }


def test_the_page_is_self_contained_and_escaped() -> None:
    html = page.render("demo <x>", report("<script>alert(1)</script> token=ghp_" + "a" * 36))
    assert html.startswith("<!doctype html>")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "ghp_aaaa" not in html  # secrets masked as in every output
    assert not re.search(r"(src|href)=", html)
    assert "Readiness of demo &lt;x&gt;" in html and "CI &lt;ok&gt;" in html
    assert '<b id="ml-test-score">2</b>' in html and '<b id="readiness">75%</b>' in html


def test_the_chart_has_a_bar_per_item_with_points_and_the_score_line() -> None:
    svg = page.chart(report()["ml_test_score"]["sections"], 2.0)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<rect") == 8  # two automated items in each of four sections
    assert svg.count('stroke="#d1242f"') == 1  # the final score
