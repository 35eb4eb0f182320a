"""The answers of one survey metric with their group keys: the rows read, the labels coded,
the errors for labels and periods that do not fit."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from cxmodel.errors import DataError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.metrics import SmallSampleWarning, nps
from cxmodel.metrics._answers import (
    MISSING,
    answer_rows,
    answer_scores,
    factorize,
    held_metrics,
    refuse_unanswered,
    survey_chunk,
    unanswered,
)


def _log() -> InteractionLog:
    """Two NPS answers (one without a channel), a CSAT answer and a view."""
    return InteractionLog.from_arrays(
        customer_id=["a", "a", "b", "c"],
        timestamp=["2024-01-01T00:00Z", "2024-01-02T00:00Z", "2024-02-01T00:00Z",
                   "2024-02-02T00:00Z"],
        kind=["survey", "view", "survey", "survey"],
        metric=["nps", None, "nps", "csat"],
        score=[9.0, float("nan"), 3.0, 4.0],
        channel=["web", "web", None, "app"],
    )  # fmt: skip


class TestAnswerRows:
    def test_survey_rows_of_the_metric(self) -> None:
        """Only survey rows of the metric count; a log without a metric column has none."""
        assert answer_rows(_log(), "nps").tolist() == [True, False, True, False]
        assert answer_rows(_log(), "ces").tolist() == [False] * 4
        plain = InteractionLog.from_arrays(customer_id=["a"], timestamp=[0], kind=["survey"])
        assert answer_rows(plain, "nps").tolist() == [False]


class TestAnswerScores:
    def test_answers_without_a_score_column_are_refused(self) -> None:
        """NPS answers in a log without a score column are an error naming the first answer's
        row; nps() used to return NaN from n=0, as if nobody had answered."""
        log = InteractionLog.from_arrays(
            customer_id=["a", "b", "c"], timestamp=[0, 1, 2], kind=["view", "survey", "survey"],
            metric=[None, "nps", "nps"],
        )  # fmt: skip
        with pytest.raises(
            SchemaError, match="row 2: 2 'nps' answer.s. but the log has no 'score'"
        ):
            nps(log)
        assert answer_scores(log, answer_rows(log, "csat"), "csat").size == 0


class TestUnanswered:
    @pytest.mark.parametrize(("answers", "rows"), [(1, 4), (0, 0)], ids=["answered", "no-rows"])
    def test_nothing_to_say(self, answers: int, rows: int) -> None:
        """Data with answers, or without rows, pass: there is no message and no refusal."""
        assert unanswered("nps", answers, rows, Counter({"csat": 1}), caller="f()") is None
        refuse_unanswered("nps", answers, rows, Counter({"csat": 1}), caller="f()")

    def test_the_refusal_raises_the_message(self) -> None:
        """refuse_unanswered raises exactly the message the warning analyses warn: one text."""
        held = held_metrics(_log())
        assert held == Counter({"nps": 2, "csat": 1})
        message = unanswered("ces", 0, len(_log()), held, caller="f()")
        assert message == (
            "f(): none of the 4 rows answers 'ces'; the survey answers are to 'csat' (1), 'nps' (2)"
        )
        with pytest.raises(DataError) as error:
            refuse_unanswered("ces", 0, len(_log()), held, caller="f()")
        assert str(error.value) == message

    @pytest.mark.parametrize(
        ("held", "tail"),
        [
            (Counter({"NPS": 3, "": 1}),
             "the survey answers are to 'NPS' (3), and 1 survey row(s) name no metric; "
             "did you mean 'NPS'?"),
            (Counter({"npss": 2}), "the survey answers are to 'npss' (2); did you mean 'npss'?"),
            (Counter({"": 2}), "the 2 survey row(s) name no metric (column 'metric')"),
            (Counter(), "there is no survey row (kind 'survey')"),
        ],
        ids=["case-and-unnamed", "close-spelling", "no-metric", "no-survey"],
    )  # fmt: skip
    def test_what_the_data_hold(self, held: Counter[str], tail: str) -> None:
        """The message names what the data hold instead, with a did-you-mean."""
        message = unanswered("nps", 0, 5, held, caller="f()")
        assert message == f"f(): none of the 5 rows answers 'nps'; {tail}"


class TestFactorize:
    @pytest.mark.parametrize(
        ("values", "uniques", "codes"),
        [
            (np.array([7, 3, 7, 9]), [3, 7, 9], [1, 0, 1, 2]),
            (np.array([10**12, -(10**12), 10**12]), [-(10**12), 10**12], [1, 0, 1]),
            (np.array(["b", "a", "b"]), ["a", "b"], [1, 0, 1]),
            (np.array([], dtype=np.int64), [], []),
        ],
        ids=["compact-ints", "wide-ints", "text", "empty"],
    )
    def test_sorted_uniques_and_codes(
        self, values: np.ndarray, uniques: list[object], codes: list[int]
    ) -> None:
        """Uniques come back sorted and codes index them, whatever the range of the values."""
        got_uniques, got_codes = factorize(values)
        assert (got_uniques.tolist(), got_codes.tolist()) == (uniques, codes)


class TestSurveyChunk:
    def test_by_a_string_column_keeps_every_category(self) -> None:
        """A string column's categories are all labels, answered or not; a missing value is
        the code after the last category."""
        chunk = survey_chunk(_log(), "nps", by="channel")
        assert chunk.scores.tolist() == [9.0, 3.0]
        assert chunk.labels is not None and chunk.labels.tolist() == ["app", "web"]
        assert chunk.keys[0].tolist() == [1, 2]
        assert chunk.every_label and chunk.labelled

    def test_array_labels_with_missing(self) -> None:
        """Array labels are coded into their sorted text; None is the code after the last
        label, as a missing value of a text column."""
        chunk = survey_chunk([9, 3, 10], "nps", by=np.array(["b", None, "b"], dtype=object))
        assert chunk.labels is not None
        assert chunk.labels.tolist() == ["b"]
        assert chunk.keys[0].tolist() == [0, 1, 0]
        assert not chunk.every_label

    def test_nan_label_is_missing(self) -> None:
        """NaN in a numeric by column is a missing label, the group '(missing)' last (it was
        the group 'nan')."""
        log = InteractionLog.from_arrays(
            list("abcd"), [0, 1, 2, 3], ["survey"] * 4, metric=["nps"] * 4,
            score=[9.0, 10.0, 3.0, 7.0], region=[1.0, float("nan"), 2.0, 2.0],
        )  # fmt: skip
        chunk = survey_chunk(log, "nps", by="region")
        assert chunk.labels is not None and chunk.labels.tolist() == [1.0, 2.0]
        assert chunk.keys[0].tolist() == [0, 2, 1, 1]
        with pytest.warns(SmallSampleWarning):
            table = nps(log, by="region")
        assert table["region"].tolist() == [1.0, 2.0, MISSING]
        assert table["n"].tolist() == [1, 2, 1]

    def test_numeric_labels_sort_as_numbers(self) -> None:
        """A numeric by column (a store number 1..12) gives groups in numeric order, 2 before
        10, with '(missing)' last (they sorted as text: '1', '10', '11', '2')."""
        stores = [1.0, 2.0, 10.0, 11.0, 3.0, 12.0, float("nan")] * 4
        n = len(stores)
        log = InteractionLog.from_arrays(
            [f"c{i}" for i in range(n)], list(range(n)), ["survey"] * n, metric=["nps"] * n,
            score=[10.0] * n, store=stores,
        )  # fmt: skip
        with pytest.warns(SmallSampleWarning):
            table = nps(log, by="store")
        assert table["store"].tolist() == [1.0, 2.0, 3.0, 10.0, 11.0, 12.0, MISSING]

    def test_period_key(self) -> None:
        """A period adds the key 'period' after the by key (months since the epoch here)."""
        chunk = survey_chunk(_log(), "nps", period="month")
        assert chunk.key_names == ("period",) and not chunk.labelled
        assert chunk.keys[0].tolist() == [(2024 - 1970) * 12, (2024 - 1970) * 12 + 1]

    @pytest.mark.parametrize(
        ("kwargs", "match"),
        [
            ({"by": "channel"}, "by must be an array of labels"),
            ({"by": ["a"]}, "by has 1 labels for 2 scores"),
            ({"period": "month"}, "period= needs timestamps"),
            ({"by_rated": True}, "by_rated=True needs a log"),
        ],
        ids=["column-name", "wrong-length", "period-without-times", "by-rated"],
    )
    def test_bad_keys_for_an_array(self, kwargs: dict[str, object], match: str) -> None:
        """Scores given as an array need labels and times given as arrays too."""
        with pytest.raises(SchemaError, match=match):
            survey_chunk([9, 3], "nps", **kwargs)  # type: ignore[arg-type]

    def test_ragged_nesting_is_refused(self) -> None:
        """Nested lists of different lengths, as scores or labels, raise a SchemaError naming
        the argument (not numpy's ValueError)."""
        with pytest.raises(SchemaError, match=r"nps\(\): data must be a flat list"):
            survey_chunk([[9, 3], [10]], "nps")
        with pytest.raises(SchemaError, match=r"nps\(\): by must be a flat list"):
            survey_chunk([9, 3, 10], "nps", by=[["a"], ["b", "c"]])
        with pytest.raises(SchemaError, match="by must be a flat list"):
            survey_chunk(_log(), "nps", by=[["a"], ["b", "c"]])
