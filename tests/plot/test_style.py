"""Tests of the plots' shared style: colours, number formats, axes set-up, heatmaps and forest
plots, and the missing-matplotlib error."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cxmodel.errors import MissingDependencyError, SchemaError
from cxmodel.plot._style import (
    _DRAWS,
    GREY,
    PALETTE,
    _keywords,
    _text_colour,
    artist_options,
    axes,
    colour,
    count,
    finish,
    forest,
    heatmap,
    number,
    percent,
    percent_axis,
    require,
    shorten,
)


class TestFormats:
    def test_colour_cycles_the_palette(self) -> None:
        """Series 0..7 get the palette in order; series 8 starts again."""
        assert list(PALETTE) == [colour(i) for i in range(8)]
        assert colour(9) == PALETTE[1]

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(0.5, "50%"), (1.0, "100%"), (0.0004, "0%"), (math.nan, "")],
        ids=["half", "all", "tiny", "nan"],
    )
    def test_percent(self, value: float, expected: str) -> None:
        """Shares print as whole percentages; NaN prints nothing."""
        assert expected == percent(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(999_999, "999,999"), (1_000_000, "1M"), (-2_500_000, "-2.5M"), (math.inf, "")],
        ids=["below-a-million", "a-million", "negative", "infinite"],
    )
    def test_count(self, value: float, expected: str) -> None:
        """Counts are separated by thousands until a million, then shortened."""
        assert expected == count(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [(999.4, "999"), (1000.0, "1,000"), (0.0012345, "0.00123"), (math.nan, "")],
        ids=["below-a-thousand", "a-thousand", "small", "nan"],
    )
    def test_number(self, value: float, expected: str) -> None:
        """Three significant digits below a thousand, whole numbers from a thousand."""
        assert expected == number(value)

    def test_shorten(self) -> None:
        """Text up to the width is kept; longer text ends in an ellipsis within the width."""
        assert shorten("purchase", 8) == "purchase"
        assert shorten("purchases", 8) == "purchas…"
        assert shorten("a  bcdef", 3) == "a…"  # trailing space dropped before the ellipsis

    def test_text_colour_by_luminance(self) -> None:
        """Black on light fills, white on dark ones."""
        assert (_text_colour((1.0, 1.0, 0.8, 1.0)), _text_colour((0.1, 0.1, 0.4, 1.0))) == (
            "black",
            "white",
        )


class TestAxes:
    def test_given_axes_are_used(self) -> None:
        """An axes passed in is returned as is; None makes a new figure of the size asked."""
        _, given = plt.subplots()
        assert given is axes(given)
        new = axes(None, figsize=(3.0, 2.0))
        assert new is not given
        assert tuple(new.figure.get_size_inches()) == (3.0, 2.0)

    def test_finish(self) -> None:
        """Title and labels set, top and right frame hidden."""
        _, ax = plt.subplots()
        out = finish(ax, title="NPS", xlabel="month", ylabel="score")
        assert out is ax
        assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("NPS", "month", "score")
        assert not ax.spines["top"].get_visible() and not ax.spines["right"].get_visible()
        assert ax.spines["left"].get_visible()

    def test_percent_axis(self) -> None:
        """Tick labels of a share axis read as percentages."""
        _, ax = plt.subplots()
        percent_axis(ax, digits=0)
        assert ax.yaxis.get_major_formatter()(0.25) == "25%"

    def test_require_names_the_extra(self, no_matplotlib: None) -> None:
        """Without matplotlib the error says which extra to install."""
        with pytest.raises(MissingDependencyError, match=r'pip install "cxmodel\[plot\]"'):
            require()


class TestHeatmap:
    def test_blank_nan_cells_and_texts(self) -> None:
        """A NaN cell is masked and gets no text; the others get their text; labels and the
        colour bar's title are set."""
        _, ax = plt.subplots()
        values = np.array([[0.0, 1.0], [np.nan, 0.5]])
        texts = np.array([["a", "b"], ["c", "d"]], dtype=object)
        image = heatmap(
            ax, values, rows=["r1", "r2"], columns=["c1", "c2"], texts=texts, colourbar="share"
        )
        assert image.get_array().mask.tolist() == [[False, False], [True, False]]
        assert sorted(t.get_text() for t in ax.texts) == ["a", "b", "d"]
        assert [t.get_text() for t in ax.get_xticklabels()] == ["c1", "c2"]
        assert ax.figure.axes[-1].get_ylabel() == "share"


