"""Shared helpers for columnar result classes: ``to_dict``, ``to_pandas`` and an HTML preview."""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from cxmodel._html import html_cell, more_rows
from cxmodel._optional import import_optional

__all__ = ["columns_to_html", "columns_to_pandas"]


def columns_to_pandas(columns: Mapping[str, npt.NDArray[Any]], feature: str) -> Any:
    """A pandas DataFrame from named equal-length columns (pandas imported lazily)."""
    pd = import_optional("pandas", feature)
    return pd.DataFrame({name: np.asarray(values) for name, values in columns.items()})


def columns_to_html(title: str, columns: Mapping[str, npt.NDArray[Any]], limit: int = 10) -> str:
    """A small HTML table showing the first ``limit`` rows of named columns, then how many
    more there are."""
    names = list(columns)
    n = len(next(iter(columns.values()))) if names else 0
    head = "".join(f"<th>{html.escape(name)}</th>" for name in names)
    rows = []
    for i in range(min(n, limit)):
        cells = "".join(f"<td>{html_cell(columns[name][i])}</td>" for name in names)
        rows.append(f"<tr>{cells}</tr>")
    return (
        f"<p><b>{html.escape(title)}</b> ({n} rows)</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        + more_rows(n, len(rows))
    )
