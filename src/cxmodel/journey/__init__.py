"""Journey analytics: sessions, transitions, funnels, step matrices, paths and attribution."""

from cxmodel.journey._funnel import Funnel, funnel
from cxmodel.journey._paths import Paths, paths
from cxmodel.journey._sessions import sessions
from cxmodel.journey._step_matrix import StepMatrix, step_matrix
from cxmodel.journey._transitions import END, START, Transitions, transitions

__all__ = [
    "END",
    "START",
    "Funnel",
    "Paths",
    "StepMatrix",
    "Transitions",
    "funnel",
    "paths",
    "sessions",
    "step_matrix",
    "transitions",
]
