"""Queue membership kept incrementally with guards equals evaluating every pair afresh."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from taskrouter.engine.guards import guard_of
from taskrouter.engine.membership import Membership
from taskrouter.expressions import Context, compile_expression

EXPRESSIONS = [
    "skills HAS 'a'",
    "'b' IN skills",
    "skills HAS 3",
    "dept == 'x'",
    "level == 3",
    "level IN [1, '2']",
    "dept IN ['x', 'y'] AND level >= 2",
    "level >= 2 AND skills HAS 'c'",
    "skills HAS 'a' OR dept == 'x'",
    "1 == 1",
    "dept != 'x'",
    "team.name == 'red'",
    "level == '3'",
    "flag == true",
    "skills[any] == 'a'",
    "dept == null",
    "NOT skills HAS 'a'",
]

SCALARS = st.sampled_from(["a", "b", "c", "x", "y", 3, "3", "3.0", 2, "2", 1, True, None, 5.0])
ATTRIBUTES = st.fixed_dictionaries(
    {},
    optional={
        "skills": st.one_of(st.lists(SCALARS, max_size=4), SCALARS),
        "dept": SCALARS,
        "level": SCALARS,
        "flag": SCALARS,
        "team": st.one_of(st.fixed_dictionaries({"name": SCALARS}), SCALARS),
    },
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("queue"), st.integers(0, 5), st.sampled_from(EXPRESSIONS)),
        st.tuples(st.just("worker"), st.integers(0, 7), ATTRIBUTES),
        st.tuples(st.just("drop-queue"), st.integers(0, 5)),
        st.tuples(st.just("drop-worker"), st.integers(0, 7)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(STEPS)
def test_guarded_membership_equals_evaluating_every_pair(steps: list[tuple[Any, ...]]) -> None:
    membership = Membership()
    queues: dict[str, Any] = {}
    workers: dict[str, dict[str, Any]] = {}
    for step in steps:
        if step[0] == "queue":
            sid, predicate = f"WQ{step[1]}", compile_expression(step[2], Context.WORKER)
            queues[sid] = predicate
            membership.set_queue(sid, predicate)
        elif step[0] == "worker":
            sid = f"WK{step[1]}"
            workers[sid] = dict(step[2])  # a fresh document, as the service hands over
            membership.set_worker(sid, workers[sid])
        elif step[0] == "drop-queue" and f"WQ{step[1]}" in queues:
            del queues[f"WQ{step[1]}"]
            membership.remove_queue(f"WQ{step[1]}")
        elif step[0] == "drop-worker" and f"WK{step[1]}" in workers:
            del workers[f"WK{step[1]}"]
            membership.remove_worker(f"WK{step[1]}")
        for queue_sid, predicate in queues.items():
            expected = {w for w, attributes in workers.items() if predicate(attributes)}
            assert membership.members[queue_sid] == expected, (queue_sid, predicate.source)
        for worker_sid in workers:
            expected_queues = {
                q for q, members in membership.members.items() if worker_sid in members
            }
            assert membership.queues_of.get(worker_sid, set()) == expected_queues


def test_the_guard_read_off_each_expression() -> None:
    def guard(text: str) -> tuple[tuple[str, ...], set[tuple[str, object]]] | None:
        found = guard_of(compile_expression(text, Context.WORKER).node)
        return None if found is None else (found.path, set(found.keys))

    assert guard("skills HAS 'a' AND level >= 3") == (("skills",), {("s", "a")})
    assert guard("'a' IN skills") == (("skills",), {("s", "a")})
    assert guard("level == '3'") == (("level",), {("s", "3"), ("n", 3)})
    assert guard("dept IN ['x', 2]") == (("dept",), {("s", "x"), ("n", 2)})
    assert guard("team.name == 'red'") == (("team", "name"), {("s", "red")})
    # Nothing that any value could satisfy without equality is guarded.
    for text in (
        "skills HAS 'a' OR dept == 'x'",
        "dept != 'x'",
        "dept == null",
        "1 == 1",
        "NOT skills HAS 'a'",
        "skills[any] == 'a'",
        "level >= 3",
    ):
        assert guard(text) is None, text
