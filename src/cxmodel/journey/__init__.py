"""Journey analytics: sessions, transitions, funnels, step matrices, paths and attribution."""

from cxmodel.journey._attribution import (
    MODELS,
    Attribution,
    attribution,
    markov_removal_effects,
    shapley_values,
)
from cxmodel.journey._compare import FunnelComparison, compare_funnels
from cxmodel.journey._friction import ERROR_KINDS, Friction, friction
from cxmodel.journey._funnel import Funnel, funnel
from cxmodel.journey._paths import Paths, paths
from cxmodel.journey._segments import (
    Comparison,
    compare_friction,
    compare_paths,
    compare_step_matrices,
    compare_transitions,
)
from cxmodel.journey._sessions import sessions
from cxmodel.journey._step_matrix import StepMatrix, step_matrix
from cxmodel.journey._transitions import END, START, Transitions, transitions

__all__ = [
    "END",
    "ERROR_KINDS",
    "MODELS",
    "START",
    "Attribution",
    "Comparison",
    "Friction",
    "Funnel",
    "FunnelComparison",
    "Paths",
    "StepMatrix",
    "Transitions",
    "attribution",
    "compare_friction",
    "compare_funnels",
    "compare_paths",
    "compare_step_matrices",
    "compare_transitions",
    "friction",
    "funnel",
    "markov_removal_effects",
    "paths",
    "sessions",
    "shapley_values",
    "step_matrix",
    "transitions",
]
