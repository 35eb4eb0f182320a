"""The read-only name -> value mappings of domain objects (customer traits, properties)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from cxmodel._arguments import got
from cxmodel.errors import SchemaError, ValueTypeError

__all__ = ["frozen_mapping"]


def frozen_mapping(value: Any, field: str) -> MappingProxyType[str, Any]:
    """A read-only copy of ``value``, a mapping with string keys, for the field ``field``.

    Examples
    --------
    >>> frozen_mapping({"plan": "pro"}, "traits")["plan"]
    'pro'
    >>> frozen_mapping(None, "traits")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: 'traits' must be a mapping of name to value (a dict); got NoneType None
    """
    if not isinstance(value, Mapping):
        raise ValueTypeError(
            f"{field!r} must be a mapping of name to value (a dict); got {got(value)}"
        )
    for key in value:
        if not isinstance(key, str) or not key.strip():
            raise SchemaError(f"{field!r}: every name must be a non-empty string; got {got(key)}")
    return MappingProxyType(dict(value))
