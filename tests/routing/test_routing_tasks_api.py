"""The Tasks API through twilio-python: create, fetch with ETag, list filters and ordering,
update with If-Match, the assignment-status table, re-routing on change, delete."""

from __future__ import annotations

import json

import pytest
from twilio.base.exceptions import TwilioRestException

from routing.helpers import World, config, etag_of, iso
from support.twilio_client import RawApi, assert_raw_error, raises_twilio


def _queue_and_flow(world: World, name: str = "Q") -> str:
    queue = world.queue(name)
    world.simple_workflow(queue)
    return queue


def test_create_fills_defaults_and_takes_every_field(world: World) -> None:
    queue = _queue_and_flow(world)
    (workflow,) = world.ws.workflows.list()
    now = world.now_ms()

    plain = world.ws.tasks.create(attributes=json.dumps({"kind": "plain", "n": [1, 2]}))
    assert plain.assignment_status == "pending"
    assert plain.workflow_sid == workflow.sid  # optional with exactly one workflow
    assert plain.task_queue_sid == queue
    assert plain.priority == 0
    assert plain.timeout == 86_400
    assert plain.task_channel_unique_name == "default"
    assert plain.virtual_start_time == plain.date_created == iso(now)
    assert plain.age == 0
    assert json.loads(world.fetch(str(plain.sid)).attributes or "") == {
        "kind": "plain",
        "n": [1, 2],
    }

    earlier = now - 3_600_000
    custom = world.ws.tasks.create(
        attributes="{}",
        timeout=3_600,
        priority=7,
        task_channel="voice",
        virtual_start_time=iso(earlier),
    )
    assert custom.timeout == 3_600
    assert custom.priority == 7
    assert custom.task_channel_sid == world.channel["voice"]
    assert custom.task_channel_unique_name == "voice"
    assert custom.virtual_start_time == iso(earlier)

    by_sid = world.ws.tasks.create(task_channel=world.channel["chat"])
    assert by_sid.task_channel_unique_name == "chat"

    with raises_twilio(world.client, 400, mentions="TaskChannel"):
        world.ws.tasks.create(task_channel="carrier-pigeon")
    with raises_twilio(world.client, 400, mentions="VirtualStartTime"):
        world.ws.tasks.create(virtual_start_time=iso(now + 60_000))

    world.advance(5)
    fetched = world.fetch(str(plain.sid))
    assert fetched.age == 5


def test_workflow_sid_is_required_once_there_are_two_workflows(world: World) -> None:
    first = world.queue("First")
    second = world.queue("Second")
    world.simple_workflow(first, name="one")
    two = world.simple_workflow(second, name="two")
    with raises_twilio(world.client, 400, mentions="WorkflowSid"):
        world.ws.tasks.create(attributes="{}")
    task = world.ws.tasks.create(attributes="{}", workflow_sid=two)
    assert (task.workflow_sid, task.task_queue_sid) == (two, second)


def test_routing_target_and_task_queue_sid_bypass_the_workflow(world: World) -> None:
    main = world.queue("Main", "team == 'main'")
    side = world.queue("Side", "team == 'side'")
    other = world.queue("Other", "team == 'other'")
    world.simple_workflow(main, name="main")
    other_flow = world.simple_workflow(other, name="other")
    helper = world.worker("helper", {"team": "side"})

    to_queue = world.ws.tasks.create(workflow_sid=other_flow, routing_target=side)
    assert to_queue.task_queue_sid == side
    assert to_queue.routing_target == side
    # The side queue's worker is reserved for it, though the workflow would not send it there.
    assert world.reserved_worker(str(to_queue.sid)) == helper

    by_queue_sid = world.ws.tasks.create(workflow_sid=other_flow, task_queue_sid=side)
    assert by_queue_sid.task_queue_sid == side
    assert world.status(str(by_queue_sid.sid)) == "pending"  # helper is at capacity

    to_workflow = world.ws.tasks.create(routing_target=other_flow)
    assert to_workflow.workflow_sid == other_flow
    assert to_workflow.task_queue_sid == other

    with raises_twilio(world.client, 400, mentions="RoutingTarget"):
        world.ws.tasks.create(workflow_sid=other_flow, routing_target="XX" + "0" * 32)


