"""cxmodel's warnings: raised to the caller in one process, kept by a piece of a dask run
(counted ones silent at 0 in one process, kept at 0 by a piece), filtered per thread."""

from __future__ import annotations

import contextvars
import threading
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel._pieces import (
    as_errors,
    as_piece,
    first_count_is_zero,
    piece_warnings,
    silenced,
    warn,
    warn_counted,
)
from cxmodel.errors import ConvergenceWarning, DataWarning

TEMPLATE = "{missing:,} of {rows:,} purchases have no value"


def _shown(fn: Callable[[], Any]) -> list[str]:
    """The messages of the warnings ``fn()`` sends to the caller."""
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        fn()
    return [str(r.message) for r in records]


def _seen(count: int, *, piece: bool) -> list[str]:
    """The message of a counted warning at ``count``: shown to the caller, or kept by a piece."""
    if not piece:
        return _shown(lambda: warn_counted(DataWarning, TEMPLATE, missing=count, rows=6))
    with as_piece() as kept:
        assert _shown(lambda: warn_counted(DataWarning, TEMPLATE, missing=count, rows=6)) == []
    return [str(w) for w in kept]


class TestWarnCounted:
    def test_one_process_warns_only_a_nonzero_count(self) -> None:
        """Clean data raises nothing; a count raises the formatted message."""
        assert _seen(0, piece=False) == []
        assert _seen(2, piece=False) == ["2 of 6 purchases have no value"]

    def test_a_piece_carries_a_zero_count(self) -> None:
        """A piece keeps it at 0 so that its rows add to the total of the whole."""
        assert _seen(0, piece=True) == ["0 of 6 purchases have no value"]
        assert _seen(2, piece=True) == ["2 of 6 purchases have no value"]

    def test_a_kept_warning_carries_its_template_and_counts(self) -> None:
        """The piece keeps the warning object itself, with what the merge adds up."""
        with as_piece() as kept:
            warn_counted(DataWarning, TEMPLATE, missing=1, rows=6)
        [warning] = kept
        assert type(warning) is DataWarning
        assert (warning.template, warning.counts) == (TEMPLATE, {"missing": 1, "rows": 6})  # type: ignore[attr-defined]

    def test_first_count_decides(self) -> None:
        """The first count is the one the warning is about."""
        assert first_count_is_zero({"missing": 0, "rows": 6})
        assert not first_count_is_zero({"missing": 1, "rows": 0})
        assert not first_count_is_zero({})


