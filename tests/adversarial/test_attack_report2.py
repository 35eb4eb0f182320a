"""The CX report, its figures and the command line against hostile input: names holding markup,
mathtext or control characters, degenerate and huge data, and bad command lines."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import CXModelError, DataError, SchemaError
from cxmodel.log import InteractionLog
from cxmodel.report import cx_report

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def _world(**renamed_kinds: str) -> InteractionLog:
    """A small synthetic world with some kinds renamed (standard name -> hostile name)."""
    frame = cx.datasets.synthetic(customers=150, seed=2).log.to_pandas()
    for name in frame.columns:
        if str(frame[name].dtype) == "category":
            frame[name] = frame[name].astype(object)
    frame["kind"] = frame["kind"].replace(renamed_kinds)
    return InteractionLog.from_pandas(frame)


def _quiet(call: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return call()


def _svg(ax: Any) -> str:
    """The figure of ``ax`` as SVG with its text kept as text."""
    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none"}):
        ax.figure.savefig(buffer, format="svg")
    return buffer.getvalue()


class TestDollarSignsInNames:
    """matplotlib reads text between two dollar signs as mathtext: a kind named ``$\\frac$``
    failed the whole page with a ValueError, and ``cost $5 or $6`` lost its words."""

    def test_the_page_draws_a_kind_that_is_bad_mathtext(self) -> None:
        log = _world(view="$\\frac$", email_sent="cost $5 or $6")
        page = _quiet(lambda: cx_report(log).to_html())
        assert "$\\frac$" in page and "cost $5 or $6" in page

    def test_a_plot_draws_the_name_as_written(self) -> None:
        log = _world(view="$\\frac$", email_sent="cost $5 or $6")
        svg = _svg(cx.journey.transitions(log).plot())
        assert "$\\frac$" in svg and "cost $5 or $6" in svg


def _small_log() -> InteractionLog:
    return InteractionLog.from_arrays(
        ["a", "a", "b", "b", "c"],
        ["2024-01-01T00:00Z", "2024-01-03T00:00Z", "2024-01-02T00:00Z", "2024-02-05T00:00Z",
         "2024-03-01T00:00Z"],
        ["view", "purchase", "view", "purchase", "survey"],
        value=[float("nan"), 5.0, float("nan"), 7.0, float("nan")],
        metric=[None, None, None, None, "nps"],
        score=[float("nan")] * 4 + [9.0],
    )  # fmt: skip


def _failing_plots() -> list[tuple[str, Any, type[Exception]]]:
    from cxmodel import plot
    from cxmodel.metrics import nps
    from cxmodel.models import BetaGeo, RFMSummary
    from cxmodel.triggers import evaluate, parse

    log = _small_log()
    firings = evaluate(
        parse("trigger t:\n    when purchase as p\n    emit thanks\n"),
        log,
        as_of="2024-04-01T00:00Z",
    )
    model = BetaGeo()
    model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    empty = RFMSummary(*(np.zeros(0, dtype=t) for t in (object, float, float, float, float)), "W")
    funnel = cx.journey.funnel(log, ["view", "purchase"])
    table = _quiet(lambda: nps(log, period="month"))
    return [
        ("survival of no curve", lambda: plot.plot_survival({}), SchemaError),
        ("metric table, unknown column", lambda: table.plot(value="nope"), SchemaError),
        ("firings, unknown period", lambda: firings.plot(period="year"), CXModelError),
        ("empty model summary", lambda: model.plot_period_transactions(empty), DataError),
        ("funnel, keyword matplotlib refuses", lambda: funnel.plot(bogus=1), SchemaError),
    ]


class TestFailedPlotsCloseTheirFigure:
    """A plot that made a pyplot figure and then failed left it open: called in a loop, the
    figures piled up (matplotlib warns after 20) until the process ran out of memory."""

    @pytest.mark.parametrize("case", range(5))
    def test_no_figure_is_left_open(self, case: int) -> None:
        name, draw, error = _failing_plots()[case]
        for _ in range(3):
            with pytest.raises(error):
                _quiet(draw)
        assert plt.get_fignums() == [], name


def _said(ax: Any) -> str:
    """Every text written on the axes (not the title or the axis labels)."""
    return " ".join(t.get_text() for t in ax.texts)


def _foreign(call: Any) -> list[str]:
    """Warnings ``call()`` lets out that are not cxmodel's own."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if not type(w.message).__module__.startswith("cxmodel")]


