"""Public functions' arguments checked where they come in: a log, table, path or name of the
wrong type gets a :class:`~cxmodel.errors.ValueTypeError` that names the argument, shows what
was given and says what to pass, instead of an ``AttributeError`` or ``TypeError`` from deep
inside a computation."""

from __future__ import annotations

import inspect
import numbers
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

import numpy as np
import numpy.typing as npt

from cxmodel.errors import SchemaError, ValueTypeError, did_you_mean

if TYPE_CHECKING:
    from cxmodel.log._customer_table import CustomerTable
    from cxmodel.log._log import InteractionLog

__all__ = [
    "boolean_mask",
    "customer_table",
    "event_flags",
    "file_path",
    "finite_values",
    "flag",
    "flat_labels",
    "float_array",
    "got",
    "integer",
    "interaction_log",
    "is_integer",
    "known_options",
    "label_array",
    "mapping_value",
    "method_of",
    "missing_label",
    "missing_labels",
    "name_sequence",
    "of_type",
    "positive_integer",
    "random_seed",
    "real",
    "share",
    "text_value",
]


def got(value: Any) -> str:
    """``value``'s type and a short ``repr`` on one line, for messages.

    Examples
    --------
    >>> got([1, 2])
    'list [1, 2]'
    >>> class Frame:
    ...     def __repr__(self) -> str:
    ...         return "   a\\n0  1"
    >>> got(Frame())
    'Frame a 0 1'
    """
    shown = repr(value)
    if "\n" in shown:  # a table's repr: one line (text's repr has its newlines escaped)
        shown = " ".join(shown.split())
    return f"{type(value).__name__} {shown[:60] + '...' if len(shown) > 60 else shown}"


def interaction_log(log: Any, where: str, name: str = "log") -> InteractionLog:
    """``log`` if it is an :class:`~cxmodel.log.InteractionLog`.

    Examples
    --------
    >>> interaction_log([{"customer_id": "a"}], "nps()")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: nps(): log must be an InteractionLog; got list [{'customer_id': 'a'}]: build one with InteractionLog.from_records, from_arrays, from_pandas or read_csv
    """
    from cxmodel.log._log import InteractionLog  # the log imports this module

    if isinstance(log, InteractionLog):
        return log
    if isinstance(getattr(log, "log", None), InteractionLog):
        raise ValueTypeError(
            f"{where}: {name} must be an InteractionLog; got {type(log).__name__}, which holds "
            "one: pass its .log"
        )
    hint = (
        "InteractionLog.from_pandas(frame)"
        if type(log).__name__ == "DataFrame"
        else "InteractionLog.from_records, from_arrays, from_pandas or read_csv"
    )
    raise ValueTypeError(
        f"{where}: {name} must be an InteractionLog; got {got(log)}: build one with {hint}"
    )


def customer_table(table: Any, where: str, name: str = "table") -> CustomerTable:
    """``table`` if it is a :class:`~cxmodel.log.CustomerTable`."""
    from cxmodel.log._customer_table import CustomerTable  # the log imports this module

    if isinstance(table, CustomerTable):
        return table
    raise ValueTypeError(
        f"{where}: {name} must be a CustomerTable; got {got(table)}: build one with "
        "CustomerTable.from_log(log, as_of=...) or log.customers_table(as_of)"
    )


def file_path(path: Any, where: str, name: str = "path") -> str:
    """``path`` (text or a path object) as text; a number (a file descriptor) is refused."""
    if isinstance(path, (str, os.PathLike)):
        fspath = os.fspath(path)
        if isinstance(fspath, str) and fspath:
            return fspath
    raise ValueTypeError(
        f"{where}: {name} must be a file path (text or pathlib.Path); got {got(path)}"
    )


def text_value(value: Any, where: str, name: str) -> str:
    """``value`` if it is non-empty text."""
    if isinstance(value, str) and value:
        return value
    raise ValueTypeError(f"{where}: {name} must be non-empty text; got {got(value)}")


def of_type(value: Any, kind: type | tuple[type, ...], where: str, name: str, hint: str) -> Any:
    """``value`` if it is an instance of ``kind``; ``hint`` says where one comes from."""
    if isinstance(value, kind):
        return value
    raise ValueTypeError(f"{where}: {name} must be {hint}; got {got(value)}")


