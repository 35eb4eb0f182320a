"""The result base: what a result's declared fields and options give ``to_dict``,
``to_pandas``, the HTML view and the repr, on small hand-made results."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pytest

from cxmodel._html import MAX_ROWS, TEXT_ROWS
from cxmodel._result import Result, column, columns, plain, record_frame

pd = pytest.importorskip("pandas")


@attrs.frozen(eq=False, repr=False)
class Scores(Result):
    """A table: two declared columns, a mapping of columns, figures and a hidden field."""

    customer: npt.NDArray[np.object_] = attrs.field(metadata=column("customer_id"))
    score: npt.NDArray[np.float64] = attrs.field(metadata=column())
    rates: dict[str, npt.NDArray[np.float64]] = attrs.field(metadata=columns("rate_"))
    n_bins: int
    label: str | None
    cache: dict[str, Any] = attrs.field(repr=False, factory=dict)


@attrs.frozen(repr=False)
class Rate(Result):
    """A record: figures only."""

    value: float
    ci: tuple[float, float]
    kinds: tuple[str, ...]
    n: int
    curve: Scores | None = None


def scores(n: int = 3) -> Scores:
    return Scores(
        np.array([f"c{i}" for i in range(n)], dtype=object),
        np.arange(n, dtype=np.float64) / 4,
        {"email": np.full(n, 0.5), "push": np.zeros(n)},
        5,
        None,
    )


class TestDeclaration:
    def test_columns_in_declaration_order(self) -> None:
        """Column fields become columns in order; a mapping contributes prefixed entries."""
        assert list(scores().to_dict()) == ["customer_id", "score", "rate_email", "rate_push"]

    def test_figures_are_the_scalar_fields(self) -> None:
        """Scalars (``None`` included) are figures; columns and ``repr=False`` fields are not."""
        assert scores()._figures() == {"n_bins": 5, "label": None}

    def test_a_result_without_column_fields_is_a_record(self) -> None:
        """A record's dict is its figures; a nested result is not a figure."""
        rate = Rate(0.25, (0.2, 0.31), ("a", "b"), 400, scores())
        assert rate._rows() is None
        assert rate.to_dict() == {"value": 0.25, "ci": (0.2, 0.31), "kinds": ("a", "b"), "n": 400}


class TestToDict:
    def test_columns_as_arrays(self) -> None:
        """By default the columns are the arrays themselves."""
        got = scores().to_dict()
        assert isinstance(got["score"], np.ndarray) and got["score"].tolist() == [0, 0.25, 0.5]

    def test_lists_option(self) -> None:
        """``_dict_lists``: plain lists, datetimes as ISO text, NaT as 'NaT'."""

        @attrs.frozen(repr=False)
        class Seen(Result):
            when: npt.NDArray[np.datetime64] = attrs.field(metadata=column())
            n: npt.NDArray[np.int64] = attrs.field(metadata=column())
            _dict_lists = True

        seen = Seen(np.array(["2024-01-02T03:04:05", "NaT"], dtype="datetime64[us]"), np.arange(2))
        assert seen.to_dict() == {
            "when": ["2024-01-02T03:04:05.000000", "NaT"],
            "n": [0, 1],
        }

    def test_rows_key_and_details(self) -> None:
        """``_dict_rows_key`` puts the figures first and the columns under the key; details
        follow."""

        @attrs.frozen(repr=False)
        class Calibrated(Result):
            auc: float
            decile: list[int] = attrs.field(metadata=column())
            _dict_rows_key = "calibration"

            def _details(self) -> dict[str, Any]:
                return {"note": "deciles"}

        got = Calibrated(0.7, [1, 2]).to_dict()
        assert got == {"auc": 0.7, "calibration": {"decile": [1, 2]}, "note": "deciles"}