def test_fetch_carries_an_etag_that_update_and_delete_honour(world: World) -> None:
    _queue_and_flow(world)
    sid = world.task({"v": 1})
    context = world.ws.tasks(sid)
    first = context.fetch_with_http_info()
    etag = etag_of(first.headers)
    assert etag, "task fetch must carry an ETag"

    updated = context.update_with_http_info(attributes=json.dumps({"v": 2}), if_match=etag)
    assert updated.status_code == 200
    new_etag = etag_of(updated.headers)
    assert new_etag and new_etag != etag
    assert etag_of(context.fetch_with_http_info().headers) == new_etag

    with raises_twilio(world.client, 412):
        context.update(attributes=json.dumps({"v": 3}), if_match=etag)
    assert json.loads(context.fetch().attributes or "") == {"v": 2}

    # No If-Match: an unconditional write.
    context.update(priority=4)
    # twilio-python 9.13.0 drops If-Match on delete (TaskContext._delete resets its headers),
    # so the conditional delete goes out as the client would send it, through httpx.
    raw = RawApi(world.server.base_url, (world.server.account.sid, world.server.account.secret))
    try:
        path = f"/v1/Workspaces/{world.sid}/Tasks/{sid}"
        assert_raw_error(raw.delete(path, headers={"If-Match": str(new_etag)}), 412)
        assert world.status(sid) == "pending"
        current = etag_of(context.fetch_with_http_info().headers)
        assert current is not None
        deleted = raw.delete(path, headers={"If-Match": current})
        assert deleted.status_code == 204
        world.check_invariants()
    finally:
        raw.close()
    with raises_twilio(world.client, 404):
        context.fetch()


def test_delete_of_a_reserved_task_frees_its_worker(world: World) -> None:
    _queue_and_flow(world)
    worker = world.worker("w")
    first = world.task({"n": 1})
    second = world.task({"n": 2})
    assert world.reserved_worker(first) == worker
    assert world.status(second) == "pending"
    world.ws.tasks(first).delete()
    assert world.reserved_worker(second) == worker


@pytest.fixture
def listed(world: World) -> dict[str, str]:
    """Five tasks across queues, workflows, priorities and statuses (one second apart)."""
    alpha = world.queue("Alpha", "skill == 'a'")
    beta = world.queue("Beta", "skill == 'b'")
    flow_one = world.workflow(
        config([{"expression": "type == 'a'", "targets": [{"queue": alpha}]}], {"queue": beta}),
        name="Flow One",
    )
    flow_two = world.workflow(config(default={"queue": beta}), name="Flow Two")
    world.worker("wa", {"skill": "a"})
    now = world.now_ms()
    sids = {"alpha": alpha, "beta": beta, "flow_one": flow_one, "flow_two": flow_two}
    sids["t1"] = world.task({"type": "a"}, priority=5, workflow_sid=flow_one)
    world.accept(sids["t1"])
    world.advance(1)
    sids["t2"] = world.task({"type": "a"}, priority=1, workflow_sid=flow_one)
    world.advance(1)
    sids["t3"] = world.task({"type": "b"}, priority=5, workflow_sid=flow_two)
    world.advance(1)
    sids["t4"] = world.task({"type": "b"}, priority=3, workflow_sid=flow_one)
    world.ws.tasks(sids["t4"]).update(assignment_status="canceled", reason="not needed")
    world.advance(1)
    sids["t5"] = world.task(
        {"type": "c"}, priority=3, routing_target=beta, virtual_start_time=iso(now - 60_000)
    )
    world.worker("wa2", {"skill": "a"})  # takes t2
    assert [world.status(sids[f"t{n}"]) for n in range(1, 6)] == [
        "assigned",
        "reserved",
        "pending",
        "canceled",
        "pending",
    ]
    return sids


