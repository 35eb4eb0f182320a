"""The report, its figures, the verbatim tools and the command line attacked once more: names
that read like SVG attributes, invisible characters, names of thousands of characters, metric
values that are no number or near the largest float, corpora the topic model's pruning empties,
Chinese verbatims, stop words given as one string, and sample options given with a file."""

from __future__ import annotations

import io
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import cxmodel as cx
from cxmodel.errors import CXModelError, ValueTypeError
from cxmodel.log import InteractionLog
from cxmodel.metrics import MetricTable
from cxmodel.report import cx_report
from tests.adversarial.helpers import foreign_warnings

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def _frame() -> Any:
    """The rows of a small synthetic world as a data frame of plain (object) columns."""
    frame = cx.datasets.synthetic(customers=150, seed=2).log.to_pandas()
    for name in frame.columns:
        if str(frame[name].dtype) == "category":
            frame[name] = frame[name].astype(object)
    return frame


def _svg_of(draw: Any) -> tuple[str, list[str]]:
    """The report's inline SVG of ``draw`` and the warnings that are not cxmodel's own."""
    from cxmodel.report._figures import svg

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        markup = svg(draw, id_prefix="f-")
    foreign = [
        f"{type(w.message).__name__}: {w.message}"
        for w in caught
        if not type(w.message).__module__.startswith("cxmodel")
    ]
    return markup, foreign


