"""Figures of the HTML report: a result's ``.plot(ax=ax)`` rendered to an inline SVG string.

matplotlib's SVG backend is driven directly (``Figure`` + ``FigureCanvasSVG``), so rendering
never touches pyplot's global state or the user's interactive backend.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Callable
from typing import Any

from cxmodel.errors import CXModelError

__all__ = ["can_plot", "has_matplotlib", "svg"]

_SVG_TAG = re.compile(r"<svg\b[^>]*>")
# what a page does not need of an SVG file: its size, its namespace declarations (the HTML
# parser puts inline SVG in its namespace) and its RDF metadata, which name web addresses
_FILE_ONLY = re.compile(r'\s(width|height|xmlns(:\w+)?)="[^"]*"')
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)
_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(|href=")#([^")]+)')
# a tag of matplotlib's SVG: the text it draws has its "<" and ">" escaped, so a name from the
# data that reads like an attribute (a kind named 'x id="y"') is never taken for one
_TAG = re.compile(r"<[^<>]*>")
_MISSING_GLYPH = r"Glyph \d+ .* missing from font"


def can_plot(result: object) -> bool:
    """Whether ``result`` offers ``.plot(ax=...)`` (the figures of the report use nothing else).

    Examples
    --------
    >>> class Curve:
    ...     def plot(self, ax=None):
    ...         return ax
    >>> can_plot(Curve()), can_plot(object())
    (True, False)
    """
    return callable(getattr(result, "plot", None))


def has_matplotlib() -> bool:
    """Whether matplotlib (the ``plot`` extra) can be imported.

    Examples
    --------
    >>> isinstance(has_matplotlib(), bool)
    True
    """
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def svg(
    draw: Callable[[Any], object],
    *,
    width: float = 6.4,
    height: float = 3.6,
    id_prefix: str = "fig-",
) -> str:
    """Draw on a fresh matplotlib Axes and return the figure as inline ``<svg>`` markup.

    Parameters
    ----------
    draw : callable
        Receives the Axes, e.g. ``lambda ax: result.plot(ax=ax)``; its return value is ignored.
    width, height : float
        Figure size in inches; the markup scales to its container (``width="100%"`` with a
        ``viewBox``), so these set the aspect ratio and the text size relative to the plot.
    id_prefix : str
        Prefix of every element id (and reference to one), unique per figure of a page.

    Returns
    -------
    str
        An ``<svg>`` element without XML prolog or DOCTYPE, text kept as text, and element ids
        prefixed uniquely so that several figures can share one page.

    Examples
    --------
    >>> markup = svg(lambda ax: ax.plot([0, 1], [1, 0]))
    >>> markup.startswith("<svg") and 'width="100%"' in markup
    True
    """
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    rc: Any = {"svg.fonttype": "none", "svg.hashsalt": "cxmodel-report", "font.size": 9.0}
    with matplotlib.rc_context(rc), warnings.catch_warnings():
        # the text stays text, drawn by the browser in its own fonts: a glyph matplotlib's
        # font lacks (Chinese, Devanagari names) is no concern of the page
        warnings.filterwarnings("ignore", _MISSING_GLYPH, UserWarning)
        figure = Figure(figsize=(width, height), layout="constrained")
        FigureCanvasSVG(figure)
        ax = figure.add_subplot()
        draw(ax)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return _inline(buffer.getvalue(), id_prefix)


def _inline(document: str, prefix: str) -> str:
    """An SVG document as an element that can sit in HTML next to others: without size,
    namespace declarations or metadata, so the page names no web address.

    Examples
    --------
    >>> doc = ('<?xml version="1.0"?>\\n<svg width="10pt" height="5pt" viewBox="0 0 10 5" '
    ...        'xmlns="http://www.w3.org/2000/svg"><metadata><rdf:RDF/></metadata>'
    ...        '<g id="a" clip-path="url(#a)"><use xlink:href="#a"/></g></svg>')
    >>> _inline(doc, "x-")
    '<svg width="100%" viewBox="0 0 10 5" role="img"><g id="x-a" clip-path="url(#x-a)"><use xlink:href="#x-a"/></g></svg>'
    """
    start = document.find("<svg")
    body = document[start:]
    tag = _SVG_TAG.search(body)
    if tag is None:  # pragma: no cover - matplotlib always writes one
        raise CXModelError("matplotlib wrote no <svg> element")
    head = _FILE_ONLY.sub("", tag.group(0))
    head = head.replace("<svg", '<svg width="100%"', 1).replace(">", ' role="img">', 1)
    body = head + _METADATA.sub("", body[tag.end() :], count=1)
    return _TAG.sub(lambda tag: _prefixed(tag.group(), prefix), body)


def _prefixed(tag: str, prefix: str) -> str:
    """One tag with its element id, and its references to ids, prefixed.

    Examples
    --------
    >>> _prefixed('<g id="a" clip-path="url(#b)">', "x-")
    '<g id="x-a" clip-path="url(#x-b)">'
    """
    tag = _ID.sub(lambda m: f'id="{prefix}{m.group(1)}"', tag)
    return _REF.sub(lambda m: f"{m.group(1)}#{prefix}{m.group(2)}", tag)
