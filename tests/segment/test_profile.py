"""Segment profiles: size, share, means, medians and index per segment, against pandas."""

from __future__ import annotations

import numpy as np
import pytest

from cxmodel.errors import SchemaError
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
