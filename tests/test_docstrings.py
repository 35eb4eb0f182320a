"""Public functions with three or more parameters document each in a numpydoc ``Parameters``
section (read from their ``__doc__``, over the ``__all__`` of every package)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

import pytest

import cxmodel

MIN_PARAMETERS = 3

NOT_YET: dict[str, str] = {}
"""Functions whose docstrings live in modules being rewritten (strict: once documented, the
entry must go)."""


def public_functions() -> dict[str, Callable[..., Any]]:
    """Every function named in the ``__all__`` of ``cxmodel`` and of its public packages, by
    the name a user imports it under (first package that exports it)."""
    names = ["cxmodel"] + [
        f"cxmodel.{m.name}"
        for m in pkgutil.iter_modules(cxmodel.__path__)
        if not m.name.startswith("_")
    ]
    found: dict[str, Callable[..., Any]] = {}
    seen: set[int] = set()
    for name in names:
        module = importlib.import_module(name)
        for attr in module.__all__:
            obj = getattr(module, attr)
            if inspect.isfunction(obj) and id(obj) not in seen:
                seen.add(id(obj))
                found[f"{name}.{attr}"] = obj
    return found


def documented_parameters(doc: str | None) -> set[str] | None:
    """The names in the numpydoc ``Parameters`` section of ``doc`` (``None``: no section).

    An entry is a line at the section's indentation, ``name : type`` or ``a, b : type``;
    stars of ``*args`` and ``**kwargs`` are dropped.
    """
    lines = inspect.cleandoc(doc or "").splitlines()
    starts = [
        i
        for i in range(len(lines) - 1)
        if lines[i].strip() == "Parameters" and set(lines[i + 1].strip()) == {"-"}
    ]
    if not starts:
        return None
    names: set[str] = set()
    body = lines[starts[0] + 2 :]
    for i, line in enumerate(body):
        if i + 1 < len(body) and line.strip() and set(body[i + 1].strip()) == {"-"}:
            break  # the next section's title
        if line and not line[0].isspace():
            entry = line.split(" : ", 1)[0]
            names |= {part.strip().lstrip("*") for part in entry.split(",")}
    return names


def parameter_names(function: Callable[..., Any]) -> list[str]:
    return list(inspect.signature(function).parameters)


FUNCTIONS = public_functions()
CHECKED = sorted(name for name, f in FUNCTIONS.items() if len(parameter_names(f)) >= MIN_PARAMETERS)


def test_documented_parameters_reads_a_section() -> None:
    """The parser reads entries, grouped names and stars, and stops at the next section."""
    doc = """Summary.

    Parameters
    ----------
    log : InteractionLog
        The interactions.
    low, high : float
        Bounds.
    **options
        Passed on.

    Returns
    -------
    result : float
    """
    assert documented_parameters(doc) == {"log", "low", "high", "options"}
    assert documented_parameters("No sections.") is None


def test_not_yet_is_current() -> None:
    """Every function listed as not yet documented exists and still lacks its section."""
    stale = [
        name
        for name in NOT_YET
        if name not in FUNCTIONS
        or set(parameter_names(FUNCTIONS[name]))
        <= (documented_parameters(FUNCTIONS[name].__doc__) or set())
    ]
    assert stale == []


@pytest.mark.parametrize("name", [n for n in CHECKED if n not in NOT_YET])
def test_parameters_are_documented(name: str) -> None:
    """A ``Parameters`` section names every parameter."""
    function = FUNCTIONS[name]
    documented = documented_parameters(function.__doc__)
    assert documented is not None, f"{name} has no Parameters section"
    missing = [p for p in parameter_names(function) if p not in documented]
    assert missing == [], f"{name}: {missing} not in its Parameters section"
