"""The queue of customers remembering interaction ids (``_remembering.Remembering``)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cxmodel.triggers._remembering import Remembering


class TestRemembering:
    def test_a_customer_is_queued_at_its_earliest_time(self) -> None:
        queue = Remembering()
        queue.add("a", 50)
        queue.add("a", 70)  # later: changes nothing
        queue.add("a", 20)  # earlier: queued again, the entry at 50 left to drop
        assert (queue.queued_at("a"), len(queue)) == (20, 1)
        assert queue.due(20) == []
        assert queue.due(21) == ["a"]
        assert queue.due(100) == []  # the entry at 50 was the old one
        assert ("a" in queue, queue.queued_at("a")) == (False, None)

    def test_due_in_time_order_then_customer(self) -> None:
        queue = Remembering()
        queue.add_many([("c", 5), ("b", 5), ("a", 9), ("d", 1)])
        assert queue.due(9) == ["d", "b", "c"]
        assert queue.due(10) == ["a"]

    def test_a_customer_taken_off_is_queued_again_when_added(self) -> None:
        queue = Remembering()
        queue.add("a", 5)
        assert queue.due(6) == ["a"]
        queue.add("a", 8)
        assert queue.due(9) == ["a"]

    def test_a_customer_discarded_is_not_due(self) -> None:
        queue = Remembering()
        queue.add_many([("a", 5), ("b", 6)])
        queue.discard("a")
        queue.discard("nobody")
        assert ("a" in queue, queue.due(10)) == (False, ["b"])
        queue.add("a", 20)  # queued again after: due at its new time only
        assert (queue.due(20), queue.due(21)) == ([], ["a"])

    @settings(max_examples=200, deadline=None)
    @given(
        st.lists(
            st.one_of(
                st.tuples(st.just("add"), st.sampled_from("abcd"), st.integers(0, 30)),
                st.tuples(st.just("many"), st.sampled_from("abcd"), st.integers(0, 30)),
                st.tuples(st.just("due"), st.just(""), st.integers(0, 40)),
                st.tuples(st.just("discard"), st.sampled_from("abcd"), st.just(0)),
            ),
            max_size=40,
        )
    )
    def test_equals_a_scan_of_every_customer(self, steps: list[tuple[str, str, int]]) -> None:
        """Against a model keeping each customer's earliest time since it was last taken off
        and scanning all of them: the same customers come due, in time order."""
        queue, model = Remembering(), dict[str, int]()
        for step, cid, time in steps:
            if step == "discard":
                queue.discard(cid)
                model.pop(cid, None)
            elif step == "due":
                want = sorted((t, c) for c, t in model.items() if t < time)
                assert queue.due(time) == [c for _, c in want]
                for _, c in want:
                    del model[c]
            else:
                if step == "add":
                    queue.add(cid, time)
                else:
                    queue.add_many([(cid, time)])
                model[cid] = min(time, model.get(cid, time))
            assert len(queue) == len(model)
            assert all(queue.queued_at(c) == t for c, t in model.items())
