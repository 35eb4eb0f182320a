"""Tests of step_matrix(): shares of customers at each event label, step by step."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import DataWarning, SchemaError
from cxmodel.journey import step_matrix
from tests.journey.helpers import ROWS, log_of


class TestStepMatrix:
    def test_plain_steps(self) -> None:
        """Columns count each customer's s-th event; END after the journey."""
        m = step_matrix(log_of(ROWS), steps=3)
        assert m.labels.tolist() == ["purchase", "search", "view", "END"]
        assert m.counts.tolist() == [[0, 1, 2], [1, 0, 0], [3, 2, 1], [0, 1, 1]]
        assert np.allclose(m.shares.sum(axis=0), 1.0)

    def test_anchor_negative_steps(self) -> None:
        """Around the first anchor event: START before, END after; customers without it drop."""
        m = step_matrix(log_of(ROWS), anchor="purchase", steps=2)
        assert m.steps.tolist() == [-2, -1, 0, 1, 2]
        assert m.n_units == 3
        table = dict(zip(m.labels.tolist(), m.counts.tolist(), strict=True))
        assert table["purchase"] == [0, 0, 3, 0, 0]
        assert table["view"] == [2, 2, 0, 1, 0]
        assert table["START"] == [1, 0, 0, 0, 0]
        assert table["search"] == [0, 1, 0, 0, 0]
        assert table["END"] == [0, 0, 0, 2, 3]
        assert m.to_pandas().shape == (5, 5) and "<table>" in m._repr_html_()

    def test_numpy_integer_steps(self) -> None:
        """A number of steps computed with numpy (``np.int64``) acts as an int."""
        m = step_matrix(log_of(ROWS), steps=np.int64(3))
        assert m.to_dict() == step_matrix(log_of(ROWS), steps=3).to_dict()

    @pytest.mark.parametrize("steps", [0, -1, 2.5, True])
    def test_bad_steps(self, steps: object) -> None:
        """Steps must be a positive integer."""
        with pytest.raises(SchemaError, match="steps"):
            step_matrix(log_of(ROWS), steps=steps)  # type: ignore[arg-type]

    def test_absent_anchor_warns(self) -> None:
        """A standard kind that never occurs, or an absent (column, value), as the anchor
        warns: the matrix is all zeros with n_units 0 (it was silent)."""
        with pytest.warns(DataWarning, match="no customer is anchored"):
            m = step_matrix(log_of(ROWS), anchor="refund", steps=2)
        assert m.n_units == 0
        log = log_of(ROWS, touchpoint=["web"] * len(ROWS))
        with pytest.warns(DataWarning, match="did you mean 'web'"):
            step_matrix(log, anchor=("touchpoint", "webb"), steps=2)

    def test_misspelt_anchor_is_named(self) -> None:
        """A misspelt anchor kind raises once, naming the argument, with a did-you-mean."""
        with pytest.raises(SchemaError, match=r"step_matrix\(\) anchor: .*did you mean 'purchase'"):
            step_matrix(log_of(ROWS), anchor="purchse", steps=2)