def name_sequence(
    value: Any, where: str, name: str, *, at_least_one: bool = False
) -> tuple[str, ...]:
    """One name or a sequence of names (text) as a tuple; with ``at_least_one``, an empty
    sequence is refused (the caller's answer would be empty without a word).

    Examples
    --------
    >>> name_sequence("purchase", "f()", "kinds"), name_sequence(["view", "purchase"], "f()", "kinds")
    (('purchase',), ('view', 'purchase'))
    >>> name_sequence(5, "f()", "kinds")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: f(): kinds must be a name or a sequence of names (text); got int 5
    >>> name_sequence([], "f()", "model", at_least_one=True)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): model names nothing (got []); name at least one
    """
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (list, tuple, np.ndarray)):  # not a set, a mapping or an iterator
        items = tuple(value)
        if at_least_one and not items:
            raise SchemaError(f"{where}: {name} names nothing (got {value!r}); name at least one")
        if all(isinstance(item, str) for item in items):
            return items
    raise ValueTypeError(
        f"{where}: {name} must be a name or a sequence of names (text); got {got(value)}"
    )


def is_integer(value: object) -> TypeGuard[numbers.Integral]:
    """Whether ``value`` is an integer: Python's ``int`` or a numpy integer such as
    ``np.int64`` (what arithmetic on numpy arrays gives); a bool or a whole float is not.

    Examples
    --------
    >>> is_integer(np.int64(5)), is_integer(True), is_integer(5.0)
    (True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def integer(value: Any, where: str, name: str, *, minimum: int | None = None) -> int:
    """``value`` as an int (a bool or a float is refused), at least ``minimum``.

    Examples
    --------
    >>> integer(0, "f()", "top", minimum=1)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): top must be at least 1; got 0
    """
    if not is_integer(value):
        raise ValueTypeError(f"{where}: {name} must be an integer; got {got(value)}")
    number = int(value)
    if minimum is not None and number < minimum:
        raise SchemaError(f"{where}: {name} must be at least {minimum}; got {number}")
    return number


def positive_integer(value: Any, where: str, name: str) -> int:
    """``value`` as an int of at least 1: a count such as ``top`` or ``steps``.

    Python's and numpy's integers are taken (a count computed with numpy is an ``np.int64``);
    anything else, a bool or a float included, is a :class:`~cxmodel.errors.SchemaError`
    naming the argument, as the journey and segment analyses have always raised for a count.

    Examples
    --------
    >>> positive_integer(np.int64(5), "paths()", "top")
    5
    >>> positive_integer(2.0, "paths()", "top")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: paths(): top=2.0; expected a positive integer
    """
    if is_integer(value) and int(value) >= 1:
        return int(value)
    raise SchemaError(f"{where}: {name}={value!r}; expected a positive integer")


def flag(value: Any, where: str, name: str) -> bool:
    """``value`` as a bool: Python's ``True`` and ``False`` or a numpy bool; anything else
    (text such as ``"no"``, ``0``, ``None``) is refused rather than read by its truth.

    Examples
    --------
    >>> flag(np.bool_(False), "transitions()", "start_end")
    False
    >>> flag("no", "transitions()", "start_end")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: transitions(): start_end must be True or False; got str 'no'
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueTypeError(f"{where}: {name} must be True or False; got {got(value)}")


def boolean_mask(value: Any, rows: int, what: str) -> npt.NDArray[np.bool_]:
    """``value`` as a row mask: a boolean array with one value per row, ``rows`` of them.

    ``what`` names the mask in the error, e.g. ``"segment"`` or ``"usage 'late': a mask"``.

    Examples
    --------
    >>> boolean_mask([True, False], 2, "segment").tolist()
    [True, False]
    >>> boolean_mask([1, 0], 2, "segment")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: segment must be a boolean array of shape (2,) (one value per log row); got dtype int64 and shape (2,)
    """
    mask = np.asarray(value)
    if mask.dtype != np.bool_ or mask.shape != (rows,):
        raise SchemaError(
            f"{what} must be a boolean array of shape ({rows},) (one value per log row); "
            f"got dtype {mask.dtype} and shape {mask.shape}"
        )
    return mask


