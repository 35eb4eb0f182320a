"""Writers: an InteractionLog to CSV or Parquet, in log order, timestamps in UTC ISO-8601."""

from __future__ import annotations

import csv
import os
from typing import Any

import numpy as np

from cxmodel._arguments import file_path, interaction_log
from cxmodel._optional import import_optional
from cxmodel._spreadsheet import spreadsheet_column
from cxmodel.log import InteractionLog
from cxmodel.log._columns import is_missing

__all__ = ["write_csv", "write_parquet"]


def _iso(us: np.ndarray[Any, np.dtype[np.int64]]) -> np.ndarray[Any, Any]:
    text = np.datetime_as_string(us.astype("datetime64[us]"), unit="us")
    return np.char.add(text.astype(str), "+00:00")


def write_csv(log: InteractionLog, path: str | os.PathLike[str]) -> None:
    """Write the log as CSV with a header; missing values are empty fields.

    A text cell a spreadsheet would run as a formula (one starting with ``=``, ``+``, ``-``,
    ``@``, a tab or a carriage return: a customer id ``=HYPERLINK(...)``) is written with a
    single quote before it, as OWASP advises against CSV injection, and so is a text cell that
    starts with a single quote itself; :func:`~cxmodel.io.read_csv` takes these quotes off, so
    the text reads back as it was. Numbers (``value``, a float column's ``-5.0``), booleans and
    timestamps are written as they are.

    CSV holds no types: :func:`cxmodel.read_csv` reads ``value``, ``score`` and ``sentiment``
    as numbers and every other column as text, so reading back a log with other number
    columns (a ``discount``) needs their types, ``dtypes=log.schema``, to give an equal log.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from cxmodel.io import read_csv
    >>> log = InteractionLog.from_records([{"customer_id": "007", "timestamp":
    ...     "2024-01-01T00:00:00Z", "kind": "purchase", "value": 9.5, "discount": 0.5}])
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "log.csv"
    >>> write_csv(log, path)
    >>> read_csv(path).schema["discount"]
    'string'
    >>> read_csv(path, dtypes=log.schema) == log
    True
    >>> risky = InteractionLog.from_records([{"customer_id": "=1+1", "timestamp":
    ...     "2024-01-01T00:00:00Z", "kind": "survey", "sentiment": -0.5, "note": "'quoted"}])
    >>> write_csv(risky, path)
    >>> print(path.read_text().splitlines()[1])
    '=1+1,2024-01-01T00:00:00.000000+00:00,survey,''quoted,-0.5
    >>> read_csv(path) == risky
    True
    """
    log = interaction_log(log, "write_csv()")
    path = file_path(path, "write_csv()")
    names = list(log.columns)
    columns: list[np.ndarray[Any, Any]] = []
    for name in names:
        if name == "timestamp":
            columns.append(_iso(log.timestamps))
        elif log.schema[name] == "float":
            values = log.numeric(name)
            text = np.array([repr(float(v)) for v in values], dtype=object)
            text[np.isnan(values)] = ""
            columns.append(text)
        elif log.schema[name] == "bool":
            decoded = log.column(name)
            decoded[is_missing(decoded)] = ""
            columns.append(decoded)
        else:  # text: each distinct value made safe for a spreadsheet once
            codes, categories = log.categorical(name)
            safe = spreadsheet_column(np.asarray(categories, dtype=object))
            columns.append(np.append(safe, "").astype(object)[codes])
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        writer.writerows(zip(*columns))


def write_parquet(log: InteractionLog, path: str | os.PathLike[str]) -> None:
    """Write the log as Parquet (needs the ``arrow`` extra); dictionary encoding is kept, and
    the log's ``observed_until`` is kept in the schema metadata, for
    :func:`~cxmodel.io.read_parquet` to restore."""
    log = interaction_log(log, "write_parquet()")
    path = file_path(path, "write_parquet()")
    pq = import_optional("pyarrow.parquet", "write_parquet()")
    pq.write_table(log.to_arrow(), path)
