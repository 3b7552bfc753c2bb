"""Abandoning an accepted task: it is completed as unable to complete, and a copy marked
`unableToComplete` is routed to another worker."""

from __future__ import annotations

import json

from crm_harness import Company


def test_abandon_routes_a_marked_copy_to_someone_else(company: Company) -> None:
    alice = company.worker("alice")
    task = company.task(priority=4, taskType="replyToNewText", caseId="C1")
    assert company.accept(task) == alice
    bob = company.worker("bob", available=False)
    body = company.crm("POST", f"twilio-unterminated-tasks/{task}/abandon")
    assert body["status"] == 0
    copy = body["data"]
    assert copy["sid"] != task
    attributes = json.loads(copy["attributes"])
    assert attributes == {
        "taskType": "replyToNewText",
        "caseId": "C1",
        "unableToComplete": True,
        "abandonedTaskSid": task,
    }
    assert copy["priority"] == 4
    # Alice has capacity again but gave the task up: the copy waits for someone else.
    assert copy["assignmentStatus"] == "pending"
    company.set_available(bob, True)
    assert company.reserved_worker(copy["sid"]) == bob
    original = company.crm("GET", f"twilio-terminated-tasks/{task}")["data"]
    assert original["assignmentStatus"] == "completed"
    assert original["reason"] == "Unable to complete"
    assert company.live_sids(unableToComplete="true") == [copy["sid"]]
    assert "task.completed" in company.event_types(task)


def test_only_an_accepted_task_can_be_abandoned(company: Company) -> None:
    waiting = company.task(taskType="a")
    refused = company.crm("POST", f"twilio-unterminated-tasks/{waiting}/abandon", expect=400)
    assert refused["status"] == 400 and "abandon" in refused["message"]
    assert company.live_sids() == [waiting]  # nothing changed, no copy made
    company.crm("POST", f"twilio-unterminated-tasks/{'WT' + '2' * 32}/abandon", expect=404)


def test_a_wrapping_task_can_be_abandoned(company: Company) -> None:
    alice = company.worker("alice")
    task = company.task(taskType="a")
    company.accept(task)
    company.twilio("POST", f"{company.ws}/Tasks/{task}", AssignmentStatus="wrapping")
    bob = company.worker("bob")
    copy = company.crm("POST", f"twilio-unterminated-tasks/{task}/abandon")["data"]
    assert company.reserved_worker(copy["sid"]) == bob
    assert company.reserved_worker(copy["sid"]) != alice