class TestNoBlankFigureWithoutAWord:
    """Results with nothing to draw gave an empty frame, and a few points gave an invisible
    line, without a word saying why."""

    def test_drivers_none_left(self) -> None:
        table = _quiet(lambda: cx.metrics.experience_drivers(_world(), metric="nps", min_n=10**6))
        assert len(table) == 0
        assert "No experience drivers" in _said(table.plot())

    def test_comparison_of_nothing(self) -> None:
        from cxmodel.plot import plot_comparison

        assert "No comparisons" in _said(plot_comparison({}))

    def test_cohorts_without_purchases(self) -> None:
        """matplotlib also warned twice about identical limits, and the figure was empty."""
        log = InteractionLog.from_arrays(
            ["a", "b"], ["2024-01-01T00:00Z", "2024-02-01T00:00Z"], ["view", "view"]
        )
        result = _quiet(lambda: cx.metrics.cohort_retention(log))
        holder: list[Any] = []
        assert _foreign(lambda: holder.append(result.plot())) == []
        assert "No cohorts" in _said(holder[0])

    def test_friction_with_no_label_left(self) -> None:
        result = _quiet(lambda: cx.journey.friction(_small_log()))
        assert "No interaction" in _said(result.plot(min_events=10**6))

    def test_firings_on_a_single_day_are_visible(self) -> None:
        from cxmodel.triggers import evaluate, parse

        log = InteractionLog.from_arrays(
            ["a", "b"], ["2024-01-01T08:00Z", "2024-01-01T09:00Z"], ["purchase"] * 2
        )
        rules = parse("trigger t:\n    when purchase as p\n    emit thanks\n")
        ax = evaluate(rules, log, as_of="2024-01-02T00:00Z").plot()
        (line,) = ax.lines
        assert len(line.get_xdata()) == 1 and line.get_marker() not in (None, "", "None")

    def test_survival_when_every_duration_is_zero(self) -> None:
        """Everything on one instant: the curve is one point on the frame."""
        curve = cx.metrics.kaplan_meier([0.0, 0.0, 0.0], [1, 0, 0])
        assert "duration is 0" in _said(curve.plot())


class TestHugeFigures:
    """Figures sized by their labels grew without bound: a cohort heatmap of a log from year 1
    to 9999 wrote 720,000 cell texts (gigabytes, minutes), and a step matrix of 300 steps was
    a 168 x 117 inch figure whose PNG took 8 GB."""

    def test_cohorts_over_eight_thousand_years(self) -> None:
        log = InteractionLog.from_arrays(
            ["a", "a", "b", "b", "c"],
            ["0001-01-05T00:00Z", "9999-12-01T00:00Z", "0001-03-01T00:00Z", "2024-01-01T00:00Z",
             "5000-01-01T00:00Z"],
            ["purchase"] * 5,
        )  # fmt: skip
        result = _quiet(lambda: cx.metrics.cohort_retention(log))
        assert result.rates.shape[1] > 100_000
        ax = result.plot()
        assert len(ax.texts) <= 2_000
        assert len(ax.get_xticks()) <= 100
        ax.figure.savefig(io.BytesIO(), format="png")

    @pytest.mark.parametrize("what", ["transitions", "step_matrix"])
    def test_many_labels_make_a_figure_of_bounded_size(self, what: str) -> None:
        rng = np.random.default_rng(0)
        n = 6_000
        log = InteractionLog.from_arrays(
            [f"c{i}" for i in rng.integers(0, 50, n)],
            np.sort(rng.integers(1_600_000_000, 1_700_000_000, n)),
            [f"k{i}" for i in rng.integers(0, 150, n)],
        )
        result = (
            cx.journey.transitions(log)
            if what == "transitions"
            else cx.journey.step_matrix(log, steps=250)
        )
        width, height = result.plot().figure.get_size_inches()
        assert width <= 24 and height <= 18


def _outside_figures(page: str) -> str:
    """The page without its inline SVG figures (matplotlib's text, not the page's)."""
    return re.sub(r"<svg\b.*?</svg>", "", page, flags=re.DOTALL)