def known_options(
    options: Mapping[str, Any],
    function: Callable[..., Any],
    where: str,
    *,
    set_here: Iterable[str] = (),
) -> None:
    """Refuse a keyword in ``options`` (a caller's ``**options``, passed on to ``function``)
    that ``function`` does not take or that the caller sets itself (``set_here``): Python's
    own error would name ``function``, not the call the user wrote, and give no hint.

    Examples
    --------
    >>> def paths(log, *, top=20, level="kind"): ...
    >>> known_options({"tp": 3}, paths, "compare_paths()", set_here=["log"])
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: compare_paths(): unknown option 'tp' (passed on to paths()); did you mean 'top'? It takes: level, top
    """
    taken = {
        name
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
    } - set(set_here)
    for name in options:
        if name not in taken:
            hint = did_you_mean(name, taken)
            also = f"{hint} It takes" if hint else "; it takes"
            raise SchemaError(
                f"{where}: unknown option {name!r} (passed on to {function.__name__}())"
                f"{also}: {', '.join(sorted(taken))}"
            )


def mapping_value(value: Any, where: str, name: str) -> Mapping[Any, Any]:
    """``value`` if it is a mapping (``None``: an empty one)."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise ValueTypeError(f"{where}: {name} must be a mapping (a dict); got {got(value)}")


def float_array(
    value: Any, where: str, name: str, *, ndim: int | None = None
) -> npt.NDArray[np.float64]:
    """``value`` as a float64 array (of ``ndim`` dimensions, if given); text (even text of a
    number, which numpy would read), complex numbers and other objects that are not real
    numbers are refused.

    Examples
    --------
    >>> float_array(5.0, "f()", "durations", ndim=1)
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): durations must be a 1-d array or a list of numbers; got shape ()
    >>> float_array(["1", "2"], "f()", "durations")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: f(): durations must be numbers (an array or a list); got list ['1', '2']: text is not a number here
    """

    def expected() -> str:  # built only to refuse: the repr of a large array takes time
        return f"{where}: {name} must be numbers (an array or a list); got {got(value)}"

    try:
        given = np.asarray(value)
    except (TypeError, ValueError) as error:  # nested lists of different lengths
        raise ValueTypeError(expected()) from error
    refused = _not_real(given)
    if refused is not None:
        raise ValueTypeError(f"{expected()}: {refused}")
    try:
        array = np.asarray(given, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueTypeError(expected()) from error
    if ndim is not None and array.ndim != ndim:
        shape = "a list of numbers" if ndim == 1 else "a table of numbers (rows, columns)"
        raise SchemaError(
            f"{where}: {name} must be a {ndim}-d array or {shape}; got shape {array.shape}"
        )
    return array


def label_array(labels: Any) -> npt.NDArray[Any]:
    """``np.asarray(labels)``, except that a list of text with something else in it (a NaN
    for a missing label, a number) stays those objects: numpy would make them all text, a NaN
    the label ``'nan'``.

    Examples
    --------
    >>> label_array(["a", float("nan")]).tolist()
    ['a', nan]
    >>> label_array(["a", "b"]).dtype.kind
    'U'
    """
    array = np.asarray(labels)
    if (
        array.dtype.kind in "US"
        and not isinstance(labels, np.ndarray)
        and not all(isinstance(x, str) for x in _items(labels))
    ):
        return np.asarray(labels, dtype=object)
    return array


def _items(values: Any) -> Iterable[Any]:
    """The items of a list, tuple or other iterable that numpy made an array of."""
    return values if isinstance(values, (list, tuple)) else list(values)


def missing_labels(labels: npt.NDArray[Any], also: object = None) -> npt.NDArray[np.bool_]:
    """Which of ``labels`` are missing: None, NaN, ``NaT``, pandas' ``NA`` (whose truth value
    raises, so no ``x != x`` over the array finds it), and ``also`` when given (the label a
    table writes for missing ones).

    Examples
    --------
    >>> missing_labels(np.array(["a", None, float("nan")], dtype=object)).tolist()
    [False, True, True]
    """
    if labels.dtype.kind == "f":
        return np.asarray(np.isnan(labels), dtype=bool)
    if labels.dtype.kind in "mM":
        return np.asarray(np.isnat(labels), dtype=bool)
    if labels.dtype.kind != "O":
        missing = np.zeros(labels.shape, dtype=bool)
        if also is not None and labels.dtype.kind in "US":
            missing |= np.asarray(labels == also, dtype=bool)
        return missing
    try:
        with np.errstate(invalid="ignore"):
            missing = (labels == None) | (labels != labels)  # noqa: E711 (elementwise)
            if also is not None:
                missing |= labels == also
        return np.asarray(missing, dtype=bool)
    except (TypeError, ValueError, ArithmeticError):  # pd.NA, a signalling Decimal NaN
        return np.fromiter(
            (missing_label(x, also) for x in labels.reshape(-1).tolist()), bool, labels.size
        ).reshape(labels.shape)


def missing_label(label: object, also: object = None) -> bool:
    """Whether one ``label`` is missing, by the rules of :func:`missing_labels`.

    Examples
    --------
    >>> missing_label(float("nan")), missing_label("a"), missing_label("-", also="-")
    (True, False, True)
    """
    pd = sys.modules.get("pandas")
    if label is None or (pd is not None and label is pd.NA):
        return True
    try:
        return bool(label != label) or (also is not None and bool(label == also))
    except (TypeError, ValueError, ArithmeticError):
        return False


def flat_labels(
    labels: npt.NDArray[Any], where: str, name: str, *, each: str = ""
) -> npt.NDArray[Any]:
    """``labels`` (an argument already made an array) if it is 1-d; a table or a single value
    is refused rather than flattened, which would pair its labels with the wrong rows (``each``
    says what each label goes with, as ``", one per score"``).

    Examples
    --------
    >>> flat_labels(np.array([["a"], ["b"]]), "f()", "groups")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): groups must be a flat list or 1-d array of labels; got shape (2, 1)
    """
    if labels.ndim != 1:
        raise SchemaError(
            f"{where}: {name} must be a flat list or 1-d array of labels{each}; got shape "
            f"{labels.shape}"
        )
    return labels


def finite_values(
    values: npt.NDArray[np.float64], where: str, name: str
) -> npt.NDArray[np.float64]:
    """``values`` if every one is finite; else a SchemaError naming the first that is not
    (a NaN risk or score would otherwise be ranked as if it were a number).

    Examples
    --------
    >>> finite_values(np.array([0.5, np.nan]), "f()", "scores")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): scores[1] is nan; expected finite numbers (drop the missing ones first)
    """
    if values.size and not np.isfinite(values).all():
        i = int(np.flatnonzero(~np.isfinite(values.reshape(-1)))[0])
        raise SchemaError(
            f"{where}: {name}[{i}] is {float(values.reshape(-1)[i])!r}; expected finite numbers "
            "(drop the missing ones first)"
        )
    return values


def event_flags(value: Any, where: str, name: str = "observed") -> npt.NDArray[np.bool_]:
    """``value`` as a 1-d boolean array: bools, or the numbers 0 and 1 (anything else, a 2 or
    a NaN, is refused instead of being read as true).

    Examples
    --------
    >>> event_flags([1, 0, True], "f()", "labels").tolist()
    [True, False, True]
    >>> event_flags([0, 2], "f()", "labels")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): labels[1] is 2.0; expected booleans (1 = yes, 0 = no)
    """
    flags = float_array(value, where, name, ndim=1)
    bad = (flags != 0.0) & (flags != 1.0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise SchemaError(
            f"{where}: {name}[{i}] is {float(flags[i])!r}; expected booleans (1 = yes, 0 = no)"
        )
    out: npt.NDArray[np.bool_] = flags == 1.0
    return out


def _not_real(values: npt.NDArray[Any]) -> str | None:
    """What in ``values`` numpy would read as a float but is no real number: text (numpy
    reads ``"1"``), a complex number (numpy drops its imaginary part), or durations and times
    (numpy reads their ticks, of a unit the caller never sees); ``None`` if nothing."""
    kind = values.dtype.kind
    text, imaginary = "text is not a number here", "a complex number is not a real number"
    if kind in "US":
        return text
    if kind == "c":
        return imaginary
    if kind == "m":  # its ticks are of the dtype's unit: nanoseconds from pandas
        return (
            f"durations ({values.dtype}) are no numbers of a unit said; divide them by the "
            "unit meant, e.g. values / np.timedelta64(1, 'D') for days"
        )
    if kind == "M":
        return f"times ({values.dtype}) are not numbers here (numpy would count their ticks)"
    if kind == "O":
        for item in values.reshape(-1).tolist():
            if isinstance(item, (str, bytes)):
                return text
            if isinstance(item, complex):
                return imaginary
    return None


def real(value: Any, where: str, name: str) -> float:
    """``value`` as a finite float (a bool is not a number here; text is refused, with the
    number it holds shown when it holds one).

    Examples
    --------
    >>> real("1", "f()", "t")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: f(): t must be a number; got str '1': did you mean 1.0 (a number, not text)?
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueTypeError(
            f"{where}: {name} must be a number; got {got(value)}{_as_number(value)}"
        )
    try:
        number = float(value)
    except OverflowError:  # an int past the largest float (about 1.8e308)
        raise SchemaError(
            f"{where}: {name} must be a finite number; got {type(value).__name__} "
            f"{str(value)[:12]}... of {len(str(value))} characters, past the largest float"
        ) from None
    if not np.isfinite(number):
        raise SchemaError(f"{where}: {name} must be a finite number; got {number!r}")
    return number