def _names(world: World, sids: dict[str, str], **filters: object) -> list[str]:
    by_sid = {v: k for k, v in sids.items() if k.startswith("t")}
    return [by_sid[str(t.sid)] for t in world.ws.tasks.list(**filters)]  # type: ignore[arg-type]


def test_list_filters(world: World, listed: dict[str, str]) -> None:
    s = listed
    assert _names(world, s) == ["t1", "t2", "t3", "t4", "t5"]  # DateCreated:asc by default
    assert all(t.attributes is None for t in world.ws.tasks.list())
    assert _names(world, s, assignment_status=["pending", "reserved"]) == ["t2", "t3", "t5"]
    assert _names(world, s, assignment_status=["canceled"]) == ["t4"]
    assert _names(world, s, priority=5) == ["t1", "t3"]
    assert _names(world, s, workflow_sid=s["flow_two"]) == ["t3"]
    assert _names(world, s, workflow_name="Flow One") == ["t1", "t2", "t4"]
    assert _names(world, s, task_queue_sid=s["alpha"]) == ["t1", "t2"]
    assert _names(world, s, task_queue_name="Beta") == ["t3", "t4", "t5"]
    assert _names(world, s, evaluate_task_attributes="type == 'b'") == ["t3", "t4"]
    assert _names(world, s, routing_target=s["beta"]) == ["t5"]
    assert _names(world, s, has_addons=True) == []
    assert _names(world, s, has_addons=False) == ["t1", "t2", "t3", "t4", "t5"]
    with raises_twilio(world.client, 400, mentions="EvaluateTaskAttributes"):
        world.ws.tasks.list(evaluate_task_attributes="type ==")


def test_list_assignment_status_comma_joined_and_repeated(
    world: World, listed: dict[str, str]
) -> None:
    raw = RawApi(world.server.base_url, (world.server.account.sid, world.server.account.secret))
    try:
        path = f"/v1/Workspaces/{world.sid}/Tasks"
        joined = raw.get(path, params={"AssignmentStatus": "pending,assigned"})
        repeated = raw.get(
            path, params=[("AssignmentStatus", "pending"), ("AssignmentStatus", "assigned")]
        )
        expected = {listed["t1"], listed["t3"], listed["t5"]}
        for response in (joined, repeated):
            assert response.status_code == 200
            assert {t["sid"] for t in response.json()["tasks"]} == expected
        assert_raw_error(raw.get(path, params={"AssignmentStatus": "lost"}), 400)
    finally:
        raw.close()


def test_list_ordering(world: World, listed: dict[str, str]) -> None:
    s = listed
    assert _names(world, s, ordering="Priority:desc,DateCreated:asc") == [
        "t1",
        "t3",
        "t4",
        "t5",
        "t2",
    ]
    assert _names(world, s, ordering="DateCreated:desc") == ["t5", "t4", "t3", "t2", "t1"]
    # t5 started a minute before it was created, so it is the oldest by virtual start time.
    assert _names(world, s, ordering="VirtualStartTime:asc") == ["t5", "t1", "t2", "t3", "t4"]
    assert _names(world, s, ordering="Priority:asc,VirtualStartTime:desc") == [
        "t2",
        "t4",
        "t5",
        "t3",
        "t1",
    ]
    for forbidden in (
        "DateCreated:asc,VirtualStartTime:asc",
        "VirtualStartTime:desc,DateCreated:desc",
    ):
        with raises_twilio(world.client, 400, mentions="Ordering"):
            world.ws.tasks.list(ordering=forbidden)
    with raises_twilio(world.client, 400, mentions="Ordering"):
        world.ws.tasks.list(ordering="Age:asc")


