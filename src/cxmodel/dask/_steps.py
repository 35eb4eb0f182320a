"""Steps checked once against what every partition knows: the kinds and the step values."""

from __future__ import annotations

from collections.abc import Sequence
from difflib import get_close_matches

import attrs

from cxmodel.journey._common import MISSING_LABEL
from cxmodel.journey._funnel import Step, split_step, warn_absent_value
from cxmodel.log import InteractionLog
from cxmodel.log._kinds import check_kinds, warn_absent_kinds

__all__ = ["StepVocabulary"]

# What a partition knows of a (column, value) step: present?, closest value, first 20 values.
Seen = tuple[bool, str | None, tuple[str, ...]]


def _closest(value: str, candidates: Sequence[str]) -> str | None:
    """``get_close_matches(value, candidates, n=1)``: the same pick from any superset's picks."""
    close = get_close_matches(value, candidates, n=1)
    return close[0] if close else None


def _merge_seen(value: str, a: Seen, b: Seen) -> Seen:
    """Both partitions' knowledge of a step value. The closest value over both is the closer of
    their closest ones (``get_close_matches`` ranks by ratio, then by the string)."""
    picks = [c for c in (a[1], b[1]) if c is not None]
    first = tuple(sorted(set(a[2]) | set(b[2]))[:20])
    return a[0] or b[0], _closest(value, picks), first


@attrs.frozen(eq=False)
class StepVocabulary:
    """What some partitions know of a set of steps: their kinds and, per ``(column, value)``
    step, whether the value occurs, the closest value and the first 20 values (what the
    one-process checks show). ``merge`` is exact, commutative and associative.
    """

    kinds: frozenset[str]
    seen: dict[Step, Seen]

    @classmethod
    def empty(cls) -> StepVocabulary:
        """The identity state."""
        return cls(frozenset(), {})

    @classmethod
    def of(cls, log: InteractionLog | None, steps: Sequence[Step]) -> StepVocabulary:
        """What one partition's log knows of ``steps``."""
        if log is None:
            return cls.empty()
        seen: dict[Step, Seen] = {}
        for step in steps:
            column, value = split_step(step)
            if column == "kind" or column not in log:
                continue
            known = [str(v) for v in log.categorical(column)[1].tolist()]
            seen[step] = (value in known, _closest(value, known), tuple(sorted(known)[:20]))
        return cls(frozenset(str(k) for k in log.kinds.tolist()), seen)

    def merge(self, other: StepVocabulary) -> StepVocabulary:
        """What both know."""
        seen = dict(self.seen)
        for step, theirs in other.seen.items():
            mine = seen.get(step)
            seen[step] = theirs if mine is None else _merge_seen(split_step(step)[1], mine, theirs)
        return StepVocabulary(self.kinds | other.kinds, seen)

    def require(self, steps: Sequence[Step]) -> None:
        """Raise as :func:`cxmodel.journey._funnel.step_mask` raises for a misspelt kind step
        (nothing to check when no partition has rows)."""
        if not self.kinds:
            return
        for step in steps:
            column, value = split_step(step)
            if column == "kind":
                check_kinds(sorted(self.kinds), [value], argument=f"step {step!r}")

    def check(self, steps: Sequence[Step], *, argument: str, meaning: str | None) -> None:
        """:func:`cxmodel.journey._funnel.check_steps` against every partition: the same errors,
        and the same warnings at the caller of the public function that calls this."""
        if not self.kinds:
            return
        absent: list[str] = []
        for step in steps:
            column, value = split_step(step)
            if column == "kind":
                absent.extend(check_kinds(sorted(self.kinds), [value], argument=argument))
                continue
            present, close, first = self.seen.get(step, (False, None, ()))
            if present or value == MISSING_LABEL or meaning is None:
                continue
            warn_absent_value(argument, (column, value), meaning, close, first)
        if meaning is not None:
            absent_kinds = tuple(dict.fromkeys(absent))
            warn_absent_kinds(absent_kinds, argument=argument, meaning=meaning)
