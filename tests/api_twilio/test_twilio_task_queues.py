"""TaskQueues: defaults, every field, expression errors, limits, list filters, membership."""

from __future__ import annotations

import json

import pytest
from twilio.rest import Client
from twilio.rest.taskrouter.v1.workspace import WorkspaceContext, WorkspaceInstance

from support.twilio_client import RawApi, assert_raw_error, raises_twilio, recorder_of


def _activity(ws: WorkspaceContext, name: str) -> str:
    return str(next(a.sid for a in ws.activities.list() if a.friendly_name == name))


def test_create_with_defaults(
    client: Client, ws: WorkspaceContext, workspace: WorkspaceInstance
) -> None:
    queue = ws.task_queues.create(friendly_name="Support")
    assert recorder_of(client).last.status == 201
    assert queue.sid.startswith("WQ")
    assert queue.friendly_name == "Support"
    assert queue.target_workers == "1==1"  # default (notes a.3)
    assert queue.max_reserved_workers == 1
    assert queue.task_order == "FIFO"
    assert queue.workspace_sid == workspace.sid
    assert queue.url.endswith(f"/v1/Workspaces/{workspace.sid}/TaskQueues/{queue.sid}")
    fetched = ws.task_queues(queue.sid).fetch()
    assert (fetched.friendly_name, fetched.target_workers, fetched.max_reserved_workers) == (
        "Support",
        "1==1",
        1,
    )
    assert fetched.task_order == "FIFO"


def test_create_with_every_field(ws: WorkspaceContext) -> None:
    reserved = ws.activities.create(friendly_name="Reserved", available=False)
    busy = ws.activities.create(friendly_name="Busy", available=False)
    queue = ws.task_queues.create(
        friendly_name="Sales",
        target_workers='skills HAS "sales" AND level >= 2',
        max_reserved_workers=50,
        task_order="LIFO",
        reservation_activity_sid=reserved.sid,
        assignment_activity_sid=busy.sid,
    )
    for q in (queue, ws.task_queues(queue.sid).fetch()):
        assert q.friendly_name == "Sales"
        assert q.target_workers == 'skills HAS "sales" AND level >= 2'
        assert q.max_reserved_workers == 50
        assert q.task_order == "LIFO"
        assert q.reservation_activity_sid == reserved.sid
        assert q.reservation_activity_name == "Reserved"
        assert q.assignment_activity_sid == busy.sid
        assert q.assignment_activity_name == "Busy"


def test_update_every_field(ws: WorkspaceContext) -> None:
    queue = ws.task_queues.create(friendly_name="Tier 1")
    reserved = ws.activities.create(friendly_name="Reserved", available=False)
    busy = ws.activities.create(friendly_name="Busy", available=False)
    updated = ws.task_queues(queue.sid).update(
        friendly_name="Tier 2",
        target_workers="level > 1",
        max_reserved_workers=3,
        task_order="LIFO",
        reservation_activity_sid=reserved.sid,
        assignment_activity_sid=busy.sid,
    )
    for q in (updated, ws.task_queues(queue.sid).fetch()):
        assert q.friendly_name == "Tier 2"
        assert q.target_workers == "level > 1"
        assert q.max_reserved_workers == 3
        assert q.task_order == "LIFO"
        assert q.reservation_activity_name == "Reserved"
        assert q.assignment_activity_name == "Busy"
    # An update of one field keeps the rest.
    ws.task_queues(queue.sid).update(friendly_name="Tier 3")
    after = ws.task_queues(queue.sid).fetch()
    assert (after.friendly_name, after.target_workers, after.max_reserved_workers) == (
        "Tier 3",
        "level > 1",
        3,
    )
    assert after.task_order == "LIFO"


@pytest.mark.parametrize("value", [1, 50])
def test_max_reserved_workers_bounds_accepted(ws: WorkspaceContext, value: int) -> None:
    queue = ws.task_queues.create(friendly_name=f"mrw-{value}", max_reserved_workers=value)
    assert queue.max_reserved_workers == value