def _as_number(value: Any) -> str:
    """A did-you-mean for text that holds a finite number (``"0.5"``), else ``""``."""
    if not isinstance(value, str):
        return ""
    try:
        number = float(value)
    except ValueError:
        return ""
    return f": did you mean {number!r} (a number, not text)?" if np.isfinite(number) else ""


def share(value: Any, where: str, name: str) -> float:
    """``value`` as a share of a whole: a number in [0, 1] (NaN, text and a bool are refused;
    a percentage such as 50 gets a did-you-mean of 0.5).

    Examples
    --------
    >>> share(np.float64(0.25), "f()", "p")
    0.25
    >>> share(50, "f()", "p")
    Traceback (most recent call last):
    ...
    cxmodel.errors.SchemaError: f(): p must be a share in [0, 1]; got 50.0: did you mean 0.5 (50 %)?
    """
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise ValueTypeError(
            f"{where}: {name} must be a share in [0, 1]; got {got(value)}{_as_number(value)}"
        )
    number = float(value)
    if not 0.0 <= number <= 1.0:  # NaN fails too
        hint = f": did you mean {number / 100:g} ({number:g} %)?" if 1.0 < number <= 100.0 else ""
        raise SchemaError(f"{where}: {name} must be a share in [0, 1]; got {number!r}{hint}")
    return number


