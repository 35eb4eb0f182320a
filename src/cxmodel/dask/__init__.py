"""Run cxmodel's mergeable accumulators and per-customer computations on Dask (DESIGN section 7).

Importing this package does not import dask; each function imports it lazily.
"""

from cxmodel.dask._common import tree_merge
from cxmodel.dask._customers import map_customers, rfm_scores
from cxmodel.dask._survey import ces, csat, nps

__all__ = ["ces", "csat", "map_customers", "nps", "rfm_scores", "tree_merge"]