class TestForest:
    def test_rows_top_down_and_colours_by_reference(self) -> None:
        """The first label is the top row; an interval clear of the reference is drawn in the
        first palette colour, one across it in grey."""
        _, ax = plt.subplots()
        forest(ax, ["clear", "across"], [2.0, 0.5], [1.0, -1.0], [3.0, 2.0],
               xlabel="effect", title="Effects")  # fmt: skip
        rows = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
        assert rows["clear"] > rows["across"]
        points = ax.collections[-1]
        rgba = points.get_facecolors()
        expected = [plt.matplotlib.colors.to_rgba(c) for c in (PALETTE[0], GREY)]
        assert expected == [tuple(c) for c in rgba.tolist()]
        assert ax.get_title() == "Effects"


class TestArtistOptions:
    """A plot's **kwargs are checked against the matplotlib method and artist they go to."""

    def test_defaults_then_the_callers_keywords(self) -> None:
        assert artist_options("bar", {"color": "k", "width": 0.5}, {"width": 0.9}) == {
            "color": "k",
            "width": 0.9,
        }

    def test_an_alias_overrides_the_default_it_stands_for(self) -> None:
        """lw=3 replaces a default linewidth: matplotlib refuses both given together."""
        assert artist_options("plot", {"linewidth": 1.6, "color": "k"}, {"lw": 3}) == {
            "color": "k",
            "lw": 3,
        }
        _, ax = plt.subplots()
        ax.plot([0, 1], [0, 1], **artist_options("plot", {"linewidth": 1.6}, {"lw": 3}))
        assert ax.lines[0].get_linewidth() == 3

    @pytest.mark.parametrize(
        ("method", "keyword", "meant"),
        [
            ("step", "colour", "color"),
            ("bar", "edgecolour", "edgecolor"),
            ("barh", "hieght", "height"),
            ("scatter", "markr", "marker"),
            ("pcolormesh", "edgecolours", "edgecolors"),
            ("imshow", "interpolaton", "interpolation"),
        ],
    )
    def test_an_unknown_keyword_is_named_with_the_one_meant(
        self, method: str, keyword: str, meant: str
    ) -> None:
        with pytest.raises(SchemaError, match=f"unknown keyword {keyword!r}") as info:
            artist_options(method, {}, {keyword: 1})
        assert f"did you mean {meant!r}?" in str(info.value)
        assert _DRAWS[method][1] in str(info.value)  # the artist

    def test_a_keyword_the_plot_sets_itself(self) -> None:
        with pytest.raises(SchemaError, match="'c' is set by the plot itself"):
            artist_options("plot", {}, {"c": "red"}, set_here=("color",))

    def test_one_property_under_two_names(self) -> None:
        with pytest.raises(SchemaError, match="'lw' and 'linewidth' name one property"):
            artist_options("plot", {}, {"lw": 1, "linewidth": 2})

    def test_bar_keywords_that_are_not_properties(self) -> None:
        """ax.bar takes error bars and tick labels from **kwargs besides Rectangle's
        properties; the check lets them through."""
        options = {"yerr": [0.1], "capsize": 2, "tick_label": ["a"], "log": False}
        _, ax = plt.subplots()
        ax.bar([0], [1], **artist_options("bar", {}, options))

    @pytest.mark.parametrize("method", sorted(_DRAWS))
    def test_every_setter_of_a_throwaway_artist_is_taken(self, method: str) -> None:
        """What the artist's set() takes (ArtistInspector), the check takes, but for the
        arguments the plot gives positionally (a bar's height)."""
        from matplotlib.artist import ArtistInspector

        module, name, positional, _ = _DRAWS[method]
        artist = getattr(__import__(module, fromlist=[name]), name)
        _, known, _ = _keywords(method)
        assert set(ArtistInspector(artist).get_setters()) - set(positional) <= known
        assert not set(positional) & known

    @given(st.text(min_size=1, max_size=20), st.sampled_from(sorted(_DRAWS)))
    def test_refused_exactly_when_unknown(self, keyword: str, method: str) -> None:
        _, known, _ = _keywords(method)
        if keyword in known:
            assert artist_options(method, {}, {keyword: 1}) == {keyword: 1}
        else:
            with pytest.raises(SchemaError, match="unknown keyword"):
                artist_options(method, {}, {keyword: 1})

    def test_every_plot_passes_its_keywords_through_the_check(self) -> None:
        """No plot hands its **kwargs to matplotlib without artist_options."""
        plots = Path(__file__).resolve().parents[2] / "src" / "cxmodel" / "plot"
        unchecked = [
            f"{path.name}:{number}"
            for path in sorted(plots.glob("*.py"))
            for number, line in enumerate(path.read_text().splitlines(), 1)
            if "**(options | kwargs)" in line
        ]
        assert unchecked == []
