"""Tests for the hypothesis strategies in cxmodel.testing."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import given

from cxmodel.domain import METRIC_SCALES, MONEY_KINDS, STANDARD_KINDS, Interaction
from cxmodel.log import InteractionLog
from cxmodel.testing import interaction_logs, interactions


class TestInteractions:
    @given(interactions())
    def test_valid_interaction(self, interaction: Interaction) -> None:
        """Drawn interactions are aware-UTC, standard-kind and on-scale."""
        assert interaction.kind in STANDARD_KINDS
        assert interaction.timestamp.utcoffset() is not None
        assert interaction.timestamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        if interaction.kind in MONEY_KINDS and interaction.value is not None:
            assert interaction.value >= 0
        if interaction.metric is not None:
            low, high = METRIC_SCALES[interaction.metric]
            assert interaction.score is not None and low <= interaction.score <= high

    @given(interactions(customer_ids=["a", "b"], kinds=["survey", "purchase"]))
    def test_restricted(self, interaction: Interaction) -> None:
        """customer_ids and kinds restrict what is drawn."""
        assert interaction.customer_id in ("a", "b")
        assert interaction.kind in ("survey", "purchase")

    @pytest.mark.parametrize(
        ("kwargs", "needle"),
        [({"kinds": []}, "kinds"), ({"customer_ids": []}, "customer_ids")],
    )
    def test_bad_input(self, kwargs: dict[str, Any], needle: str) -> None:
        """Empty choices are rejected with a message naming the argument."""
        with pytest.raises(ValueError, match=needle):
            interactions(**kwargs)


class TestInteractionLogs:
    @given(interaction_logs(min_customers=2, max_customers=4))
    def test_valid_log(self, log: InteractionLog) -> None:
        """Drawn logs respect the customer bounds and the sorted CSR layout."""
        assert 2 <= log.n_customers <= 4
        offsets = log.offsets
        assert offsets[0] == 0 and offsets[-1] == len(log)
        assert (np.diff(offsets) >= 1).all()
        assert (np.diff(log.customer_codes) >= 0).all()
        for i in range(log.n_customers):
            assert (np.diff(log.timestamps[offsets[i] : offsets[i + 1]]) >= 0).all()

    @given(interaction_logs(max_customers=3, max_rows_per_customer=3, kinds=["survey"]))
    def test_kinds_and_rows(self, log: InteractionLog) -> None:
        """Only the requested kinds appear, and no customer exceeds the row limit."""
        assert set(log.categorical("kind")[1].tolist()) == {"survey"}
        assert int(np.diff(log.offsets).max()) <= 3
        assert not np.isnan(log.numeric("score")).any()

    @pytest.mark.parametrize(
        ("kwargs", "needle"),
        [
            ({"min_customers": 0}, "min_customers"),
            ({"min_customers": 4, "max_customers": 2}, "max_customers"),
            ({"max_rows_per_customer": 0}, "max_rows_per_customer"),
        ],
    )
    def test_bad_input(self, kwargs: dict[str, Any], needle: str) -> None:
        """Impossible bounds are rejected with a message naming the argument."""
        with pytest.raises(ValueError, match=needle):
            interaction_logs(**kwargs)


class TestImport:
    def test_cxmodel_does_not_import_hypothesis(self) -> None:
        """`import cxmodel` loads neither cxmodel.testing nor hypothesis."""
        code = (
            "import sys, cxmodel; "
            "assert 'hypothesis' not in sys.modules; "
            "assert 'cxmodel.testing' not in sys.modules"
        )
        subprocess.run([sys.executable, "-c", code], check=True)
