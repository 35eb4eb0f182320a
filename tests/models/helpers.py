"""Helpers of the model tests: the data folder and the comparison with published estimates."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).parent / "data"


def close_to_published(got: float, published: float, decimals: int) -> bool:
    """Published values are printed to ``decimals`` places: within 1.5 units of the last place,
    or a relative difference of 1e-3, whichever is looser."""
    return abs(got - published) <= max(1.5 * 10.0**-decimals, 1e-3 * abs(published))
