"""Shared fixtures of the plot tests: the Agg backend, small real results, and the checks."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.axes import Axes

import cxmodel as cx
from cxmodel.errors import MissingDependencyError


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    """Close every figure a test opened (pyplot keeps them otherwise)."""
    yield
    plt.close("all")


@pytest.fixture(scope="session")
def world() -> cx.datasets.SyntheticWorld:
    """A small synthetic CX world (300 customers, one year)."""
    return cx.datasets.synthetic(300, seed=0)


@pytest.fixture(scope="session")
def log(world: cx.datasets.SyntheticWorld) -> cx.InteractionLog:
    """The world's log with sessions."""
    return cx.journey.sessions(world.log)


def _drew(ax: Axes) -> bool:
    """Whether the axes hold any drawn artist (lines, patches, images, collections)."""
    return bool(ax.lines or ax.patches or ax.images or ax.collections)


def _check(draw: Callable[..., Any]) -> Axes:
    """Run the standard checks on ``draw(ax=None | ax)`` and return the new-figure Axes.

    It returns an Axes with something drawn, saves to SVG and PNG, and with ``ax=`` draws
    into the given axes and returns them.
    """
    ax = draw()
    assert isinstance(ax, Axes)
    assert _drew(ax)
    for fmt in ("svg", "png"):
        buffer = io.BytesIO()
        ax.figure.savefig(buffer, format=fmt)
        assert buffer.getvalue()
    fig, given = plt.subplots()
    out = draw(ax=given)
    assert out is given
    assert _drew(given)
    assert len(fig.axes) >= 1 and given in fig.axes
    return ax


@pytest.fixture
def no_matplotlib(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the optional-import helper behave as if matplotlib were not installed."""
    real = cx._optional.import_optional

    def absent(module: str, feature: str) -> Any:
        if module.split(".")[0] == "matplotlib":
            raise MissingDependencyError(
                f'{feature} requires matplotlib: pip install "cxmodel[plot]"'
            )
        return real(module, feature)

    monkeypatch.setattr(cx._optional, "import_optional", absent)


@pytest.fixture
def check() -> Callable[[Callable[..., Any]], Axes]:
    """The standard checks of a plot call (see ``_check``)."""
    return _check