def _drawn_text(markup: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", markup)


class TestFigureTextIsDrawnAsWritten:
    def test_a_name_that_reads_like_an_svg_attribute(self) -> None:
        """A kind named ``x id="a" href="#b" url(#c)`` was drawn in the page's figures as
        ``x id="f-a" href="#f-b" url(#f-c)``: the prefixing that keeps the ids of several
        figures apart rewrote the figure's text too. The name is drawn as written, and every
        reference still names an id of the figure."""
        name = 'x id="a" href="#b" url(#c)'
        markup, _ = _svg_of(lambda ax: (ax.plot([0, 1], [1, 0]), ax.set_title(name)))
        assert 'x id="a" href="#b" url(#c)' in _drawn_text(markup)
        ids = set(re.findall(r'\bid="([^"]+)"', markup))
        refs = set(re.findall(r'<[^>]*?(?:url\(|href=")#([^")]+)', markup))
        assert refs and refs <= ids


class TestLongNamesKeepTheFigure:
    """A kind or a channel of 3,000 characters pushed the plot out of its figure: matplotlib
    warned "constrained_layout not applied because axes sizes collapsed to zero" and drew an
    empty frame. Names are cut with an ellipsis, and the plot keeps its place."""

    @staticmethod
    def _log() -> InteractionLog:
        frame = _frame()
        frame["kind"] = frame["kind"].replace({"search": "s" * 3000})
        frame["channel"] = frame["channel"].replace({"web": "w" * 3000})
        return InteractionLog.from_pandas(frame)

    @pytest.mark.parametrize("what", ["transitions", "step_matrix", "attribution", "nps"])
    def test_the_plot_of_long_names(self, what: str) -> None:
        log = self._log()
        result = {
            "transitions": lambda: cx.journey.transitions(log),
            "step_matrix": lambda: cx.journey.step_matrix(log, steps=4),
            "attribution": lambda: cx.journey.attribution(log, conversion="purchase"),
            "nps": lambda: cx.metrics.nps(log, by="channel"),
        }[what]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", cx.metrics.SmallSampleWarning)
            made = result()
        markup, foreign = _svg_of(lambda ax: made.plot(ax=ax))
        assert foreign == []
        assert max(len(t) for t in _drawn_text(markup)) < 100
        assert any(t.endswith("…") for t in _drawn_text(markup))

    def test_the_page_of_a_kind_of_ten_thousand_letters(self) -> None:
        """The page's "common next steps" figure collapsed, with matplotlib's warning."""
        frame = _frame()
        frame["kind"] = frame["kind"].replace({"search": "s" * 10_000})
        report = cx_report(InteractionLog.from_pandas(frame))
        assert foreign_warnings(report.to_html) == []


def _page_of(report: Any) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        page: str = report.to_html()
    return page


class TestManySeriesKeepTheFigure:
    """Sixty rules, groups or survival curves gave a legend of sixty lines, taller than the
    plot: matplotlib warned that its layout collapsed and drew an empty frame. A legend lists
    ten series and counts the others."""

    @staticmethod
    def _firings() -> Any:
        from cxmodel.triggers import evaluate, parse

        log = cx.datasets.synthetic(customers=100, seed=0).log
        text = "".join(f"trigger rule_{i}:\n  when purchase\n  emit act_{i}\n" for i in range(60))
        return evaluate(parse(text), log, as_of="2024-12-31T00:00Z")

    @staticmethod
    def _curves() -> Any:
        rng = np.random.default_rng(0)
        groups = np.array([f"group {i % 60}" for i in range(600)], dtype=object)
        return cx.metrics.kaplan_meier_by(
            rng.uniform(1, 100, 600), rng.integers(0, 2, 600), groups=groups
        )

    @staticmethod
    def _table() -> MetricTable:
        rng = np.random.default_rng(0)
        names = np.array([f"g{i}" for i in range(60)], dtype=object)
        periods = np.array(["2024-01", "2024-02", "2024-03"], dtype=object)
        return MetricTable(
            "value",
            {
                "by": np.repeat(names, 3),
                "period": np.tile(periods, 60),
                "value": rng.uniform(0, 1, 180),
            },
        )

    @pytest.mark.parametrize("what", ["firings", "survival", "metric table"])
    def test_sixty_series(self, what: str) -> None:
        if what == "firings":
            made = self._firings()
            markup, foreign = _svg_of(lambda ax: made.plot(ax=ax))
        elif what == "survival":
            curves = self._curves()
            markup, foreign = _svg_of(lambda ax: cx.plot.plot_survival(curves, ax=ax))
        else:
            table = self._table()
            markup, foreign = _svg_of(lambda ax: table.plot(ax=ax))
        assert foreign == []
        assert "… 50 more not listed" in _drawn_text(markup)


class TestInvisibleCharactersOnThePage:
    def test_a_zero_width_space_shows(self) -> None:
        """The customer 'C1' followed by a zero-width space, named by a trigger, showed on the
        page as 'C1': the same as the customer 'C1'. The text report showed ``C1\\u200b``; the
        page shows the escape too, as it does for a control character. A word joiner and a
        byte-order mark are escaped alike; the joiners of emoji and of Persian words are kept."""
        from cxmodel.report._html import _e

        n = 40
        log = InteractionLog.from_arrays(
            customer_id=["C1\u200b", "C1", "C2", "C3"] * n,
            timestamp=[f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00Z" for i in range(4 * n)],
            kind=["view", "purchase", "view", "product_view"] * n,
        )
        page = _page_of(cx_report(log))
        assert "C1\\u200b" in page and "\u200b" not in page
        assert _e("C\u2060X \ufeffB") == "C\\u2060X \\ufeffB"
        assert _e("می\u200cخواهم 👨\u200d👩") == "می\u200cخواهم 👨\u200d👩"


def test_a_result_in_a_notebook_shows_what_its_repr_shows() -> None:
    """A result's HTML table (its view in a notebook) wrote a right-to-left override in a
    customer id as it was, reversing the rest of the cell ('C1' + override + '23' read 'C132'),
    and a NUL raw; its plain ``repr`` showed ``C1\\u202e23``. The HTML shows the escapes too."""
    log = InteractionLog.from_arrays(
        customer_id=["C1\u202e23", "a\x00b"],
        timestamp=[0, 1],
        kind=["purchase", "purchase"],
        value=[1.0, 2.0],
    )
    lifetimes = cx.metrics.customer_lifetimes(log, as_of="1970-01-02T00:00Z")
    markup = lifetimes._repr_html_()
    assert "\u202e" not in markup and "\x00" not in markup
    assert "C1\\u202e23" in markup and "C1\\u202e23" in repr(lifetimes)


class _Tags(HTMLParser):
    """Every start tag, and the end tags that do not close the element last opened."""

    VOID = frozenset({"meta", "br", "img", "input", "link", "hr"})

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.tags: set[str] = set()
        self.addresses: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.addresses += [v for k, v in attrs if k in ("src", "href") and v and v[:1] != "#"]
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.open and self.open[-1] == tag:
            self.open.pop()
        else:
            self.unbalanced.append(tag)


_HOSTILE = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</style><b>x",
    "{{7*7}}",
    "${7*7}",
    "'onmouseover='a",
    "\u202eabc",
    "😀🎉",
    'x id="q" href="#z"',
)


def test_a_page_of_hostile_text_everywhere() -> None:
    """Markup, template syntax, quotes, a bidirectional override and emoji in the customer
    ids, kinds, channels and products: one well-formed page, no element the data made, no
    address, each name shown escaped."""
    frame = _frame()
    ids = sorted(frame["customer_id"].unique())
    frame["customer_id"] = frame["customer_id"].map(
        {c: f"{_HOSTILE[i % len(_HOSTILE)]}#{i}" for i, c in enumerate(ids)}
    )
    for column in ("channel", "product"):
        frame[column] = frame[column].map(
            lambda v: v if not isinstance(v, str) else f"{_HOSTILE[len(v) % len(_HOSTILE)]}{v}"
        )
    frame["kind"] = frame["kind"].replace(
        {"email_sent": _HOSTILE[0], "push_sent": _HOSTILE[1], "search": _HOSTILE[2]}
    )
    page = _page_of(cx_report(InteractionLog.from_pandas(frame)))
    parsed = _Tags()
    parsed.feed(page)
    parsed.close()
    assert parsed.open == [] and parsed.unbalanced == []
    assert not parsed.tags & {"script", "img", "b", "iframe", "link"}
    assert parsed.addresses == [] and not re.search(r"https?://", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;/style&gt;&lt;b&gt;x" in page
    assert "\\u202eabc" in page and "\u202e" not in page


def _table(values: list[float], *, period: bool) -> MetricTable:
    labels = [f"2024-{i + 1:02d}" for i in range(len(values))] if period else list("abcd")
    key = "period" if period else "by"
    return MetricTable(
        "value",
        {
            key: np.array(labels[: len(values)], dtype=object),
            "value": np.array(values, dtype=np.float64),
        },
    )


def _drawn(ax: Any) -> list[str]:
    return [t.get_text() for t in ax.texts]


class TestMetricTablesOfValuesThatAreNoNumber:
    @pytest.mark.parametrize("period", [False, True], ids=["bars", "line"])
    def test_every_value_nan(self, period: bool) -> None:
        """A table whose values are all NaN (a mean of no reading) gave an empty frame (the
        bars drawn as 0, the line as nothing) without a word."""
        ax = _table([np.nan, np.nan], period=period).plot()
        assert any("every value is NaN" in t for t in _drawn(ax))

    def test_a_nan_bar_is_not_a_zero(self) -> None:
        """A NaN among numbers was a bar of height 0 labelled with nothing: it passed for a
        measured 0. It is counted on the figure and its label says it is not drawn."""
        ax = _table([1.0, np.nan], period=False).plot()
        assert any(t.startswith("1 of 2 values") for t in _drawn(ax))
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a\n1", "b\nnot drawn"]

    @pytest.mark.parametrize(
        "values",
        [[np.inf, 1.0], [-np.inf, 1.0], [-1e308, 1e308], [1e308, 1.7e308]],
        ids=["inf", "-inf", "both-ends-of-float", "near-the-largest-float"],
    )
    @pytest.mark.parametrize("period", [False, True], ids=["bars", "line"])
    def test_infinite_and_huge_values(self, values: list[float], period: bool) -> None:
        """An infinite mean let numpy's overflow RuntimeWarnings out, and values near the
        largest float failed the drawing with matplotlib's ``OverflowError: cannot convert
        float infinity to integer`` or numpy's ``ValueError: arange: cannot compute length``."""

        def draw() -> None:
            ax = _table(values, period=period).plot()
            ax.figure.savefig(io.BytesIO(), format="svg")

        assert foreign_warnings(draw) == []
        plt.close("all")
        ax = _table(values, period=period).plot()
        ax.figure.savefig(io.BytesIO(), format="svg")
        assert any("NaN, infinite or beyond" in t for t in _drawn(ax))


class TestForestPlotsOfValuesThatAreNoNumber:
    """The forest plot behind plot_drivers, plot_contrast and the comparisons drew an empty
    frame without a word when every estimate was NaN, and failed with numpy's
    ``LinAlgError: Singular matrix`` on estimates near the largest float."""

    @staticmethod
    def _drivers(difference: list[float], low: list[float], high: list[float]) -> Any:
        return MetricTable(
            "experience drivers",
            {
                "driver": np.array(["late", "return"], dtype=object),
                "difference": np.array(difference),
                "ci_low": np.array(low),
                "ci_high": np.array(high),
            },
        )

    @pytest.mark.parametrize(
        ("difference", "low", "high", "said"),
        [
            ([np.nan, np.nan], [np.nan] * 2, [np.nan] * 2, "No estimates to draw"),
            ([1e308, -1e308], [1e307, -1.7e308], [1.7e308, 0.0], "No estimates to draw"),
            ([np.inf, 1.0], [0.0, 0.5], [np.inf, 2.0], "1 of 2 estimates"),
        ],
        ids=["nan", "near-the-largest-float", "inf"],
    )
    def test_is_drawn_with_a_word(
        self, difference: list[float], low: list[float], high: list[float], said: str
    ) -> None:
        table = self._drivers(difference, low, high)

        def draw() -> None:
            ax = cx.plot.plot_drivers(table)
            ax.figure.savefig(io.BytesIO(), format="svg")

        assert foreign_warnings(draw) == []
        plt.close("all")
        ax = cx.plot.plot_drivers(table)
        assert any(t.startswith(said) for t in _drawn(ax))

    def test_an_infinite_bound_does_not_stretch_the_axis(self) -> None:
        """An interval of -inf to inf is not drawn (clipped, it would span ±1e300 and flatten
        the other rows); its estimate is."""
        ax = cx.plot.plot_drivers(self._drivers([-30.0, 5.0], [-45.0, -np.inf], [-15.0, np.inf]))
        low, high = ax.get_xlim()
        assert low > -100 and high < 100


def test_a_keyword_matplotlib_refuses() -> None:
    """``kaplan_meier(...).plot(colour="red")`` (a British spelling) raised matplotlib's
    ``AttributeError: Line2D.set() got an unexpected keyword argument 'colour'``."""
    with pytest.raises(CXModelError, match="unknown keyword 'colour'.*did you mean 'color'"):
        cx.metrics.kaplan_meier([1, 2], [1, 1]).plot(colour="red")


def _tickets(texts: list[str | None]) -> InteractionLog:
    n = len(texts)
    return InteractionLog.from_arrays(
        customer_id=[f"c{i}" for i in range(n)],
        timestamp=[f"2024-01-{1 + i % 28:02d}T10:00Z" for i in range(n)],
        kind=["ticket_opened"] * n,
        text=texts,
    )


class TestTopicsOfCorporaThePruningEmpties:
    """From 50 documents on, topics() drops words of one document and words of nearly every
    document; when that left no word, scikit-learn's ``ValueError: After pruning, no terms
    remain`` escaped."""

    def test_sixty_copies_of_one_text(self) -> None:
        """A form's default answer submitted 60 times: one topic, and the warning that fewer
        topics were found than asked."""
        pytest.importorskip("sklearn")
        with pytest.warns(cx.errors.DataWarning, match="found 1 of the 3 topics"):
            found = cx.text.topics(_tickets(["refund please now"] * 60), n_topics=3)
        assert found.volume.tolist() == [60]
        assert set(found.terms[0]) == {"refund", "please", "now"}

    def test_sixty_texts_sharing_no_word(self) -> None:
        """Sixty order numbers and codes, no word in two texts: topics, not a crash."""
        pytest.importorskip("sklearn")
        texts = [f"order{i}x code{i}y" for i in range(60)]
        assert foreign_warnings(lambda: cx.text.topics(_tickets(texts), n_topics=3)) == []
        found = cx.text.topics(_tickets(texts), n_topics=3)
        assert int(found.volume.sum()) == 60


class TestChineseVerbatims:
    def test_topics_of_chinese_texts(self) -> None:
        """tokenize() gives a Han text one token per ideograph, and topics() dropped every
        one-character token: a corpus of Chinese verbatims failed with "no text has a word
        outside the stop words", and the Chinese words of mixed texts were silently lost.
        Han ideographs are words of their own and are kept."""
        pytest.importorskip("sklearn")
        texts = ["退款 没有 收到", "登录 密码 重置", "退款 还是 没有", "refund 退款"]
        found = cx.text.topics(_tickets(texts), n_topics=2)
        terms = {t for topic in found.terms for t in topic}
        assert {"退", "款", "密", "码"} <= terms


class TestStopWordsGivenAsOneString:
    """``stop="refund"`` iterated as letters: the word was kept, silently."""

    def test_topics(self) -> None:
        pytest.importorskip("sklearn")
        with pytest.raises(ValueTypeError, match=r"stop must be a collection of words.*"):
            cx.text.topics(_tickets(["refund late", "refund lost"]), stop="refund")

    def test_tokenize(self) -> None:
        with pytest.raises(ValueTypeError, match=r"write \{'the'\}"):
            cx.text.tokenize("the refund", stop_words="the")
        assert cx.text.tokenize("the refund", stop_words={"the"}) == ["refund"]


def test_sentiment_of_a_mapping_of_texts() -> None:
    """``sentiment({"T-1": "great", "T-2": "awful"})`` (tickets by id) scored the ids: every
    one unreadable, with a warning about other languages. A mapping is refused, saying to pass
    its values."""
    with pytest.raises(ValueTypeError, match=r"not a mapping.*pass its \.values\(\)"):
        cx.text.sentiment({"T-1": "great", "T-2": "awful"}, cx.text.BasicScorer())


class TestSampleOptionsWithAFile:
    @pytest.mark.parametrize(
        ("extra", "named"),
        [
            (["--customers", "5"], "--customers 5 sets"),
            (["--seed", "3"], "--seed 3 sets"),
            (["--customers", "5", "--seed", "3"], "--customers 5 and --seed 3 set"),
        ],
    )
    @pytest.mark.parametrize("command", ["summary", "report"])
    def test_is_refused(
        self,
        command: str,
        extra: list[str],
        named: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """``report data.csv --customers 5`` reported the file, exit 0, and ignored the option
        without a word: the user thought they had the report of 5 customers."""
        from cxmodel.cli import main

        data = tmp_path / "data.csv"
        cx.write_csv(cx.datasets.synthetic(customers=20, seed=0).log, data)
        capsys.readouterr()
        assert main([command, str(data), *extra]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1 and named in captured.err
        assert "--sample" in captured.err

    def test_the_sample_still_takes_them(self, capsys: pytest.CaptureFixture[str]) -> None:
        from cxmodel.cli import main

        assert main(["summary", "--sample", "--customers", "30", "--seed", "4"]) == 0
        assert "(30 customers, seed 4)" in capsys.readouterr().out


class TestYesOrNoGivenAsText:
    """A switch given as text was read by its truth: ``to_html(figures="no")`` drew every
    figure, ``plot(annotate="no")`` wrote every percentage. Anything but True or False is
    refused, naming the switch, as the analyses' own switches are."""

    @staticmethod
    def _log() -> InteractionLog:
        return InteractionLog.from_arrays(
            customer_id=["a", "a", "b", "b"],
            timestamp=[
                "2024-01-01T00:00Z",
                "2024-02-01T00:00Z",
                "2024-01-05T00:00Z",
                "2024-03-01T00:00Z",
            ],
            kind=["view", "purchase", "purchase", "purchase"],
        )

    @pytest.mark.parametrize(
        ("call", "named"),
        [
            (lambda log: cx_report(log).to_html(figures="no"), "to_html(): figures"),
            (lambda log: cx.journey.transitions(log).plot(annotate="no"), "annotate"),
            (lambda log: cx.journey.step_matrix(log, steps=2).plot(annotate=1), "annotate"),
            (lambda log: cx.journey.funnel(log, ["view", "purchase"]).plot(by="no"), "by"),
            (lambda log: cx.metrics.kaplan_meier([1, 2], [1, 1]).plot(ci=0), "ci"),
            (lambda log: cx.metrics.cohort_retention(log).plot(annotate="off"), "annotate"),
        ],
        ids=["to_html", "transitions", "step_matrix", "funnel", "survival", "cohorts"],
    )
    def test_is_refused(self, call: Any, named: str) -> None:
        with pytest.raises(ValueTypeError, match=rf"{re.escape(named)} must be True or False"):
            call(self._log())
        assert plt.get_fignums() == []


def test_a_report_as_of_pandas_nat() -> None:
    """``cx_report(log, as_of=pd.NaT)`` (a missing date of a data frame) failed with pandas'
    ``ValueError: NaTType does not support utcoffset``; it is refused as numpy's NaT is."""
    pd = pytest.importorskip("pandas")
    log = cx.datasets.synthetic(customers=20, seed=1).log
    with pytest.raises(CXModelError, match="as_of is NaT; expected a time"):
        cx_report(log, as_of=pd.NaT)


class TestAJsonLinesFileNamedJson:
    def test_is_read_as_json_lines(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``cxmodel summary export.json`` of a JSON-lines export read it as CSV and failed
        with "required column 'customer_id' is missing (columns: ['{"customer_id": "a"', ...])":
        the JSON fragments as column names. A .json file is read as JSON lines."""
        from cxmodel.cli import main

        path = tmp_path / "export.json"
        path.write_text(
            '{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}\n'
            '{"customer_id": "b", "timestamp": "2024-01-02T00:00:00Z", "kind": "purchase"}\n',
            encoding="utf-8",
        )
        assert main(["summary", str(path)]) == 0
        assert "customers    2" in capsys.readouterr().out

    def test_a_json_array_is_told_apart(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A .json file holding one JSON array gets the reader's word on it, in one line."""
        from cxmodel.cli import main

        path = tmp_path / "export.json"
        path.write_text(
            '[{"customer_id": "a", "timestamp": "2024-01-01T00:00:00Z", "kind": "view"}]',
            encoding="utf-8",
        )
        assert main(["summary", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "one JSON array, not JSON lines" in err


def test_triggers_over_a_file_without_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``cxmodel triggers rules.cx export.csv`` of an export holding only its header printed
    nothing and exited 0: the same as "nobody to act on". A note says the data are empty."""
    from cxmodel.cli import main

    rules = tmp_path / "rules.cx"
    rules.write_text("trigger thanks:\n  when purchase\n  emit thank\n", encoding="utf-8")
    data = tmp_path / "export.csv"
    data.write_text("customer_id,timestamp,kind\n", encoding="utf-8")
    assert main(["triggers", str(rules), str(data), "--as-of", "2024-12-31T00:00Z"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "note: the data hold no interaction, so no rule can fire" in captured.err


class TestErrorLinesShowEscapesAsWritten:
    """The one line of an error printed a file's name, or a rules file's line, with its
    terminal escape sequences acting on the terminal (a name holding ``ESC[2J`` cleared it)."""

    def test_a_folder_named_with_an_escape(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        from cxmodel.cli import main

        folder = tmp_path / "data\x1b[2J"
        folder.mkdir()
        assert main(["summary", str(folder)]) == 2
        err = capsys.readouterr().err
        assert "\x1b" not in err and "data\\x1b[2J" in err

    def test_a_rules_file_holding_an_escape(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``check`` quotes the line of each diagnostic, and quoted it as it was."""
        from cxmodel.cli import main

        rules = tmp_path / "rules.cx"
        rules.write_text("trigger t\x1b[2J:\n  when purchase\n  emit x\n", encoding="utf-8")
        assert main(["check", str(rules)]) == 1
        err = capsys.readouterr().err
        assert "\x1b" not in err and "t\\x1b[2J" in err


class TestFiguresOfNamesThatWouldAct:
    """The page escaped the data's control characters and bidirectional overrides, but not in
    its figures: a kind holding NUL, ESC or U+FFFE was written raw into the inline SVG (which
    no XML parser reads: "not well-formed (invalid token)"), with matplotlib's "Glyph 0 (\\x00)
    missing from font(s)" UserWarning, and a right-to-left override reversed the figure's
    label."""

    @staticmethod
    def _page(renamed: dict[str, str]) -> tuple[str, list[str]]:
        frame = _frame()
        frame["kind"] = frame["kind"].replace(renamed)
        report = cx_report(InteractionLog.from_pandas(frame))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            page = report.to_html()
        foreign = [
            f"{type(w.message).__name__}: {w.message}"
            for w in caught
            if not type(w.message).__module__.startswith("cxmodel")
        ]
        return page, foreign

    def test_control_characters_and_overrides(self) -> None:
        page, foreign = self._page(
            {"search": "a\x00b", "view": "v\x1b[2Jw", "push_sent": "p\ufffeq\u202er\tz"}
        )
        assert foreign == []
        assert not re.search("[\x00\x1b\ufffe\u202e]", page)
        drawn = _drawn_text(page)
        assert "a\\x00b" in drawn and "v\\x1b[2Jw" in drawn
        assert not [t for t in drawn if "\t" in t]  # a tab is a glyph no font has

    def test_names_in_scripts_matplotlib_has_no_glyph_for(self) -> None:
        """Chinese or Devanagari kinds let matplotlib's "Glyph 36864 missing from font(s)
        DejaVu Sans" UserWarnings out of ``to_html()``: the page keeps figure text as text,
        drawn by the browser in its own fonts, so the glyphs of matplotlib's font do not
        matter. A plot drawn by matplotlib itself still warns (its PNG lacks them)."""
        page, foreign = self._page({"search": "退款", "view": "नमस्ते"})
        assert foreign == []
        assert "退款" in _drawn_text(page)

    def test_a_label_of_newlines_is_one_line(self) -> None:
        """A kind of 200 lines drew a tick label of 20 lines (after the cut at 40)."""
        from cxmodel.plot._style import plain

        assert plain("x\n" * 200) == "x\\n" * 13 + "…"