class TestThePageShowsTextThatWouldActOnIt:
    """A right-to-left override in a name reversed the rest of its paragraph on the page (the
    counts after it read backwards), and NUL and other control characters went in raw."""

    def test_bidi_overrides_and_controls_are_shown_escaped(self) -> None:
        log = _world(view="\u202eweiv", email_sent="mail\x00sent", search="find\x1b[31m")
        page = _outside_figures(_quiet(lambda: cx_report(log).to_html(figures=False)))
        for raw in ("\u202e", "\x00", "\x1b"):
            assert raw not in page
        assert "\\u202eweiv" in page and "mail\\x00sent" in page and "find\\x1b[31m" in page

    def test_the_page_names_no_web_address(self) -> None:
        """matplotlib's RDF metadata and namespace declarations put http:// addresses in every
        figure of the page."""
        page = _quiet(lambda: cx_report(_world()).to_html())
        assert "<svg" in page and "://" not in page


BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER = next((found for name in BROWSERS if (found := shutil.which(name))), None)


@pytest.mark.skipif(BROWSER is None, reason="no Chromium binary on PATH")
def test_long_names_keep_the_page_within_the_window(tmp_path: Path) -> None:
    """A kind of 400 letters made the laptop page 8,547 pixels wide (the overview's table and
    every list of kinds ran off the screen)."""
    assert BROWSER is not None
    log = _world(view="V" * 400, email_sent="E" * 400)
    page = _quiet(lambda: cx_report(log).to_html(figures=False))
    # a copy that measures itself: the page's own policy forbids scripts
    probe = page.replace("http-equiv='Content-Security-Policy'", "name='policy'").replace(
        "</body>",
        "<script>document.title = document.documentElement.scrollWidth + '/' + "
        "window.innerWidth</script></body>",
    )
    path = tmp_path / "probe.html"
    path.write_text(probe, encoding="utf-8")
    done = subprocess.run(
        [BROWSER, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
         "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2000",
         "--dump-dom", path.as_uri()],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    found = re.search(r"<title>(\d+)/(\d+)</title>", done.stdout)
    assert found is not None, done.stderr[-2000:]
    assert int(found.group(1)) <= int(found.group(2))


class TestTerminalEscapesInTheData:
    """The text report and the command line printed the data's escape sequences to the
    terminal: a kind holding ``ESC ] 0 ; ... BEL`` retitled the window, ``ESC [ 2 J`` cleared
    the screen, and a carriage return in a name overwrote the line it was on."""

    HOSTILE = "\x1b]0;pwned\x07view"

    def test_the_text_report(self) -> None:
        log = _world(view=self.HOSTILE, search="find\r\nFAKE LINE")
        text = str(_quiet(lambda: cx_report(log)))
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "\\x1b]0;pwned\\x07view" in text and "find\\r\\nFAKE LINE" in text

    def test_cli_summary_and_explain(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from cxmodel.cli import main

        data, rules = tmp_path / "d.csv", tmp_path / "r.cx"
        data.write_text(
            "customer_id,timestamp,kind\n"
            '"c1\x1b[2J",2024-01-01T00:00:00Z,purchase\n'
            f'c2,2024-01-02T00:00:00Z,"{self.HOSTILE}"\n',
            encoding="utf-8",
        )
        rules.write_text("trigger t:\n    when purchase as p\n    emit thanks\n", encoding="utf-8")
        assert main(["summary", str(data)]) == 0
        summary = capsys.readouterr().out
        explain = ["explain", str(rules), str(data), "c1\x1b[2J", "--as-of", "2024-02-01T00:00Z"]
        assert main(explain) == 0
        explained = capsys.readouterr().out
        for out in (summary, explained):
            assert "\x1b" not in out and "\x07" not in out
        assert "\\x1b]0;pwned\\x07view" in summary and "c1\\x1b[2J" in explained


class TestCommandLine:
    DATA = "customer_id,timestamp,kind,value\nc1,2024-01-01T00:00:00Z,purchase,5\n"

    def test_a_file_and_the_sample_are_not_both_taken(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``report data.csv --sample`` printed the report of the synthetic sample, exit 0,
        and nothing said the file was ignored."""
        from cxmodel.cli import main

        data = tmp_path / "d.csv"
        data.write_text(self.DATA, encoding="utf-8")
        for command in ("report", "summary"):
            assert main([command, str(data), "--sample", "--customers", "30"]) == 2
            out, err = capsys.readouterr()
            assert out == "" and err.count("\n") == 1 and "not both" in err

    def test_an_empty_out_is_refused(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``report --out ''`` printed the report, exit 0, and wrote no file without a word."""
        from cxmodel.cli import main

        data = tmp_path / "d.csv"
        data.write_text(self.DATA, encoding="utf-8")
        assert main(["report", str(data), "--out", ""]) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "--out" in err

    @pytest.mark.parametrize(
        "argv",
        [
            pytest.param([], id="no-command"),
            pytest.param(["bogus"], id="unknown-command"),
            pytest.param(["summary", "--customers", "many"], id="not-a-number"),
            pytest.param(["triggers", "r.cx", "d.csv", "--as-of", "x", "--format", "xml"], id="choice"),
            pytest.param(["explain", "r.cx"], id="missing-arguments"),
            pytest.param(["report", "--sample", "--no-such-option"], id="unknown-option"),
        ],
    )  # fmt: skip
    def test_a_wrong_command_line_is_one_line(
        self, capsys: pytest.CaptureFixture[str], argv: list[str]
    ) -> None:
        """argparse printed its usage (up to 7 lines) before the error, and ``main(argv)``
        raised SystemExit instead of returning the status it documents."""
        from cxmodel.cli import main

        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == "" and err.count("\n") == 1 and "error:" in err and "--help" in err

    def test_help_returns_zero(self, capsys: pytest.CaptureFixture[str]) -> None:
        from cxmodel.cli import main

        for command in ([], ["summary"], ["report"], ["sample"], ["check"], ["triggers"],
                        ["explain"]):  # fmt: skip
            assert main([*command, "--help"]) == 0
            assert capsys.readouterr().out.startswith("usage: cxmodel")


def test_a_placeholder_date_at_the_last_second_keeps_the_indicators() -> None:
    """A row at 9999-12-31 23:59:59 (the placeholder of many exports, and the last time a log
    holds) made the report date that instant; the key indicators, NPS card included, were left
    out as "could not be computed (end datetime.datetime(9999, 12, 31, 23, 59, 59, 1) is after
    9999-12-31T23:59:59 UTC ...)", an end the user never gave."""
    log = InteractionLog.from_arrays(
        ["a", "b", "a", "c"] * 10,
        ["2024-01-01T00:00Z", "2024-03-01T00:00Z", "2024-06-01T00:00Z", "9999-12-31T23:59:59Z"]
        * 10,
        ["purchase", "survey", "purchase", "view"] * 10,
        value=[5.0, None, 6.0, None] * 10,
        metric=[None, "nps", None, None] * 10,
        score=[None, 9.0, None, None] * 10,
    )
    report = _quiet(lambda: cx_report(log))
    assert "indicators" not in [item.key for item in report.left_out]
    (indicators,) = [s for s in report.sections if s.key == "indicators"]
    assert [card.label for card in indicators.cards][:1] == ["NPS"]


class TestMetricTablePlots:
    def test_huge_values_are_labelled_short(self) -> None:
        """A revenue of 1e300 was labelled with its 301 digits: the tick labels took the whole
        figure and matplotlib warned that the axes collapsed to zero size."""
        from cxmodel.metrics import MetricTable

        table = MetricTable(
            "value",
            {"by": np.array(["web", "app"], dtype=object), "revenue": np.array([1e300, 2e299])},
        )
        holder: list[Any] = []
        assert _foreign(lambda: holder.append(table.plot())) == []
        labels = [t.get_text() for t in holder[0].get_xticklabels()]
        assert labels == ["web\n1e+300", "app\n2e+299"]

    def test_a_table_without_rows_says_so(self) -> None:
        from cxmodel.metrics import MetricTable

        table = MetricTable("nps", {"by": np.array([], dtype=object), "value": np.array([])})
        assert "No rows" in _said(table.plot())


def test_huge_purchase_values_give_a_finite_interval() -> None:
    """Purchases worth 1e300 gave "12-month value per buyer ... 95 % CI -inf to inf" (the
    standard deviation overflowed in its squares) and numpy's overflow RuntimeWarnings; the
    VIP section's check that a feature varies overflowed the same way."""
    log = InteractionLog.from_arrays(
        [f"c{i % 40}" for i in range(400)],
        [f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00Z" for i in range(400)],
        ["purchase"] * 400,
        value=[1e300 * (1 + i % 3) for i in range(400)],
    )
    holder: list[Any] = []
    assert [m for m in _foreign(lambda: holder.append(cx_report(log))) if "overflow" in m] == []
    (indicators,) = [s for s in holder[0].sections if s.key == "indicators"]
    (card,) = [c for c in indicators.cards if c.label == "12-month value per buyer"]
    assert "inf" not in card.interval


class TestNobodyConverted:
    """A funnel by group that nobody entered drew nothing and let matplotlib's "No artists with
    labels found to put in legend" out; attribution without a conversion drew every channel at
    0 % of a credit that does not exist."""

    VIEWS = InteractionLog.from_arrays(
        ["a", "b", "c"], ["2024-01-01T00:00Z"] * 3, ["view"] * 3, channel=["web", "app", "web"]
    )

    def test_funnel_by_group(self) -> None:
        result = _quiet(lambda: cx.journey.funnel(self.VIEWS, ["purchase", "view"], by="channel"))
        holder: list[Any] = []
        assert _foreign(lambda: holder.append(result.plot())) == []
        assert "No one reached the first step" in _said(holder[0])

    def test_funnel(self) -> None:
        result = _quiet(lambda: cx.journey.funnel(self.VIEWS, ["purchase", "checkout"]))
        assert "No one reached the first step" in _said(result.plot())

    def test_attribution(self) -> None:
        result = _quiet(lambda: cx.journey.attribution(self.VIEWS))
        assert "No conversions" in _said(result.plot())


@pytest.mark.parametrize("given", ["figure", "array", "text"])
def test_ax_that_is_not_an_axes(given: str) -> None:
    """``plot(ax=fig)`` (a Figure, or the array plt.subplots(1, 2) returns) failed deep in the
    drawing with ``AttributeError: 'Figure' object has no attribute 'bar'``."""
    from cxmodel.errors import ValueTypeError

    figure, axes = plt.subplots(1, 2)
    ax = {"figure": figure, "array": axes, "text": "left"}[given]
    result = cx.journey.funnel(_small_log(), ["view", "purchase"])
    with pytest.raises(ValueTypeError, match="ax must be a matplotlib Axes"):
        result.plot(ax=ax)


class TestModelPlotsOfBrokenInput:
    @staticmethod
    def _model() -> Any:
        from cxmodel.models import BetaGeo

        model = BetaGeo()
        model.params_ = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
        return model

    @pytest.mark.parametrize(
        "plot",
        [
            "plot_frequency_recency_matrix",
            "plot_probability_alive_matrix",
            "plot_period_transactions",
        ],
    )
    def test_a_summary_holding_nan(self, plot: str) -> None:
        """An RFMSummary with a NaN frequency raised numpy's ``ValueError: cannot convert float
        NaN to integer`` (or bincount's "no negative elements")."""
        from cxmodel.models import RFMSummary

        summary = RFMSummary(
            np.array(["a", "b"], dtype=object), np.array([np.nan, 1.0]), np.array([0.0, 1.0]),
            np.array([2.0, 2.0]), np.zeros(2), "W",
        )  # fmt: skip
        with pytest.raises(DataError, match="frequency"):
            getattr(self._model(), plot)(summary)

    def test_a_model_without_a_finite_value(self) -> None:
        """A model whose parameters are NaN drew an empty heatmap without a word."""
        from cxmodel.models import BetaGeo

        model = BetaGeo()
        model.params_ = {"r": np.nan, "alpha": np.nan, "a": np.nan, "b": np.nan}
        ax = model.plot_frequency_recency_matrix(max_frequency=4, max_recency=6)
        assert "No finite value" in _said(ax)


def _unscoped_selectors(markup: str) -> list[str]:
    """The CSS selectors of ``markup``'s style elements that reach past the report: by the
    document (``body``, ``:root``, ``*``) or by a bare element type (``table``, ``h2``)."""
    css = " ".join(re.findall(r"<style[^>]*>(.*?)</style>", markup, flags=re.DOTALL))
    css = re.sub(r"@media[^{]*\{", "", css)
    found = []
    for rule in css.split("}"):
        if "{" not in rule:
            continue
        for selector in rule.split("{")[0].split(","):
            first = selector.strip().split(" ")[0]
            if first and not first.startswith((".", "#")):
                found.append(selector.strip())
    return found


def test_the_notebook_view_does_not_restyle_the_notebook() -> None:
    """Shown in Jupyter, the report's style sheet applied to the whole notebook: every table
    became 100 % wide, every h2 underlined, the body font 15 px. It is shown in a frame of
    its own now, which holds the page as it is written."""
    import html

    report = _quiet(lambda: cx_report(_small_log()))
    markup = report._repr_html_()
    assert _unscoped_selectors(markup) == []
    assert markup.startswith("<iframe srcdoc=")
    inner = html.unescape(markup.split('srcdoc="', 1)[1].split('" title=', 1)[0])
    assert inner == _quiet(report.to_html)