@pytest.mark.parametrize("value", [0, 51, -1])
def test_max_reserved_workers_out_of_range(
    client: Client, ws: WorkspaceContext, value: int
) -> None:
    with raises_twilio(client, 400, code=20001, mentions="MaxReservedWorkers"):
        ws.task_queues.create(friendly_name=f"bad-{value}", max_reserved_workers=value)
    assert ws.task_queues.list(friendly_name=f"bad-{value}") == []
    queue = ws.task_queues.create(friendly_name=f"ok-{value}", max_reserved_workers=2)
    with raises_twilio(client, 400, code=20001, mentions="MaxReservedWorkers"):
        ws.task_queues(queue.sid).update(max_reserved_workers=value)
    assert ws.task_queues(queue.sid).fetch().max_reserved_workers == 2


def test_task_order_must_be_fifo_or_lifo(client: Client, ws: WorkspaceContext) -> None:
    with raises_twilio(client, 400, code=20001, mentions="TaskOrder"):
        ws.task_queues.create(friendly_name="random", task_order="RANDOM")
    assert ws.task_queues.list(friendly_name="random") == []


def test_invalid_target_workers_names_column_and_token(
    client: Client, ws: WorkspaceContext
) -> None:
    # The error names the 1-based column and the offending token (issue 3; the column base is
    # taskrouter's choice, see src/taskrouter/expressions/errors.py).
    expression = 'skills HAS "support" AND AND level > 1'
    column = expression.index("AND AND") + 5  # 1-based column of the second AND
    with raises_twilio(client, 400, code=20001) as error:
        ws.task_queues.create(friendly_name="broken", target_workers=expression)
    message = error[0].message
    assert f"column {column}" in message, message
    assert "AND" in message, message
    assert ws.task_queues.list(friendly_name="broken") == []

    queue = ws.task_queues.create(friendly_name="fine", target_workers='skills HAS "support"')
    with raises_twilio(client, 400, code=20001) as error:
        ws.task_queues(queue.sid).update(target_workers="level >")
    assert "column" in error[0].message, error[0].message
    assert ws.task_queues(queue.sid).fetch().target_workers == 'skills HAS "support"'


def test_unknown_activity_sid_is_rejected(client: Client, ws: WorkspaceContext) -> None:
    missing = "WA" + "0" * 32
    with raises_twilio(client, (400, 404)) as error:
        ws.task_queues.create(friendly_name="q", reservation_activity_sid=missing)
    assert "ReservationActivitySid" in error[0].message or missing in error[0].message
    assert ws.task_queues.list(friendly_name="q") == []


def test_missing_or_long_friendly_name(
    client: Client, ws: WorkspaceContext, raw: RawApi, workspace: WorkspaceInstance
) -> None:
    response = raw.post(
        f"/v1/Workspaces/{workspace.sid}/TaskQueues", data={"TargetWorkers": "1==1"}
    )
    assert_raw_error(response, 400, mentions="FriendlyName")
    with raises_twilio(client, 400, mentions="FriendlyName"):
        ws.task_queues.create(friendly_name="q" * 65)
    assert ws.task_queues.list() == []


def test_delete_then_gone(client: Client, ws: WorkspaceContext) -> None:
    queue = ws.task_queues.create(friendly_name="Short-lived")
    worker = ws.workers.create(friendly_name="w")
    assert [q.sid for q in ws.task_queues.list(worker_sid=worker.sid)] == [queue.sid]
    assert ws.task_queues(queue.sid).delete() is True
    assert recorder_of(client).last.status == 204
    with raises_twilio(client, 404, code=20404):
        ws.task_queues(queue.sid).fetch()
    assert ws.task_queues.list() == []
    assert ws.task_queues.list(worker_sid=worker.sid) == []


# -- list filters --------------------------------------------------------------------------------


@pytest.fixture
def queues(ws: WorkspaceContext) -> dict[str, str]:
    return {
        name: ws.task_queues.create(friendly_name=name, target_workers=expr).sid
        for name, expr in {
            "Everyone": "1==1",
            "Support": 'skills HAS "support"',
            "Sales": 'skills HAS "sales"',
            "Seniors": "level >= 3",
        }.items()
    }


def test_list_filter_friendly_name(ws: WorkspaceContext, queues: dict[str, str]) -> None:
    assert [q.sid for q in ws.task_queues.list(friendly_name="Sales")] == [queues["Sales"]]
    assert ws.task_queues.list(friendly_name="Marketing") == []
    assert {q.sid for q in ws.task_queues.list()} == set(queues.values())


