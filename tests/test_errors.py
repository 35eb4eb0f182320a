"""The package raises only its own errors, each refining the builtin a caller may catch."""

from __future__ import annotations

import ast
import builtins
from pathlib import Path

import numpy as np
import pytest

import cxmodel
from cxmodel.errors import (
    CXModelError,
    IndexOutOfRangeError,
    NotFoundError,
    SchemaError,
    ValueTypeError,
    did_you_mean,
)

SRC = Path(cxmodel.__file__).parent
BUILTIN_ERRORS = {
    name
    for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException)
}
# Python's own protocols: a module's __getattr__ must raise AttributeError.
ALLOWED = {("__init__.py", "AttributeError")}
PENDING: set[tuple[str, str]] = set()


def _builtin_raises() -> list[tuple[str, str, int]]:
    found = []
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Raise) or node.exc is None:
                continue
            target = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            if isinstance(target, ast.Name) and target.id in BUILTIN_ERRORS:
                found.append((path.relative_to(SRC).as_posix(), target.id, node.lineno))
    return found


def test_every_raise_is_a_cxmodel_error() -> None:
    """No module raises a bare builtin exception (apart from Python's own protocols)."""
    bare = [
        f"{path}:{line} raises {name}"
        for path, name, line in _builtin_raises()
        if (path, name) not in ALLOWED | PENDING
    ]
    assert bare == []


def test_private_exception_classes_derive_from_cxmodel_error() -> None:
    """Exception classes defined anywhere in the package derive from CXModelError."""
    import importlib
    import inspect

    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        module_name = "cxmodel." + ".".join(path.relative_to(SRC).with_suffix("").parts)
        module_name = module_name.removesuffix(".__init__")
        if module_name.startswith(
            ("cxmodel.dask", "cxmodel.plot", "cxmodel.cli.__main__", "cxmodel.__main__")
        ):
            continue  # optional dependencies, and the scripts that run the command line
        module = importlib.import_module(module_name)
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, Exception)
                and not issubclass(obj, Warning)
                and obj.__module__ == module_name
                and not issubclass(obj, CXModelError)
            ):
                offenders.append(f"{module_name}.{name}")
    assert offenders == []


class TestRefinedBuiltins:
    @pytest.mark.parametrize(
        ("error", "builtin"),
        [
            (NotFoundError, KeyError),
            (IndexOutOfRangeError, IndexError),
            (ValueTypeError, TypeError),
        ],
        ids=lambda c: c.__name__,
    )
    def test_error_refines_its_builtin(self, error: type, builtin: type) -> None:
        """Each error is a CXModelError and the builtin it refines."""
        assert issubclass(error, CXModelError) and issubclass(error, builtin)

    def test_not_found_reads_as_a_sentence(self) -> None:
        """NotFoundError's message is not quoted the way KeyError's is."""
        assert str(NotFoundError("no rule named 'x'")) == "no rule named 'x'"

    def test_did_you_mean(self) -> None:
        """The hint names the closest known name, or nothing."""
        assert did_you_mean("churnrisk", ["churn_risk", "vip"]) == "; did you mean 'churn_risk'?"
        assert did_you_mean("zzz", ["churn_risk"]) == ""


class TestLookups:
    def test_unknown_touchpoint_suggests_one(self) -> None:
        """A catalogue lookup of a misspelt touchpoint names the closest one."""
        from cxmodel.domain import DEFAULT_CATALOGUE

        name = next(iter(DEFAULT_CATALOGUE))
        with pytest.raises(NotFoundError, match=f"did you mean {name!r}"):
            DEFAULT_CATALOGUE[name + "x"]

    def test_unknown_rule_suggests_one(self) -> None:
        """RuleSet[name] of a misspelt rule lists the rules and suggests the closest."""
        from cxmodel.triggers import EXAMPLE_RULES, parse

        rules = parse(EXAMPLE_RULES)
        name = rules.names[0]
        with pytest.raises(NotFoundError, match=f"rules are: .*did you mean {name!r}"):
            rules[name[:-1]]

    def test_firing_index_out_of_range(self) -> None:
        """Firings[i] past the end raises IndexOutOfRangeError, still an IndexError."""
        from cxmodel.triggers import Firings

        with pytest.raises(IndexError, match="firing index 3 out of range for 0 firings"):
            Firings(())[3]

    def test_stop_words_of_unknown_language(self) -> None:
        """STOP_WORDS[language] of an unknown language lists the languages."""
        from cxmodel.text import STOP_WORDS

        with pytest.raises(NotFoundError, match="available"):
            STOP_WORDS["klingon"]
        assert STOP_WORDS.get("klingon") is None

    def test_unorderable_json_value(self) -> None:
        """A store refuses a value JSON cannot hold with a ValueTypeError."""
        from cxmodel.triggers._sqlite import _plain

        with pytest.raises(ValueTypeError, match="object is not JSON serialisable"):
            _plain(object())
        assert _plain(np.int64(3)) == 3

    def test_bad_firings_format(self) -> None:
        """write_firings with an unknown format raises a SchemaError naming it."""
        import io

        from cxmodel.triggers import Firings, write_firings

        with pytest.raises(SchemaError, match="'xml'"):
            write_firings(Firings(()), io.StringIO(), format="xml")
