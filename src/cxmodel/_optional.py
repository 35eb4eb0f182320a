"""Lazy import of optional dependencies with an error that names the extra to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from cxmodel.errors import MissingDependencyError

__all__ = ["import_optional"]

_EXTRA_OF = {
    "pandas": "pandas",
    "pyarrow": "arrow",
    "pyarrow.csv": "arrow",
    "pyarrow.parquet": "arrow",
    "polars": "polars",
    "dask": "dask",
    "distributed": "dask",
    "matplotlib": "plot",
    "matplotlib.pyplot": "plot",
    "sklearn": "ml",
    "sklearn.cluster": "ml",
    "tqdm": "progress",
    "tqdm.auto": "progress",
    "vaderSentiment": "text",
}


def import_optional(module: str, feature: str) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``"pandas"``.
    feature : str
        What needs it, for the message, e.g. ``"to_pandas()"``.

    Raises
    ------
    MissingDependencyError
        When the module cannot be imported.

    Examples
    --------
    >>> import_optional("json", "the example").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        extra = _EXTRA_OF.get(module, _EXTRA_OF.get(top, top))
        raise MissingDependencyError(
            f'{feature} requires {top}: pip install "cxmodel[{extra}]"'
        ) from exc
