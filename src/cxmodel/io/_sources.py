"""The input a reader is given: a file or a pipe, read with a bound on the length of a line.

A reader holds its input in memory, so an input without an end runs out of memory instead of
failing: ``/dev/zero``, ``/dev/urandom`` or a terminal given as the data file, a gzip file
that decompresses to gigabytes of one byte, a line of gigabytes. :func:`read_source` reads
regular files and pipes (a named pipe, ``/dev/stdin`` fed by another command, a shell's
``<(...)``), and the process's own standard input whatever it is; it refuses devices,
sockets and directories, and stops at the first line longer than :data:`MAX_LINE_BYTES`,
naming the file and the line. A regular uncompressed file no longer than the bound cannot
hold such a line and is read at once, without looking at its lines.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import stat
import zlib
from typing import BinaryIO

from cxmodel.errors import SchemaError

__all__ = ["MAGIC", "MAX_LINE_BYTES", "file_kind", "is_regular_file", "open_source", "read_source"]

MAX_LINE_BYTES = 64 * 2**20
"""The longest line (bytes, after decompression) an input may hold; a longer one is refused
with a :class:`~cxmodel.errors.SchemaError` naming the file and the line."""

_CHUNK = 2**20
MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)
_KINDS = (
    (stat.S_ISCHR, "a character device (such as /dev/zero or a terminal)"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a pipe"),
)


def open_source(source: str, what: str = "a file") -> io.BufferedReader:
    """``source`` opened for reading bytes, if it is a regular file, a pipe or this process's
    standard input; ``what`` names what the file should be in the message about a directory.

    Raises
    ------
    SchemaError
        If ``source`` is a directory, a device or a socket.

    Examples
    --------
    >>> open_source("/dev/zero")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: /dev/zero: is a character device (such as /dev/zero or a terminal), not a file or a pipe; give the path of a file, or pipe the data in (e.g. /dev/stdin)
    """
    try:
        handle = open(source, "rb")  # noqa: SIM115 - returned to the caller, who closes it
    except IsADirectoryError:
        raise SchemaError(f"{source}: is a directory; expected {what}") from None
    mode = os.fstat(handle.fileno()).st_mode
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or _is_stdin(handle):
        return handle
    handle.close()
    raise SchemaError(
        f"{source}: is {file_kind(mode)}, not a file or a pipe; give the path of a file, or pipe the "
        "data in (e.g. /dev/stdin)"
    )


def file_kind(mode: int) -> str:
    """What a file of ``st_mode`` ``mode`` is, in words ("a pipe", "a block device")."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def _is_stdin(handle: io.BufferedReader) -> bool:
    try:
        return os.path.samestat(os.fstat(handle.fileno()), os.fstat(0))
    except OSError:  # no standard input
        return False


def is_regular_file(source: str) -> bool:
    """Whether ``source`` is a regular file (which a reader may read again by its path; a
    pipe is read once)."""
    try:
        return stat.S_ISREG(os.stat(source).st_mode)
    except OSError:
        return False


def read_source(
    source: str, size: int = -1, *, decompress: bool = True, what: str = "a file"
) -> bytes:
    """The bytes of ``source`` (the first ``size`` of them, or all), decompressed when they
    start with a gzip, bz2 or xz header (only when reading all of them, and ``decompress``).

    Raises
    ------
    SchemaError
        If ``source`` is not a file or a pipe (:func:`open_source`; ``what`` as there), is
        zstd-compressed or does not decompress, or holds a line longer than
        :data:`MAX_LINE_BYTES`.
    """
    with open_source(source, what) as handle:
        if size >= 0 or not decompress:
            return _bounded(handle, source, size)
        start = handle.peek(8)[:8]  # a pipe's first write, at least a byte, unless empty
        name = next((name for magic, name in MAGIC if start.startswith(magic)), None)
        if name is None:
            found = os.fstat(handle.fileno())
            if stat.S_ISREG(found.st_mode) and found.st_size <= MAX_LINE_BYTES:
                return handle.read()  # no line can be too long: read at once
            return _bounded(handle, source)
        if name == "zstd":
            raise SchemaError(
                f"{source}: the file is zstd-compressed, which this Python cannot read; "
                "decompress it first (zstd -d) or use gzip, bz2 or xz"
            )
        opened = {"gzip": gzip.GzipFile, "bz2": bz2.BZ2File, "xz": lzma.LZMAFile}[name]
        try:
            with opened(fileobj=handle) if name == "gzip" else opened(handle) as stream:
                return _bounded(stream, source)
        except SchemaError:  # a line too long, decompressed
            raise
        except (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error) as exc:
            raise SchemaError(
                f"{source}: the file looks {name}-compressed but does not decompress ({exc})"
            ) from None


def _bounded(stream: BinaryIO, source: str, size: int = -1) -> bytes:
    """Read ``stream`` in chunks to its end (or ``size`` bytes), refusing a line longer than
    :data:`MAX_LINE_BYTES`: no more than the bound is held before that line is refused."""
    chunks: list[bytes] = []
    line = 1  # the line the last chunk read ends in
    run = 0  # the bytes of that line read so far
    left = size
    while left != 0:
        chunk = stream.read(_CHUNK if left < 0 else min(_CHUNK, left))
        if not chunk:
            break
        if left > 0:
            left -= len(chunk)
        first = chunk.find(b"\n")
        if first < 0:
            run += len(chunk)
        elif run + first > MAX_LINE_BYTES:  # the lines inside a chunk are shorter than it
            raise _too_long(source, line)
        else:
            line += chunk.count(b"\n")
            run = len(chunk) - chunk.rfind(b"\n") - 1
        if run > MAX_LINE_BYTES:
            raise _too_long(source, line)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_long(source: str, line: int) -> SchemaError:
    return SchemaError(
        f"{source}: line {line:,} is longer than {MAX_LINE_BYTES // 2**20} MiB; a data file "
        "holds one record per line: check that it is the data file (not a device, an image "
        "or an archive), or split the long field"
    )