class TestToPandas:
    def test_one_row_per_table_row(self) -> None:
        """The table as a DataFrame, columns in order."""
        frame = scores().to_pandas()
        assert frame.columns.tolist() == ["customer_id", "score", "rate_email", "rate_push"]
        assert frame.shape == (3, 4)

    def test_index_and_figures_options(self) -> None:
        """``_frame_index`` indexes by a column; ``_frame_figures`` fills ``DataFrame.attrs``."""

        @attrs.frozen(repr=False)
        class Indexed(Scores):
            _frame_index = "customer_id"
            _frame_figures = True

        frame = Indexed(*attrs.astuple(scores(), recurse=False)).to_pandas()
        assert frame.index.name == "customer_id" and frame.index.tolist() == ["c0", "c1", "c2"]
        assert frame.attrs == {"n_bins": 5, "label": None}

    def test_spread_option(self) -> None:
        """``_frame_spread``: a column of dicts becomes one column per key, after the others."""

        @attrs.frozen(repr=False)
        class Rejected(Result):
            row: list[int] = attrs.field(metadata=column())
            record: list[dict[str, Any]] = attrs.field(metadata=column())
            _frame_spread = "record"

        frame = Rejected([3, 7], [{"a": 1}, {"a": 2, "b": "x"}]).to_pandas()
        assert frame.columns.tolist() == ["row", "a", "b"]
        assert frame["a"].tolist() == [1, 2]

    def test_record_is_one_row_with_intervals_split(self) -> None:
        """A ``(low, high)`` pair becomes ``_low``/``_high``; other tuples stay one cell (a
        three-element tuple used to raise)."""
        frame = Rate(0.25, (0.2, 0.31), ("a", "b", "c"), 400).to_pandas()
        assert frame.columns.tolist() == ["value", "ci_low", "ci_high", "kinds", "n", "curve"]
        assert frame.loc[0, "kinds"] == ("a", "b", "c")

    def test_record_frame_of_a_pair_of_text(self) -> None:
        """Only a pair of numbers is an interval."""
        assert record_frame({"pair": ("a", "b")}, "test").columns.tolist() == ["pair"]


class TestRepr:
    def test_summary_then_rows(self) -> None:
        """A summary line (``None`` figures left out), the header and the rows."""
        assert repr(scores()).splitlines() == [
            "Scores(3 rows, n_bins=5)",
            "customer_id  score  rate_email  rate_push",
            "c0               0         0.5          0",
            "c1            0.25         0.5          0",
            "c2             0.5         0.5          0",
        ]

    def test_long_table_counts_the_hidden_rows(self) -> None:
        """At most five rows, then how many are hidden."""
        lines = repr(scores(12)).splitlines()
        assert len(lines) == 1 + 1 + TEXT_ROWS + 1
        assert lines[-1] == "… 7 more rows"

    def test_record_is_one_line(self) -> None:
        """A record's repr is its summary: name and figures, floats to 4 digits."""
        assert repr(Rate(0.123456, (0.1, 0.15), ("a",), 40)) == (
            "Rate(value=0.1235, ci=(0.1, 0.15), kinds=(a), n=40)"
        )


class TestHtml:
    def test_table_is_capped_and_escaped(self) -> None:
        """At most ``MAX_ROWS`` rows, the rest counted; text is escaped."""
        many = scores(MAX_ROWS + 5)
        page = attrs.evolve(many, customer=np.array(["<b>"] * (MAX_ROWS + 5), dtype=object))
        html = page._repr_html_()
        assert html.count("<tr>") == MAX_ROWS + 1
        assert "&lt;b&gt;" in html and "<b>" not in html
        assert html.endswith("<p>… 5 more rows</p>")

    def test_record_shows_figures_then_nested_results(self) -> None:
        """A record is a two-column table of its figures, then the results it holds."""
        html = Rate(0.25, (0.2, 0.31), ("a",), 400, scores())._repr_html_()
        assert html.startswith("<table><caption>Rate</caption><tr><th>value</th><td>0.25</td>")
        assert "<caption>Scores(3 rows, n_bins=5)</caption>" in html


class TestPlain:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (np.int64(3), 3),
            (np.float64(2.5), 2.5),
            (np.bool_(True), True),
            (np.str_("a"), "a"),
            (float("nan"), None),
            (np.float64("nan"), None),
            ("text", "text"),
            (None, None),
            (np.datetime64("2024-01-02T03:04:05", "us"), dt.datetime(2024, 1, 2, 3, 4, 5)),
        ],
        ids=["int64", "float64", "bool_", "str_", "nan", "np-nan", "str", "none", "datetime64"],
    )
    def test_numpy_scalars_become_python(self, value: Any, expected: Any) -> None:
        """Numpy scalars become the Python value they hold (of its Python type); NaN None."""
        got = plain(value)
        assert got == expected and type(got) is type(expected)

    def test_nan_replacement(self) -> None:
        """``nan=`` chooses what NaN becomes (NaN itself keeps it)."""
        assert np.isnan(plain(np.float64("nan"), nan=float("nan")))
