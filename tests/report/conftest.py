"""Fixtures of the report tests: a synthetic world's log and its report, built once."""

from __future__ import annotations

import pytest

import cxmodel as cx
from cxmodel.report import CXReport, cx_report


@pytest.fixture(scope="session")
def world_log() -> cx.InteractionLog:
    """A synthetic world of 400 customers (seed 3)."""
    return cx.datasets.synthetic(customers=400, seed=3).log


@pytest.fixture(scope="session")
def world_report(world_log: cx.InteractionLog) -> CXReport:
    """The report of ``world_log`` as of its last interaction."""
    return cx_report(world_log)
