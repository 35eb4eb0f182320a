"""The CX report as one self-contained, responsive HTML page (inline CSS and SVG, no script)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from cxmodel._html import inert
from cxmodel.report._figures import has_matplotlib, svg

if TYPE_CHECKING:
    from cxmodel.report._report import KPI, CXReport, ReportSection, ReportTable

__all__ = ["render"]

# nothing may be loaded from anywhere: styles inline, images only as data: URIs
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_CSS = """
:root{--ink:#1d2430;--muted:#5b6575;--line:#dde2ea;--card:#f5f7fa;--accent:#1f5fa8}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:var(--ink);background:#fff;overflow-wrap:break-word}
main{max-width:72rem;margin:0 auto;padding:1.5rem 1rem 3rem}
header h1{margin:0 0 .2rem;font-size:1.7rem}
header p{margin:0;color:var(--muted)}
nav{display:flex;flex-wrap:wrap;gap:.3rem .9rem;margin:1rem 0 0;padding:.6rem 0;
border-top:1px solid var(--line);border-bottom:1px solid var(--line);font-size:.9rem}
nav a{color:var(--accent);text-decoration:none}
section{margin:2rem 0 0;padding-top:.2rem}
h2{font-size:1.25rem;margin:0 0 .4rem;border-bottom:2px solid var(--accent);padding-bottom:.2rem}
.lead{margin:.3rem 0 .8rem}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,13rem),1fr));gap:.8rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.5rem;padding:.7rem .9rem}
.card h3{margin:0;font-size:.85rem;font-weight:600;color:var(--muted)}
.card .value{font-size:1.9rem;font-weight:700;line-height:1.2;margin:.15rem 0}
.card .interval{font-size:.85rem}
.card .detail{font-size:.8rem;color:var(--muted)}
.body{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:1rem 1.5rem;
align-items:start}
.body.single{grid-template-columns:minmax(0,1fr)}
figure{margin:0;min-width:0}
figure svg{display:block;width:100%;height:auto;max-width:40rem}
figcaption{font-size:.8rem;color:var(--muted)}
.scroll{overflow-x:auto;max-width:100%}
.text>*+*{margin-top:1.2rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;vertical-align:top;padding:.3rem .6rem .3rem 0;border-bottom:1px solid var(--line)}
th{color:var(--muted);font-weight:600}
table.rows th{width:40%;font-weight:500;color:var(--ink)}
table.rows th,table.rows td{overflow-wrap:anywhere}
.note,.more{font-size:.8rem;color:var(--muted);margin:.4rem 0 0}
.leftout li{margin:.2rem 0}
footer{margin-top:2.5rem;font-size:.8rem;color:var(--muted)}
@media (max-width:48rem){
 .body{grid-template-columns:minmax(0,1fr)}
 main{padding:1rem .75rem 2rem}
 header h1{font-size:1.4rem}
 .cards{grid-template-columns:repeat(auto-fill,minmax(9.5rem,1fr));gap:.5rem}
 .card{padding:.5rem .6rem}
 .card .value{font-size:1.45rem}
 table.rows th{width:auto;font-size:.8rem;color:var(--muted)}
 table.rows tr{display:block;padding:.3rem 0;border-bottom:1px solid var(--line)}
 table.rows th,table.rows td{display:block;border:0;padding:0}
}
"""


def _e(text: str) -> str:
    """``text`` escaped for HTML, each character that would act on the page
    (:func:`cxmodel._html.inert`) written as its escape (``\\u202e``).

    Examples
    --------
    >>> _e("<b>"), _e("\\u202eweiv"), _e("a\\x00b")
    ('&lt;b&gt;', '\\\\u202eweiv', 'a\\\\x00b')
    """
    return html.escape(inert(text), quote=True)


def _card(card: KPI) -> str:
    parts = [
        f"<div class='card'><h3>{_e(card.label)}</h3><div class='value'>{_e(card.value)}</div>"
    ]
    if card.interval:
        parts.append(f"<div class='interval'>{_e(card.interval)}</div>")
    if card.detail:
        parts.append(f"<div class='detail'>{_e(card.detail)}</div>")
    parts.append("</div>")
    return "".join(parts)


def _table(table: ReportTable) -> str:
    head = "".join(f"<th scope='col'>{_e(c)}</th>" for c in table.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>" for row in table.rows
    )
    more = f"<p class='more'>{_e(table.more)}</p>" if table.more else ""
    return (
        f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f"</table></div>{more}"
    )


def _section(section: ReportSection, figures: bool) -> str:
    parts = [f"<section id='{_e(section.key)}'><h2>{_e(section.title)}</h2>"]
    if section.lead:
        parts.append(f"<p class='lead'>{_e(section.lead)}</p>")
    if section.cards:
        parts.append("<div class='cards'>" + "".join(_card(c) for c in section.cards) + "</div>")
    text: list[str] = []
    if section.rows:
        rows = "".join(
            f"<tr><th scope='row'>{_e(label)}</th><td>{_e(value)}</td></tr>"
            for label, value in section.rows
        )
        text.append(f"<table class='rows'>{rows}</table>")
    text += [_table(t) for t in section.tables]
    drawn = []
    if figures:
        for i, figure in enumerate(section.figures):
            markup = svg(figure.draw, height=figure.height, id_prefix=f"{section.key}-{i}-")
            drawn.append(f"<figure>{markup}<figcaption>{_e(figure.alt)}</figcaption></figure>")
    if text or drawn:
        single = "" if (text and drawn) else " single"
        parts.append(f"<div class='body{single}'>")
        if drawn:
            parts.append("<div class='figures'>" + "".join(drawn) + "</div>")
        if text:
            parts.append("<div class='text'>" + "".join(text) + "</div>")
        parts.append("</div>")
    if section.note:
        parts.append(f"<p class='note'>{_e(section.note)}</p>")
    parts.append("</section>")
    return "".join(parts)


def render(report: CXReport, *, figures: bool = True) -> str:
    """The page of ``report``; figures only when asked for and matplotlib is installed.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from cxmodel.report import CXReport, ReportSection
    >>> report = CXReport(datetime(2024, 5, 1, tzinfo=timezone.utc),
    ...                   (ReportSection("Overview", (("customers", "<2>"),), key="overview"),))
    >>> page = render(report, figures=False)
    >>> "<td>&lt;2&gt;</td>" in page, "://" in page
    (True, False)
    """
    draw = figures and has_matplotlib()
    nav = "".join(f"<a href='#{_e(s.key)}'>{_e(s.title)}</a>" for s in report.sections)
    if report.left_out:
        nav += "<a href='#left-out'>Left out</a>"
    when = f"{report.as_of:%d %B %Y, %H:%M} UTC"
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta http-equiv='Content-Security-Policy' content=\"{_POLICY}\">",
        f"<title>CX report, {report.as_of:%Y-%m-%d}</title><style>{_CSS}</style></head><body>",
        f"<main><header><h1>Customer experience report</h1><p>As of {_e(when)}</p></header>",
        f"<nav aria-label='Sections'>{nav}</nav>",
    ]
    parts += [_section(section, draw) for section in report.sections]
    if report.left_out:
        items = "".join(
            f"<li id='left-out-{_e(item.key)}'><strong>{_e(item.title)}</strong>: "
            f"{_e(item.reason)}</li>"
            for item in report.left_out
        )
        parts.append(
            "<section id='left-out'><h2>Left out</h2><p class='lead'>Sections this data cannot "
            f"support, and why.</p><ul class='leftout'>{items}</ul></section>"
        )
    footer = "Made with cxmodel."
    if figures and not draw and any(s.figures for s in report.sections):
        footer += ' Figures need matplotlib: pip install "cxmodel[plot]".'
    parts.append(f"<footer>{_e(footer)}</footer></main></body></html>")
    return "".join(parts)
