"""Journey analytics: sessions, transitions, funnels, step matrices, paths and attribution."""

from cxmodel.journey._sessions import sessions
from cxmodel.journey._transitions import END, START, Transitions, transitions

__all__ = ["END", "START", "Transitions", "sessions", "transitions"]
