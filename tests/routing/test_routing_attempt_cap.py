"""A task is canceled after 1,000 reservation attempts.

The cap is engine logic that the store only records, and driving 1,000 attempts costs some
2,000 requests, so this module runs on SQLite only (it overrides the `backend` fixture); every
other routing module runs on both stores.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from routing.helpers import World


@pytest.fixture(scope="module", params=[pytest.param("sqlite", id="sqlite")])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


MAX_ATTEMPTS = 1_000


def test_a_task_is_canceled_after_1000_reservation_attempts(world: World) -> None:
    """Every attempt needs a worker who has not declined the task yet: 1,000 workers are
    added (eight requests at a time), and each lets its reservation time out, one clock step
    each. With 1,000 workers a full check costs thousands of requests, so the invariants are
    checked once, at the end, rather than at each of the 2,000 steps."""
    queue = world.queue("Q")
    world.simple_workflow(queue, reservation_timeout=1)
    task = world.task()
    with world.unchecked(check_after=False):
        with ThreadPoolExecutor(8) as pool:
            workers = list(pool.map(lambda n: world.worker(f"w{n}"), range(MAX_ATTEMPTS)))
        assert world.reserved_worker(task) in workers
        for n in range(1, MAX_ATTEMPTS):
            world.advance(1)
            if n % 100 == 0:
                assert world.status(task) == "reserved"
        world.advance(1)
        assert world.status(task) in ("pending", "canceled")
        reservations = world.reservations(task)
        assert len(reservations) == MAX_ATTEMPTS
        assert {r.reservation_status for r in reservations} == {"timeout"}
        assert {r.worker_sid for r in reservations} == set(workers)
    # No 1,001st reservation: the task is canceled (at the latest when one would be made).
    latecomer = world.worker("latecomer")  # checks the invariants
    fetched = world.fetch(task)
    assert fetched.assignment_status == "canceled"
    assert fetched.reason
    assert len(world.reservations(task)) == MAX_ATTEMPTS
    assert world.ws.workers(latecomer).reservations.list() == []
