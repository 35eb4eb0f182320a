"""Reading and writing interaction data: CSV, JSON lines, Parquet, with schema mapping.

Readers validate every row. With ``errors="quarantine"`` rejected rows are kept, with their row
numbers and reasons, in ``log.rejected``, so accepted plus rejected equals the rows read.
"""

from cxmodel.io._readers import MAX_FIELD_CHARS, read_csv, read_jsonl, read_parquet
from cxmodel.io._sources import MAX_LINE_BYTES
from cxmodel.io._writers import write_csv, write_parquet

__all__ = [
    "MAX_FIELD_CHARS",
    "MAX_LINE_BYTES",
    "read_csv",
    "read_jsonl",
    "read_parquet",
    "write_csv",
    "write_parquet",
]