def method_of(value: Any, method: str, where: str, name: str, hint: str) -> Any:
    """``value`` if it has a callable ``method`` (a fitted model, a scorer)."""
    if callable(getattr(value, method, None)):
        return value
    raise ValueTypeError(f"{where}: {name} must be {hint}; got {got(value)}")


def random_seed(value: Any, where: str, name: str, *, generator: bool = True) -> Any:
    """``value`` if it seeds random draws: ``None``, an integer at least 0 or (``generator``,
    where numpy draws rather than scikit-learn) a :class:`numpy.random.Generator`.

    Examples
    --------
    >>> random_seed("junk", "f()", "random_state")
    Traceback (most recent call last):
    ...
    cxmodel.errors.ValueTypeError: f(): random_state must be None, an integer or a numpy Generator; got str 'junk'
    """
    if value is None or (generator and isinstance(value, np.random.Generator)):
        return value
    if is_integer(value):
        seed = integer(value, where, name, minimum=0)
        if not generator and seed >= 2**32:  # scikit-learn's bound, named here
            raise SchemaError(f"{where}: {name} must be below 2**32 (4294967296); got {seed}")
        return seed
    expected = "None, an integer or a numpy Generator" if generator else "None or an integer"
    raise ValueTypeError(f"{where}: {name} must be {expected}; got {got(value)}")