class TestWarn:
    def test_outside_a_piece_it_is_warnings_warn(self) -> None:
        """Text with a category, or a warning object; UserWarning when no category is given."""
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            warn("text", DataWarning)
            warn(ConvergenceWarning("object"))
            warn("plain")
        assert [(r.category, str(r.message)) for r in records] == [
            (DataWarning, "text"),
            (ConvergenceWarning, "object"),
            (UserWarning, "plain"),
        ]

    def test_a_direct_call_points_at_its_line(self) -> None:
        """``warn`` called from outside the package points at the line that called it."""
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            warn("here", DataWarning)
            line = _line() - 1
        assert (records[0].filename, records[0].lineno) == (__file__, line)

    @pytest.mark.parametrize("call", ["read_csv", "rfm_summary", "churn_rate", "process_many"])
    def test_a_warning_deep_in_the_package_points_at_the_users_line(
        self, tmp_path: Path, call: str
    ) -> None:
        """However deep in cxmodel a warning is raised, it names the user's line (the first
        frame outside the package), not a line of cxmodel: with a fixed ``stacklevel`` per
        call site, the read_csv quarantine warning pointed into the reader."""
        import cxmodel as cx
        from cxmodel.triggers import TriggerEngine, parse

        path = tmp_path / "data.csv"
        path.write_text(
            "customer_id,timestamp,kind,value\n"
            ",2024-01-01T00:00:00Z,view,\n"
            "c1,2024-01-02T00:00:00Z,purchase,3\n"
            "c2,2024-01-05T00:00:00Z,purchase,\n",
            encoding="utf-8",
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            log = cx.read_csv(path, errors="quarantine")
        rule = "trigger t:\n    when purchase as p\n    emit thanks"
        engine = TriggerEngine(parse(rule))
        engine.process({"customer_id": "c1", "timestamp": "2024-02-01T00:00:00Z", "kind": "view"})
        late = [{"customer_id": "c1", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}]
        calls: dict[str, Callable[[], object]] = {
            "read_csv": lambda: cx.read_csv(path, errors="quarantine"),
            "rfm_summary": lambda: cx.models.rfm_summary(log, as_of="2025-01-01T00:00:00Z"),
            "churn_rate": lambda: cx.metrics.churn_rate(
                log, "2024-01-01T00:00:00Z", "2024-06-01T00:00:00Z"
            ),
            "process_many": lambda: engine.process_many(late),
        }
        with warnings.catch_warnings(record=True) as records:
            warnings.simplefilter("always")
            calls[call]()
            line = _line() - 1
        here = {(r.filename, r.lineno) for r in records}
        assert records, call
        assert here <= {(__file__, line), (__file__, _lambda_line(calls[call]))}, here

    def test_in_a_piece_the_process_wide_filters_do_not_apply(self) -> None:
        """A piece keeps its warning even where the process-wide filters would raise or drop
        it: they may have been set by another thread."""
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with as_piece() as kept:
                warn("kept", DataWarning)
            warnings.simplefilter("ignore")
            with as_piece() as also:
                warn("kept too", DataWarning)
        assert [str(w) for w in kept + also] == ["kept", "kept too"]

    def test_pieces_nest(self) -> None:
        """An inner piece keeps its own warnings; the outer one resumes after it."""
        with as_piece() as outer:
            warn("outer 1")
            with as_piece() as inner:
                warn("inner")
                assert piece_warnings() is inner
            warn("outer 2")
        assert ([str(w) for w in outer], [str(w) for w in inner]) == (
            ["outer 1", "outer 2"],
            ["inner"],
        )
        assert piece_warnings() is None


class TestFilters:
    @pytest.mark.parametrize("piece", [False, True], ids=["caller", "piece"])
    def test_silenced_drops_its_category_only(self, piece: bool) -> None:
        """A silenced category is dropped, in a piece too; another category is not."""
        where: AbstractContextManager[list[Warning]] = as_piece() if piece else nullcontext([])
        with where as kept:
            shown = _shown(_silenced_pair)
        assert [str(w) for w in kept] + shown == ["data"]

    @pytest.mark.parametrize("piece", [False, True], ids=["caller", "piece"])
    def test_as_errors_raises_its_category(self, piece: bool) -> None:
        """A category raised as errors is raised, in a piece too (a fallback in a function that
        ``map_customers`` runs still works)."""
        with (
            as_piece() if piece else nullcontext(),
            pytest.raises(ConvergenceWarning, match="x"),
            as_errors(ConvergenceWarning),
        ):
            warn("x", ConvergenceWarning)

    def test_the_innermost_filter_decides(self) -> None:
        """``silenced`` inside ``as_errors`` drops; the reverse raises."""
        with as_errors(Warning), silenced(DataWarning):
            warn("dropped", DataWarning)
        with silenced(Warning), as_errors(DataWarning), pytest.raises(DataWarning):
            warn("raised", DataWarning)

    def test_filters_belong_to_their_thread(self) -> None:
        """A thread's ``silenced`` does not drop another thread's warnings."""
        inside, done = threading.Event(), threading.Event()

        def other() -> None:
            with silenced():
                inside.set()
                assert done.wait(10)

        thread = threading.Thread(target=other)
        thread.start()
        assert inside.wait(10)
        try:
            assert _shown(lambda: warn("mine", DataWarning)) == ["mine"]
        finally:
            done.set()
            thread.join(10)


def _silenced_pair() -> None:
    with silenced(ConvergenceWarning):
        warn("fit", ConvergenceWarning)
        warn("data", DataWarning)


def _lambda_line(function: Callable[..., object]) -> int:
    """The first line of a lambda (the user's code the warning should name)."""
    return function.__code__.co_firstlineno


def _line() -> int:
    import inspect

    frame = inspect.currentframe()
    assert frame is not None and frame.f_back is not None
    return frame.f_back.f_lineno


@given(st.lists(st.integers(0, 3), max_size=40))
def test_interleaved_pieces_keep_their_own_warnings(order: list[int]) -> None:
    """Four pieces, each in its own context (as tasks on four threads), warning in any
    interleaving: each keeps exactly its own warnings, in order, and the caller sees none."""
    contexts = [contextvars.copy_context() for _ in range(4)]
    pieces = [as_piece() for _ in contexts]
    kept = [ctx.run(piece.__enter__) for ctx, piece in zip(contexts, pieces)]
    with warnings.catch_warnings(record=True) as records:
        warnings.simplefilter("always")
        for step, task in enumerate(order):
            contexts[task].run(warn, f"task {task} step {step}", DataWarning)
    for ctx, piece in zip(contexts, pieces):
        ctx.run(piece.__exit__, None, None, None)
    assert records == []
    assert piece_warnings() is None
    for task in range(4):
        expected = [f"task {task} step {s}" for s, t in enumerate(order) if t == task]
        assert [str(w) for w in kept[task]] == expected


def test_every_warning_of_cxmodel_goes_through_warn() -> None:
    """No module but ``_pieces`` calls ``warnings.warn``: a warning raised around ``warn``
    would reach the caller from inside a piece, or be lost, when another thread switches
    Python's warning hooks."""
    import ast
    from pathlib import Path

    import cxmodel

    root = Path(cxmodel.__file__).parent
    calls: list[str] = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "warn"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "warnings"
            ):
                calls.append(f"{path.relative_to(root).as_posix()}:{node.lineno}")
    assert [where for where in calls if not where.startswith("_pieces.py:")] == []
