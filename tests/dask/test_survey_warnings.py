"""cxmodel.dask's survey scores warn as the one-process scores do, on the local scheduler.

Apart from tests/dask/test_survey.py, whose module-wide cluster runs threads in this process
that save and restore Python's (process-wide) warning filters while a test's own recorder is
active, which can turn a recorded warning into an error.
"""

from __future__ import annotations

import pytest

from cxmodel import dask as cxd
from cxmodel import metrics
from cxmodel.log import InteractionLog

pytest.importorskip("dask.dataframe")


def test_zero_width_interval_warns_like_one_shot() -> None:
    """40 promoters over 3 partitions: the Wald interval is flat and cxmodel.dask.nps warns
    DataWarning once, as metrics.nps does. (The local scheduler: the warning is raised on the
    client after the merge, wherever the partitions ran.)"""
    import dask.dataframe as dd
    import numpy as np

    import dask
    from cxmodel.errors import DataWarning

    n = 40
    log = InteractionLog.from_arrays(
        [f"c{i:02d}" for i in range(n)], np.arange(n) * 1_000_000, ["survey"] * n,
        metric=["nps"] * n, score=np.full(n, 10.0),
    )  # fmt: skip
    ddf = dd.from_pandas(log.to_pandas(), npartitions=3)
    with (
        dask.config.set(scheduler="synchronous"),
        pytest.warns(DataWarning, match=r"NPS: 1 group\(s\).*ci='adjusted-wald'") as caught,
    ):
        got = cxd.nps(ddf)
    assert len(caught) == 1
    with pytest.warns(DataWarning, match="zero width"):
        assert got == metrics.nps(log)