def test_list_filter_evaluate_worker_attributes(
    ws: WorkspaceContext, queues: dict[str, str]
) -> None:
    def matching(attributes: dict[str, object]) -> set[str]:
        found = ws.task_queues.list(evaluate_worker_attributes=json.dumps(attributes))
        return {q.friendly_name for q in found}

    assert matching({"skills": ["support"], "level": 1}) == {"Everyone", "Support"}
    assert matching({"skills": ["sales", "support"], "level": 5}) == {
        "Everyone",
        "Support",
        "Sales",
        "Seniors",
    }
    assert matching({}) == {"Everyone"}


def test_list_filter_evaluate_worker_attributes_rejects_bad_json(
    raw: RawApi, workspace: WorkspaceInstance, queues: dict[str, str]
) -> None:
    response = raw.get(
        f"/v1/Workspaces/{workspace.sid}/TaskQueues",
        params={"EvaluateWorkerAttributes": '{"skills": ['},
    )
    assert_raw_error(response, 400, code=20001, mentions="EvaluateWorkerAttributes")


def test_list_filter_worker_sid(ws: WorkspaceContext, queues: dict[str, str]) -> None:
    junior = ws.workers.create(
        friendly_name="junior", attributes=json.dumps({"skills": ["support"], "level": 1})
    )
    senior = ws.workers.create(
        friendly_name="senior", attributes=json.dumps({"skills": ["sales"], "level": 4})
    )
    assert {q.sid for q in ws.task_queues.list(worker_sid=junior.sid)} == {
        queues["Everyone"],
        queues["Support"],
    }
    assert {q.sid for q in ws.task_queues.list(worker_sid=senior.sid)} == {
        queues["Everyone"],
        queues["Sales"],
        queues["Seniors"],
    }


# Membership is the TargetWorkers match on attributes, whatever the worker's activity (the
# workers below stay in the default Offline activity): the notes (b) say TargetWorkers "decides
# queue membership, so it can be precomputed per worker"; availability matters for routing only.


def test_membership_follows_worker_attribute_changes(
    ws: WorkspaceContext, queues: dict[str, str]
) -> None:
    worker = ws.workers.create(friendly_name="mover", attributes='{"skills": ["support"]}')

    def queues_of_worker() -> set[str]:
        return {q.friendly_name for q in ws.task_queues.list(worker_sid=worker.sid)}

    def in_queue(name: str) -> bool:
        return worker.sid in {w.sid for w in ws.workers.list(task_queue_sid=queues[name])}

    assert queues_of_worker() == {"Everyone", "Support"}
    assert in_queue("Support") and not in_queue("Sales")

    ws.workers(worker.sid).update(attributes='{"skills": ["sales"], "level": 3}')
    assert queues_of_worker() == {"Everyone", "Sales", "Seniors"}
    assert in_queue("Sales") and in_queue("Seniors") and not in_queue("Support")

    ws.workers(worker.sid).update(attributes="{}")
    assert queues_of_worker() == {"Everyone"}
    assert not in_queue("Sales")


def test_membership_follows_queue_expression_changes(
    ws: WorkspaceContext, queues: dict[str, str]
) -> None:
    alice = ws.workers.create(friendly_name="alice", attributes='{"skills": ["support"]}')
    bob = ws.workers.create(friendly_name="bob", attributes='{"skills": ["sales"]}')

    def members(name: str) -> set[str]:
        return {w.sid for w in ws.workers.list(task_queue_sid=queues[name])}

    assert members("Support") == {alice.sid}
    ws.task_queues(queues["Support"]).update(target_workers='skills HAS "sales"')
    assert members("Support") == {bob.sid}
    assert {q.friendly_name for q in ws.task_queues.list(worker_sid=alice.sid)} == {"Everyone"}
    ws.task_queues(queues["Support"]).update(target_workers="1==1")
    assert members("Support") == {alice.sid, bob.sid}


def test_new_queue_includes_existing_workers_and_deleted_workers_leave(
    ws: WorkspaceContext,
) -> None:
    carol = ws.workers.create(friendly_name="carol", attributes='{"languages": ["fr"]}')
    dave = ws.workers.create(friendly_name="dave", attributes='{"languages": ["de"]}')
    french = ws.task_queues.create(friendly_name="French", target_workers='languages HAS "fr"')
    assert {w.sid for w in ws.workers.list(task_queue_sid=french.sid)} == {carol.sid}
    ws.workers(carol.sid).delete()
    assert ws.workers.list(task_queue_sid=french.sid) == []
    assert dave.sid not in {w.sid for w in ws.workers.list(task_queue_sid=french.sid)}
