"""The CX report: what it holds (sections of cards, rows, tables and figures), and how it is built.

The section builders live in :mod:`cxmodel.report._sections`, the HTML page in
:mod:`cxmodel.report._html` and the figures in :mod:`cxmodel.report._figures`.
"""

from __future__ import annotations

import html
import warnings
from collections.abc import Callable
from typing import Any

import attrs

from cxmodel._arguments import flag, interaction_log
from cxmodel._html import printable
from cxmodel._result import Result
from cxmodel._time import TimeLike, as_of_us, us_to_datetime
from cxmodel.errors import CXModelError, DataError
from cxmodel.log import InteractionLog

__all__ = [
    "KPI",
    "CXReport",
    "LeftOut",
    "ReportFigure",
    "ReportSection",
    "ReportTable",
    "cx_report",
]


@attrs.frozen
class KPI:
    """One indicator card: a value with its interval and what it rests on.

    Examples
    --------
    >>> KPI("NPS", "+12.0", "95 % CI +4.1 to +19.9", "380 answers").text()
    '+12.0 (95 % CI +4.1 to +19.9; 380 answers)'
    """

    label: str
    value: str
    interval: str = ""
    detail: str = ""

    def text(self) -> str:
        """The card as one line of text."""
        extra = "; ".join(part for part in (self.interval, self.detail) if part)
        return f"{self.value} ({extra})" if extra else self.value


@attrs.frozen
class ReportTable:
    """A short table: column headings, rows of text, and a line for the rows left out."""

    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    more: str = ""


@attrs.frozen(eq=False)
class ReportFigure:
    """A figure of the HTML page: ``draw(ax)`` draws it on a matplotlib Axes (``result.plot``).

    ``alt`` says in words what the figure shows, for screen readers and the text report.
    """

    draw: Callable[[Any], object]
    alt: str
    height: float = 3.4


@attrs.frozen
class ReportSection:
    """One titled block of the report.

    ``rows`` are (label, value) text lines; ``lead`` one sentence for the reader; ``cards``
    indicator cards; ``tables`` short tables; ``figures`` drawn only in the HTML page; ``note``
    how the numbers were computed; ``key`` the section's id in the page.
    """

    title: str
    rows: tuple[tuple[str, str], ...] = ()
    note: str = ""
    key: str = ""
    lead: str = ""
    cards: tuple[KPI, ...] = ()
    tables: tuple[ReportTable, ...] = ()
    figures: tuple[ReportFigure, ...] = ()


@attrs.frozen
class LeftOut:
    """A section that could not be computed on the data, and why (one line)."""

    title: str
    key: str
    reason: str


@attrs.frozen(repr=False)
class CXReport(Result):
    """A CX report: sections computed from one log as of one instant.

    ``str(report)`` is the plain-text form (characters of the data that are not printable,
    such as a terminal's escape sequences or a newline in a name, written as their escapes);
    :meth:`to_html` (and ``_repr_html_``) the page; ``left_out`` the sections the data could
    not support, each with the reason.
    """

    as_of: Any
    sections: tuple[ReportSection, ...]
    left_out: tuple[LeftOut, ...] = ()

    def __str__(self) -> str:
        labelled = [label for s in self.sections for label, _ in s.rows]
        labelled += [card.label for s in self.sections for card in s.cards]
        width = min(max((len(label) for label in labelled), default=10), 44)
        lines = [f"cxmodel CX report, as of {self.as_of:%Y-%m-%d %H:%M} UTC"]
        for section in self.sections:
            lines += ["", section.title, "-" * len(section.title)]
            if section.lead:
                lines.append(f"  {section.lead}")
            lines += [f"  {card.label:<{width}}  {card.text()}" for card in section.cards]
            lines += [f"  {label:<{width}}  {value}" for label, value in section.rows]
            for table in section.tables:
                lines += ["", *_text_table(table)]
            if section.note:
                lines.append(f"  ({section.note})")
        if self.left_out:
            lines += ["", "Left out", "--------"]
            lines += [f"  {item.title}: {item.reason}" for item in self.left_out]
        return "\n".join(printable(line) for line in lines)

    def _rows(self) -> dict[Any, Any]:
        """One row per figure of the report: its section, label and value as text."""
        lines = [
            (s.title, label, value)
            for s in self.sections
            for label, value in [*((c.label, c.text()) for c in s.cards), *s.rows]
        ]
        return {name: [line[i] for line in lines] for i, name in enumerate(_LINE)}

    def to_dict(self) -> dict[str, Any]:
        """Sections as nested dictionaries (cards and rows by label), and the sections left out."""
        return {
            "as_of": self.as_of.isoformat(),
            "sections": {
                s.title: {**{c.label: c.text() for c in s.cards}, **dict(s.rows)}
                for s in self.sections
            },
            "left_out": {item.title: item.reason for item in self.left_out},
        }

    def to_html(self, *, figures: bool = True) -> str:
        """The report as one self-contained HTML page.

        CSS and figures (SVG) are inline; the page loads nothing from the network and needs no
        JavaScript. Figures need matplotlib (``pip install "cxmodel[plot]"``); without it, or
        with ``figures=False``, the page says so and shows the numbers only.

        Parameters
        ----------
        figures : bool, default True
            Draw the figures of the sections whose results can plot themselves.

        Returns
        -------
        str
            The page, starting with ``<!doctype html>``.

        Examples
        --------
        >>> import cxmodel as cx
        >>> log = cx.InteractionLog.from_arrays(customer_id=["a"], timestamp=[0], kind=["view"])
        >>> page = cx_report(log).to_html(figures=False)
        >>> page.startswith("<!doctype html>"), "<script" in page, "id='overview'" in page
        (True, False, True)
        """
        from cxmodel.report._html import render

        return render(self, figures=flag(figures, "to_html()", "figures"))

    def _repr_html_(self) -> str:
        """A report shows itself as its page, in a frame of its own (``srcdoc``): its style
        sheet then styles the page only, not the notebook around it."""
        page = html.escape(self.to_html(), quote=True)
        return (
            f'<iframe srcdoc="{page}" title="cxmodel CX report" '
            'style="width: 100%; height: 80vh; border: 1px solid #ddd"></iframe>'
        )


