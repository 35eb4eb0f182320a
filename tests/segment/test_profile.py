"""Segment profiles: size, share, means, medians and index per segment, against pandas."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import DataError, SchemaError
from cxmodel.segment import profile_segments, rfm_scores, rfm_segments
from tests.segment.helpers import DAY, planted


class TestProfileSegments:
    def test_against_pandas(self) -> None:
        """Size, share, means, medians and index equal a pandas groupby."""
        table, churned = planted(4, 120)
        labels = np.where(churned, "churned", "kept").astype(object)
        prof = profile_segments(labels, table, features=["frequency", "monetary", "recency_days"])
        df = table.to_pandas()
        df["label"] = labels
        g = df.groupby("label")
        assert prof.segments.tolist() == ["churned", "kept"]
        np.testing.assert_array_equal(prof.size, g.size().to_numpy())
        np.testing.assert_allclose(prof.share, g.size().to_numpy() / len(df))
        for j, name in enumerate(prof.features):
            np.testing.assert_allclose(prof.mean[:, j], g[name].mean().to_numpy())
            np.testing.assert_allclose(prof.median[:, j], g[name].median().to_numpy())
            np.testing.assert_allclose(
                prof.index[:, j], g[name].mean().to_numpy() / df[name].mean() * 100
            )
        assert "frequency_index" in prof.to_pandas().columns

    def test_rfm_segments_align_by_id(self) -> None:
        """RFM segments align with the table by customer id; sizes sum to labelled customers."""
        table, _ = planted(5, 200)
        seg = rfm_segments(rfm_scores(table.log, as_of=np.datetime64(300 * DAY, "us")))
        prof = profile_segments(seg, table)
        assert prof.size.sum() == len(seg)
        assert set(prof.segments.tolist()) == set(seg.labels.tolist())

    def test_wrong_length_labels(self) -> None:
        """Labels must have one value per table row."""
        table, _ = planted(6, 10)
        with pytest.raises(SchemaError, match="one label per table row"):
            profile_segments(["a"], table)

    def test_missing_labels_are_no_segment(self) -> None:
        """NaN and pandas' NA labels (a pandas column with gaps) are unlabelled, like None:
        they were profiled as segments named 'nan' and '<NA>'."""
        pd = pytest.importorskip("pandas")
        table, _ = planted(7, 8)
        labels = np.array(["a", "a", "b", np.nan, None, pd.NA, "b", "a"], dtype=object)
        prof = profile_segments(labels, table, features=["frequency"])
        assert prof.segments.tolist() == ["a", "b"]
        assert prof.size.tolist() == [3, 2]
        assert prof.share.tolist() == [3 / 8, 2 / 8]

    def test_no_label_at_all(self) -> None:
        """Every label missing: a DataError with the count, not an empty profile."""
        table, _ = planted(8, 6)
        with pytest.raises(DataError, match="none of the 6 customers of the table has a label"):
            profile_segments([None] * 6, table)


class TestIndexOfSignedFeatures:
    def test_negative_values_have_no_index(self) -> None:
        """Mean sentiment 0.25 (happy) and -0.35 (unhappy), population -0.05: the index read
        -500 and 700, as if the unhappy segment had 7x the population's sentiment. A feature
        that takes negative values now has a NaN index and a DataWarning naming it; its means
        are unchanged and non-negative features keep their index."""
        from cxmodel.errors import DataWarning
        from cxmodel.log import CustomerTable, InteractionLog

        log = InteractionLog.from_arrays(
            list("abcd"), ["2024-01-01T00:00Z"] * 4, ["ticket_opened"] * 4,
            sentiment=[0.3, 0.2, -0.5, -0.2],
        )  # fmt: skip
        table = CustomerTable.from_log(log, as_of="2024-01-02T00:00Z")
        labels = ["happy", "happy", "unhappy", "unhappy"]
        with pytest.warns(DataWarning, match=r"negative values.*'mean_sentiment'"):
            prof = profile_segments(labels, table, features=["mean_sentiment", "tickets_total"])
        assert prof.mean[:, 0] == pytest.approx([0.25, -0.35])
        assert prof.population_mean[0] == pytest.approx(-0.05)
        assert np.isnan(prof.index[:, 0]).all()
        assert prof.index[:, 1].tolist() == [100.0, 100.0]
