"""progress=True shows a tqdm (or Dask) bar on the captured streams; the default prints nothing."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

import cxmodel as cx
from cxmodel.errors import MissingDependencyError
from cxmodel.models import BetaGeo, rfm_summary
from cxmodel.triggers import EXAMPLE_RULES, evaluate, parse

pytest.importorskip("tqdm")

AS_OF = "2030-01-01T00:00:00Z"


@pytest.fixture(scope="module")
def log() -> Any:
    return cx.datasets.synthetic(customers=150, seed=3).log


def _quiet(capsys: pytest.CaptureFixture[str]) -> None:
    out, err = capsys.readouterr()
    assert out == "" and err == ""


def test_evaluate_progress_one_step_per_rule(log: Any, capsys: pytest.CaptureFixture[str]) -> None:
    rules = parse(EXAMPLE_RULES)
    plain = evaluate(rules, log.with_observed_until(AS_OF), as_of=AS_OF)
    _quiet(capsys)
    shown = evaluate(rules, log.with_observed_until(AS_OF), as_of=AS_OF, progress=True)
    err = capsys.readouterr().err
    assert shown == plain
    assert "evaluate" in err and f"{len(rules)}/{len(rules)}" in err and "rule" in err


def test_fit_progress_counts_iterations(log: Any, capsys: pytest.CaptureFixture[str]) -> None:
    summary = rfm_summary(log)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = BetaGeo().fit(summary)
        _quiet(capsys)
        shown = BetaGeo().fit(summary, progress=True)
    err = capsys.readouterr().err
    assert shown.params_ == plain.params_
    assert "BetaGeo fit" in err and "iter" in err


def test_spend_fit_progress(log: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """Gamma-Gamma shows its iterations too, with the same fit."""
    from cxmodel.models import GammaGamma

    summary = rfm_summary(log)
    buyers = summary.frequency > 0
    data = {
        "frequency": summary.frequency[buyers],
        "monetary_value": summary.monetary_value[buyers],
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = GammaGamma().fit(**data)
        _quiet(capsys)
        shown = GammaGamma().fit(**data, progress=True)
    err = capsys.readouterr().err
    assert shown.params_ == plain.params_
    assert "GammaGamma fit" in err and "iter" in err


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_reader_progress_reports_stages_and_rows(
    log: Any, tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    path = tmp_path / f"log.{fmt}"
    write = {"csv": cx.io.write_csv, "parquet": cx.io.write_parquet}.get(fmt)
    if write is None:
        customers = log.column("customer_id").tolist()
        kinds = log.column("kind").tolist()
        path.write_text(
            "".join(
                f'{{"customer_id": "{c}", "timestamp": "2024-01-01T00:00:00Z", "kind": "{k}"}}\n'
                for c, k in zip(customers, kinds)
            ),
            encoding="utf-8",
        )
    else:
        write(log, path)
    read = {"csv": cx.io.read_csv, "jsonl": cx.io.read_jsonl, "parquet": cx.io.read_parquet}[fmt]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = read(path, dtypes=log.schema) if fmt == "csv" else read(path)
        _quiet(capsys)
        shown = (
            read(path, dtypes=log.schema, progress=True)
            if fmt == "csv"
            else read(path, progress=True)
        )
    err = capsys.readouterr().err
    assert len(shown) == len(plain)
    assert f"read_{fmt}" in err and "3/3" in err and f"{len(plain):,} rows" in err


def test_missing_tqdm_names_the_extra(log: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm now raises ImportError
    with pytest.raises(MissingDependencyError, match=r'pip install "cxmodel\[progress\]"'):
        evaluate(parse(EXAMPLE_RULES), log.with_observed_until(AS_OF), as_of=AS_OF, progress=True)
    evaluate(
        parse(EXAMPLE_RULES), log.with_observed_until(AS_OF), as_of=AS_OF
    )  # the default needs no tqdm


def test_dask_progress_uses_dasks_bar(log: Any, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("dask.dataframe")
    import dask.dataframe as dd

    import cxmodel.dask as cxd

    ddf = dd.from_pandas(log.to_pandas(), npartitions=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = cxd.nps(ddf)
        summary = cxd.rfm_summary(ddf)
        _quiet(capsys)
        shown = cxd.nps(ddf, progress=True)
        shown_summary = cxd.rfm_summary(ddf, progress=True)
    err = capsys.readouterr().err
    assert shown == plain
    assert shown_summary.customer_id.tolist() == summary.customer_id.tolist()
    assert "100%" in err and "Completed" in err


def test_from_dask_progress(log: Any, capsys: pytest.CaptureFixture[str]) -> None:
    """The one shuffle by customer shows Dask's bar too, and gives the same partitions."""
    pytest.importorskip("dask.dataframe")
    import dask.dataframe as dd

    import cxmodel.dask as cxd
    import dask

    ddf = dd.from_pandas(log.to_pandas(), npartitions=3)
    with dask.config.set(scheduler="synchronous"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _quiet(capsys)
        parts = cxd.from_dask(ddf, progress=True)
        err = capsys.readouterr().err
        assert "100%" in err
        from_parts = cxd.rfm_summary(parts)
        from_frame = cxd.rfm_summary(ddf)
    assert from_parts.customer_id.tolist() == from_frame.customer_id.tolist()
    assert from_parts.frequency.tolist() == from_frame.frequency.tolist()
