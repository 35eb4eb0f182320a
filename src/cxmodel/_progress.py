"""Progress bars for long work, shown only when asked for (``progress=True``).

tqdm (the ``progress`` extra) is imported on first use; with ``progress=False`` (every default)
nothing is imported and nothing is printed. Dask jobs use Dask's own progress reporting.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from cxmodel._optional import import_optional

__all__ = ["NullBar", "dask_compute", "progress_bar"]


class NullBar:
    """A progress bar that shows nothing: the stand-in when progress is off.

    Examples
    --------
    >>> with NullBar() as bar:
    ...     bar.update(3)
    ...     bar.set_postfix_str("rows=3")
    """

    def update(self, n: float = 1) -> None:
        """Do nothing (a bar would advance by ``n``)."""

    def set_postfix_str(self, s: str = "", refresh: bool = True) -> None:
        """Do nothing (a bar would show ``s`` after its counter)."""

    def set_description_str(self, desc: str | None = None, refresh: bool = True) -> None:
        """Do nothing (a bar would show ``desc`` before its counter)."""

    def close(self) -> None:
        """Do nothing (a bar would print its final state)."""

    def __enter__(self) -> NullBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress_bar(
    enabled: bool,
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    feature: str = "progress=True",
) -> Any:
    """A tqdm progress bar on standard error when ``enabled``, else a :class:`NullBar`.

    Parameters
    ----------
    enabled : bool
        The caller's ``progress`` argument.
    desc : str
        The label before the counter, e.g. ``"BetaGeo fit"``.
    total : int, optional
        The number of steps when known (a percentage is shown), else a plain counter.
    unit : str
        What one step is, e.g. ``"rule"`` or ``"iter"``.
    feature : str
        What asks for the bar, for the error when tqdm is missing.

    Returns
    -------
    tqdm.tqdm or NullBar
        Use it as a context manager; ``update(n)`` advances it.

    Raises
    ------
    MissingDependencyError
        When ``enabled`` and tqdm is not installed (``pip install "cxmodel[progress]"``).

    Examples
    --------
    >>> with progress_bar(False, desc="nothing shown", total=2) as bar:
    ...     bar.update()
    >>> type(bar).__name__
    'NullBar'
    """
    if not enabled:
        return NullBar()
    tqdm = import_optional("tqdm", feature)
    return tqdm.tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=True)


def _distributed_client() -> Any:
    """The active ``distributed`` client, or None (none running, or distributed absent)."""
    try:
        distributed = import_optional("distributed", "progress=True")
    except ImportError:
        return None
    try:
        return distributed.default_client()
    except ValueError:
        return None


def dask_compute(dask: Any, *collections: Any, progress: bool = False) -> tuple[Any, ...]:
    """``dask.compute(*collections)``, with Dask's own progress bar when ``progress``.

    Without ``progress`` this is exactly ``dask.compute``. With it, a running
    ``distributed`` client computes the collections as futures shown by
    ``distributed.progress`` (text on standard output outside a notebook); otherwise the local
    scheduler runs under ``dask.diagnostics.ProgressBar`` (on standard error).

    Examples
    --------
    >>> import dask
    >>> dask_compute(dask, dask.delayed(40) + 2)
    (42,)
    """
    if not progress:
        return tuple(dask.compute(*collections))
    client = _distributed_client()
    if client is not None:
        distributed = import_optional("distributed", feature="progress=True")
        futures = client.compute(list(collections))
        distributed.progress(futures, notebook=False)
        return tuple(client.gather(futures))
    diagnostics = import_optional("dask.diagnostics", feature="progress=True")
    with _dask_bar(diagnostics):
        return tuple(dask.compute(*collections))


def dask_persist(dask: Any, *collections: Any, progress: bool = False) -> tuple[Any, ...]:
    """``dask.persist(*collections)``, with Dask's own progress bar when ``progress``
    (``distributed.progress`` under a running client, else ``dask.diagnostics.ProgressBar``).

    Examples
    --------
    >>> import dask
    >>> (kept,) = dask_persist(dask, dask.delayed(40) + 2)
    >>> kept.compute()
    42
    """
    if not progress:
        return tuple(dask.persist(*collections))
    client = _distributed_client()
    if client is not None:
        distributed = import_optional("distributed", feature="progress=True")
        kept = tuple(dask.persist(*collections))
        distributed.progress(list(kept), notebook=False)
        return kept
    diagnostics = import_optional("dask.diagnostics", feature="progress=True")
    with _dask_bar(diagnostics):
        return tuple(dask.persist(*collections))


@contextlib.contextmanager
def _dask_bar(diagnostics: Any) -> Iterator[None]:
    with diagnostics.ProgressBar(out=sys.stderr):
        yield
