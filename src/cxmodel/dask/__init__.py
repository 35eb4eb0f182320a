"""Run cxmodel's mergeable accumulators and per-customer computations on Dask: partial states
are computed per partition and merged in a tree.

Importing this package does not import dask; each function imports it lazily.
"""

from cxmodel.dask._common import tree_merge
from cxmodel.dask._customer_table import customer_table
from cxmodel.dask._customers import map_customers, rfm_scores
from cxmodel.dask._funnel import funnel
from cxmodel.dask._journeys import transitions
from cxmodel.dask._partitions import CustomerPartitions, from_dask
from cxmodel.dask._paths import paths
from cxmodel.dask._step_matrix import step_matrix
from cxmodel.dask._survey import ces, csat, nps
from cxmodel.dask._triggers import evaluate
from cxmodel.dask._whole import cohort_retention, customer_lifetimes, rfm_summary

__all__ = [
    "CustomerPartitions",
    "ces",
    "cohort_retention",
    "csat",
    "customer_lifetimes",
    "customer_table",
    "evaluate",
    "from_dask",
    "funnel",
    "map_customers",
    "nps",
    "paths",
    "rfm_scores",
    "rfm_summary",
    "step_matrix",
    "transitions",
    "tree_merge",
]