def test_changed_attributes_reroute_a_pending_task(world: World) -> None:
    vip = world.queue("VIP", "vip == true")
    normal = world.queue("Normal", "vip == false")
    world.workflow(
        config([{"expression": "tier == 'gold'", "targets": [{"queue": vip}]}], {"queue": normal})
    )
    concierge = world.worker("concierge", {"vip": True})
    task = world.task({"tier": "silver"})
    assert world.fetch(task).task_queue_sid == normal
    assert world.status(task) == "pending"
    world.ws.tasks(task).update(attributes=json.dumps({"tier": "gold"}))
    fetched = world.fetch(task)
    assert fetched.task_queue_sid == vip
    assert world.reserved_worker(task) == concierge


def test_changed_priority_reorders_the_queue(world: World) -> None:
    _queue_and_flow(world)
    first = world.task({"n": 1}, priority=1)
    world.advance(1)
    second = world.task({"n": 2}, priority=1)
    assert world.ws.tasks(second).update(priority=10).priority == 10
    worker = world.worker("late")
    assert world.reserved_worker(second) == worker
    assert world.status(first) == "pending"


def test_assignment_status_transitions(world: World) -> None:
    _queue_and_flow(world)
    tasks = world.ws.tasks

    def refused(sid: str, status: str, mentions: str, reason: str | None = "why") -> None:
        kwargs = {"reason": reason} if reason else {}
        with raises_twilio(world.client, 400, mentions=mentions):
            tasks(sid).update(assignment_status=status, **kwargs)

    # pending
    pending = world.task({"n": "pending"})
    refused(pending, "wrapping", "Cannot wrap up")
    refused(pending, "completed", "Cannot complete")
    refused(pending, "canceled", "Reason", reason=None)
    assert world.status(pending) == "pending"
    canceled = tasks(pending).update(assignment_status="canceled", reason="caller hung up")
    assert (canceled.assignment_status, canceled.reason) == ("canceled", "caller hung up")
    refused(pending, "completed", "Cannot complete")
    refused(pending, "wrapping", "Cannot wrap up")

    # reserved
    worker = world.worker("agent")
    reserved = world.task({"n": "reserved"})
    reservation = world.only_pending(reserved)
    refused(reserved, "wrapping", "Cannot wrap up")
    refused(reserved, "completed", "Cannot complete")
    with raises_twilio(world.client, 400):
        tasks(reserved).update(assignment_status="assigned")
    assert world.status(reserved) == "reserved"
    tasks(reserved).update(assignment_status="canceled", reason="changed my mind")
    assert world.ws.tasks(reserved).reservations(reservation.sid).fetch().reservation_status == (
        "canceled"
    )

    # assigned -> wrapping -> completed
    wraps = world.task({"n": "wraps"})
    assert world.accept(wraps) == worker
    refused(wraps, "canceled", "Cannot cancel task")
    refused(wraps, "completed", "Reason", reason=None)
    assert tasks(wraps).update(assignment_status="wrapping").assignment_status == "wrapping"
    assert world.reservations(wraps)[0].reservation_status == "wrapping"
    refused(wraps, "canceled", "Cannot cancel task")
    refused(wraps, "completed", "Reason", reason=None)
    done = tasks(wraps).update(assignment_status="completed", reason="resolved")
    assert (done.assignment_status, done.reason) == ("completed", "resolved")
    assert world.reservations(wraps)[0].reservation_status == "completed"
    refused(wraps, "canceled", "Cannot cancel task")
    refused(wraps, "wrapping", "Cannot wrap up")

    # assigned -> completed directly
    direct = world.task({"n": "direct"})
    world.accept(direct)
    assert tasks(direct).update(assignment_status="completed", reason="ok").reason == "ok"
    assert world.status(direct) == "completed"


def test_an_unknown_assignment_status_is_refused(world: World) -> None:
    _queue_and_flow(world)
    sid = world.task()
    with pytest.raises(TwilioRestException) as info:
        world.ws.tasks(sid).update(assignment_status="lost", reason="x")
    assert info.value.status == 400
    assert world.status(sid) == "pending"
