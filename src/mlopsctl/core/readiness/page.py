"""One self-contained HTML page of a readiness report: the checks with their fixes, and the
ML Test Score by section as an SVG chart. Inline CSS, no scripts, no external assets: it opens
from a CI artefact as it is. Every text is escaped; secrets are masked as in every output."""

from __future__ import annotations

import html
import time
from typing import Any

CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;
max-width:64rem;padding:0 1rem;color:#1f2328;background:#fff}
h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.2rem;margin:2rem 0 .6rem}
.sub{color:#59636e;margin:0 0 1.2rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap}
.card{border:1px solid #d1d9e0;border-radius:8px;padding:.8rem 1.1rem;min-width:12rem}
.card b{display:block;font-size:2rem;line-height:1.1}
table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #e6eaef;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.04em;color:#59636e}
.pass,.automated{color:#1a7f37;font-weight:600}.fail,.failed{color:#d1242f;font-weight:600}
.skip,.missing{color:#59636e}.manual{color:#9a6700;font-weight:600}
.exempt{color:#0969da;font-weight:600}
code{font-size:.85em;background:#f6f8fa;padding:.1em .3em;border-radius:4px}
svg text{font:13px system-ui,sans-serif}
"""
STATUS_COLOUR = {"automated": "#1a7f37", "manual": "#bf8700", "exempt": "#0969da"}


def _e(text: object) -> str:
    from mlopsctl.core.secrets import mask_text

    return html.escape(mask_text(str(text)), quote=True)


def chart(sections: list[dict[str, Any]], score: float) -> str:
    """Each section's sum (0 to 7) as a bar made of its items' points; the final score (the
    lowest section) as a line across."""
    width, left, bar, gap, top = 640, 130, 26, 14, 10
    scale = (width - left - 60) / 7
    height = top + len(sections) * (bar + gap) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="ML Test Score by section">'
    ]
    for tick in range(8):
        x = left + tick * scale
        parts.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" '
                     f'y2="{height - 24}" stroke="#e6eaef"/>')  # fmt: skip
        parts.append(f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle" '
                     f'fill="#59636e">{tick}</text>')  # fmt: skip
    for row, section in enumerate(sections):
        y = top + row * (bar + gap)
        parts.append(f'<text x="{left - 10}" y="{y + bar * 0.68:.1f}" text-anchor="end">'
                     f"{_e(section['name'])}</text>")  # fmt: skip
        x = float(left)
        for item in section["items"]:
            if item["points"] <= 0:
                continue
            w = item["points"] * scale
            colour = STATUS_COLOUR.get(item["status"], "#8c959f")
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w - 1:.1f}" height="{bar}" fill="{colour}">'
                f"<title>{_e(item['id'])}: {_e(item['title'])} ({_e(item['status'])})</title>"
                "</rect>"
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + bar * 0.68:.1f}" '
                     f'font-weight="600">{section["points"]:g}</text>')  # fmt: skip
    x = left + score * scale
    parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 24}" '
                 'stroke="#d1242f" stroke-width="2" stroke-dasharray="4 3"/>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def render(project: str, report: dict[str, Any]) -> str:
    """The page for ``report`` (what ``doctor --json`` prints)."""
    ml = report.get("ml_test_score")
    when = time.strftime("%Y-%m-%d %H:%M %Z")
    out = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Readiness of {_e(project)}</title>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<style>{CSS}</style></head><body>",
        f"<h1>Readiness of {_e(project)}</h1>",
        f'<p class="sub">mlopsctl doctor, {_e(when)}</p>',
        '<div class="cards">',
        f'<div class="card">Readiness checks<b id="readiness">{report["score"]}%</b>'
        f"of the checks that ran passed</div>",
    ]
    if ml is not None:
        out.append(
            f'<div class="card">ML Test Score<b id="ml-test-score">{ml["score"]:g}</b>'
            f"{_e(ml['band'])}</div>"
        )
    out += ["</div>", "<h2>Readiness checks</h2>",
            "<table><tr><th>check</th><th>status</th><th>why</th><th>fix</th></tr>"]  # fmt: skip
    for c in report["checks"]:
        fix = f"<code>{_e(c['fix'])}</code>" if c["fix"] and c["status"] != "pass" else ""
        out.append(
            f'<tr><td>{_e(c["title"])}</td><td class="{_e(c["status"])}">{_e(c["status"])}</td>'
            f"<td>{_e(c['reason'])}</td><td>{fix}</td></tr>"
        )
    out.append("</table>")
    if ml is not None:
        out += [
            "<h2>ML Test Score</h2>",
            '<p class="sub">Breck et al., "The ML Test Score: A Rubric for ML Production '
            'Readiness and Technical Debt Reduction" (2017): 1 point for an automated test, '
            "0.5 for a documented manual one; the score is the lowest of the four section "
            "sums.</p>",
            chart(ml["sections"], float(ml["score"])),
        ]
        for section in ml["sections"]:
            out.append(f"<h2>{_e(section['name'])}: {section['points']:g} of 7</h2>")
            out.append("<table><tr><th>id</th><th>test</th><th>status</th><th>points</th>"
                       "<th>evidence or fix</th></tr>")  # fmt: skip
            for item in section["items"]:
                out.append(
                    f"<tr><td>{_e(item['id'])}</td><td>{_e(item['title'])}</td>"
                    f'<td class="{_e(item["status"])}">{_e(item["status"])}</td>'
                    f"<td>{item['points']:g}</td><td>{_e(item['evidence'])}</td></tr>"
                )
            out.append("</table>")
        for problem in ml.get("problems") or []:
            out.append(f'<p class="fail">{_e(problem)}</p>')
    out.append("</body></html>\n")
    return "\n".join(out)
