"""Average handle time of contacts, and survival curves by group."""

from __future__ import annotations

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import DataError, DataWarning, SchemaError
from cxmodel.metrics import average_handle_time, kaplan_meier, kaplan_meier_by

NAN = float("nan")


class TestAverageHandleTime:
    def _log(self) -> cx.InteractionLog:
        return cx.InteractionLog.from_arrays(
            customer_id=["a", "b", "c", "d"],
            timestamp=[0, 1, 2, 3],
            kind=["call", "chat", "call", "view"],
            talk_seconds=[300.0, 100.0, NAN, NAN],
            hold_seconds=[60.0, NAN, NAN, NAN],
            after_work_seconds=[40.0, 20.0, NAN, NAN],
        )

    def test_hand_computed(self) -> None:
        """(400 + 120) / 2 handled contacts; the call with no durations is not handled."""
        aht = average_handle_time(self._log())
        assert aht.n == 2 and aht.value == 260.0 and aht.median == 260.0
        assert aht.ci[0] < 260.0 < aht.ci[1]

    def test_missing_column_named(self) -> None:
        """An absent duration column is an error naming it."""
        with pytest.raises(SchemaError, match="'wrap' is not in the log"):
            average_handle_time(self._log(), components=("talk_seconds", "wrap"))

    def test_no_handled_contacts(self) -> None:
        """No handled contact gives NaN with n = 0, and a warning saying why: the kind is not
        in the log, or its contacts carry no duration (the NaN used to come silently)."""
        with pytest.warns(DataWarning, match="kind 'email_sent' does not occur in the log"):
            aht = average_handle_time(self._log(), kinds=("email_sent",))
        assert aht.n == 0 and np.isnan(aht.value)
        with pytest.warns(DataWarning, match="none of the 1 view contact.s. has a value in hold"):
            aht = average_handle_time(self._log(), kinds=("view",), components=("hold_seconds",))
        assert aht.n == 0 and np.isnan(aht.value)

    def test_level_outside_the_open_interval(self) -> None:
        """A level outside (0, 1) is refused, not answered with a NaN interval."""
        with pytest.raises(SchemaError, match="level must be a number"):
            average_handle_time(self._log(), level=1.5)

    def test_negative_duration_rejected(self) -> None:
        """A negative duration is refused."""
        log = cx.InteractionLog.from_arrays(
            customer_id=["a"], timestamp=[0], kind=["call"], talk_seconds=[-5.0],
            hold_seconds=[0.0], after_work_seconds=[0.0],
        )  # fmt: skip
        with pytest.raises(SchemaError, match=r"row 1: talk_seconds -5.0 is negative .* >= 0"):
            average_handle_time(log)


class TestKaplanMeierBy:
    def test_each_group_equals_its_own_curve(self) -> None:
        """Each group's curve is kaplan_meier on that group's durations."""
        rng = np.random.default_rng(1)
        d = rng.integers(1, 30, 200).astype(float)
        e = rng.random(200) < 0.7
        g = rng.choice(["2024-01", "2024-02", "2024-03"], 200)
        curves = kaplan_meier_by(d, e, groups=g)
        assert list(curves) == ["2024-01", "2024-02", "2024-03"]
        for label, curve in curves.items():
            own = kaplan_meier(d[g == label], e[g == label])
            assert np.array_equal(curve.survival, own.survival)
            assert np.array_equal(curve.times, own.times)

    def test_bad_shapes(self) -> None:
        """Labels must match the durations one to one; empty input is an error."""
        with pytest.raises(SchemaError, match="one label per duration"):
            kaplan_meier_by([1, 2], groups=["a"])
        with pytest.raises(DataError, match="no durations"):
            kaplan_meier_by([], groups=[])

    def test_missing_labels_are_one_group(self) -> None:
        """None and NaN labels were two groups, 'None' and 'nan'; both are '(missing)'."""
        curves = kaplan_meier_by([1, 2, 3, 4], [1, 1, 1, 0], groups=["a", None, np.nan, "a"])
        assert list(curves) == ["(missing)", "a"]
        assert curves["(missing)"].times.tolist() == [2.0, 3.0]

    def test_a_bad_duration_is_named_by_its_position(self) -> None:
        """A NaN duration at position 3 was reported as 'durations[1]', its position in its
        group; the message names the position the caller passed."""
        with pytest.raises(SchemaError, match=r"durations\[3\] = nan"):
            kaplan_meier_by([1.0, 2.0, 3.0, np.nan], groups=["a", "a", "b", "b"])
        with pytest.raises(SchemaError, match="observed must be booleans"):
            kaplan_meier_by([1.0, 2.0], [1, 2], groups=["a", "b"])