_LINE = ("section", "label", "value")


def _text_table(table: ReportTable) -> list[str]:
    cells = [tuple(printable(c) for c in row) for row in (table.columns, *table.rows)]
    widths = [min(max(len(row[i]) for row in cells), 48) for i in range(len(table.columns))]
    lines = ["  " + "  ".join(f"{c:<{w}}" for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "  " + "  ".join("-" * w for w in widths))
    if table.more:
        lines.append(f"  {table.more}")
    return lines


_NOTE_WARNINGS = ("SmallSampleWarning", "DataWarning", "ConvergenceWarning")


def _build(
    build: Callable[[Any], ReportSection | str], context: Any, title: str
) -> tuple[ReportSection | str, list[str]]:
    """Run one section builder: cxmodel's own warnings become notes, a data error a reason."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            outcome = build(context)
        except CXModelError as exc:  # the data cannot support this section (a fit, a rule)
            lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
            first = lines[0] if lines else type(exc).__name__
            if first.endswith(":") and len(lines) > 1:  # "2 errors:" says nothing by itself
                first = f"{first} {lines[1]}"
            outcome = f"could not be computed on this data ({first})"
    notes: list[str] = []
    for w in caught:
        if type(w.message).__name__ in _NOTE_WARNINGS:
            text = str(w.message).split(";")[0].strip()
            if text not in notes:
                notes.append(text)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return outcome, notes


def cx_report(log: InteractionLog, *, as_of: TimeLike | None = None) -> CXReport:
    """Compute the CX report of ``log`` as of ``as_of`` (default: the log's last interaction).

    Only interactions at or before ``as_of`` are used. A section the data cannot support (no
    purchases, no surveys, too short a history, a model that cannot be fitted) is left out and
    listed in :attr:`CXReport.left_out` with the reason; the report itself does not fail on a
    valid log.

    Parameters
    ----------
    log : InteractionLog
    as_of : time-like, optional
        The report date.

    Returns
    -------
    CXReport

    Raises
    ------
    DataError
        When the log has no interaction at or before ``as_of``.

    Examples
    --------
    >>> import cxmodel as cx
    >>> log = cx.InteractionLog.from_arrays(
    ...     customer_id=["a", "a", "b"], timestamp=[0, 86_400, 172_800],
    ...     kind=["purchase", "purchase", "view"], value=[10.0, 12.5, float("nan")])
    >>> report = cx_report(log)
    >>> [s.title for s in report.sections][:2]
    ['Overview', 'Key indicators']
    >>> "no survey answers" in str(report)
    True
    """
    log = interaction_log(log, "cx_report()")
    from cxmodel.report._sections import SECTIONS, Context

    if len(log) == 0:
        raise DataError("cx_report() needs a log with at least one interaction")
    cutoff = int(log.timestamps.max()) if as_of is None else as_of_us(as_of)
    seen = log.filter(log.timestamps <= cutoff)
    if len(seen) == 0:
        raise DataError(
            f"cx_report() needs interactions at or before as_of; the log starts after "
            f"{us_to_datetime(cutoff):%Y-%m-%d %H:%M} UTC"
        )
    context = Context(seen, cutoff, len(log.rejected))
    sections: list[ReportSection] = []
    left_out: list[LeftOut] = []
    for key, title, build in SECTIONS:
        outcome, notes = _build(build, context, title)
        if isinstance(outcome, str):
            left_out.append(LeftOut(title, key, outcome))
            continue
        if notes:
            note = "; ".join(filter(None, (outcome.note, *notes)))
            outcome = attrs.evolve(outcome, note=note)
        sections.append(attrs.evolve(outcome, key=key))
    return CXReport(context.as_of, tuple(sections), tuple(left_out))
