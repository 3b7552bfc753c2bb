"""Contexts and the scope builders: which names mean what, and the roots they resolve against."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from expr_helpers import evaluate_all_ways

from taskrouter.expressions import (
    Context,
    Path,
    channel_view,
    compile_expression,
    skip_if_root,
    target_root,
    task_root,
    time_variables,
    worker_view,
)

# 2024-06-01 was a Saturday.
SATURDAY_0905 = datetime(2024, 6, 1, 9, 5, tzinfo=UTC)


def view(**attributes: Any) -> dict[str, Any]:
    return worker_view(
        sid="WK0001",
        friendly_name="alice",
        activity_sid="WA_AVAILABLE",
        activity_name="Available MNO",
        attributes=attributes,
        channels={
            "voice": {"configured_capacity": 1, "assigned_tasks": 0},
            "chat": {
                "configured_capacity": 4,
                "assigned_tasks": 3,
                "available_capacity_percentage": 25,
            },
        },
    )


class TestTimeVariables:
    def test_values(self) -> None:
        assert time_variables(SATURDAY_0905) == {
            "currentTime": 905,
            "currentHour": "09",
            "currentMin": "05",
            "dayOfWeek": "Sat",
        }

    def test_converted_to_utc(self) -> None:
        tokyo = timezone(timedelta(hours=9))
        local = datetime(2024, 6, 2, 2, 30, tzinfo=tokyo)  # Sunday 02:30 in Tokyo
        assert time_variables(local) == {
            "currentTime": 1730,
            "currentHour": "17",
            "currentMin": "30",
            "dayOfWeek": "Sat",
        }

    def test_naive_is_utc(self) -> None:
        assert time_variables(datetime(2024, 6, 3, 23, 59)) == {
            "currentTime": 2359,
            "currentHour": "23",
            "currentMin": "59",
            "dayOfWeek": "Mon",
        }

    def test_every_day_name(self) -> None:
        days = [time_variables(datetime(2024, 6, 3 + i))["dayOfWeek"] for i in range(7)]
        assert days == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]

    @pytest.mark.parametrize(
        ("text", "now", "expected"),
        [
            ("taskrouter.currentHour > 8", SATURDAY_0905, True),
            ("taskrouter.currentHour > 8", datetime(2024, 6, 1, 8, 59, tzinfo=UTC), False),
            ("taskrouter.currentHour == 9", SATURDAY_0905, True),
            ("taskrouter.currentHour == '09'", SATURDAY_0905, True),
            ("taskrouter.currentMin < 10", SATURDAY_0905, True),
            ("taskrouter.dayOfWeek = 'Sat'", SATURDAY_0905, True),
            ("taskrouter.dayOfWeek = 'Sat'", datetime(2024, 6, 2, tzinfo=UTC), False),
            ("taskrouter.dayOfWeek IN ['Sat', 'Sun']", datetime(2024, 6, 2, tzinfo=UTC), True),
            (
                "taskrouter.currentTime >= 900 AND taskrouter.currentTime < 1700",
                SATURDAY_0905,
                True,
            ),
            (
                "taskrouter.currentTime >= 900 AND taskrouter.currentTime < 1700",
                datetime(2024, 6, 1, 17, 0, tzinfo=UTC),
                False,
            ),
        ],
    )
    def test_in_filters(self, text: str, now: datetime, expected: bool) -> None:
        assert evaluate_all_ways(text, task_root({"type": "x"}, now), Context.TASK) is expected


class TestWorkerContext:
    def test_worker_prefix_is_dropped(self) -> None:
        plain = compile_expression("skills HAS 'x' AND level >= 2", cache=False)
        prefixed = compile_expression("worker.skills HAS 'x' AND worker.level >= 2", cache=False)
        assert plain.node == prefixed.node
        assert prefixed.paths == (("skills",), ("level",))
        document = {"skills": ["x"], "level": 2}
        assert evaluate_all_ways("worker.skills HAS 'x' AND worker.level >= 2", document)
        assert not evaluate_all_ways("worker.skills HAS 'x'", {"skills": ["y"]})

    def test_an_attribute_named_worker_needs_the_prefix_twice(self) -> None:
        document = {"worker": {"tier": 1}, "tier": 2}
        assert evaluate_all_ways("worker.tier == 2", document)
        assert evaluate_all_ways("worker.worker.tier == 1", document)
        assert evaluate_all_ways("worker[0] == null", document)

    def test_list_filter_fields(self) -> None:
        root = {"skills": ["a"], "sid": "WK1", "friendly_name": "bob", "activity_name": "Idle"}
        assert evaluate_all_ways("sid == 'WK1' AND activity_name == 'Idle'", root)
        assert evaluate_all_ways("worker.friendly_name CONTAINS 'o'", root)

    def test_other_namespaces_are_plain_attributes(self) -> None:
        assert evaluate_all_ways("task.x == 1", {"task": {"x": 1}})
        assert not evaluate_all_ways("taskrouter.currentHour > 0", {})


class TestTaskContext:
    def test_bare_names_are_task_attributes(self) -> None:
        root = task_root({"type": "sales", "customer": {"tier": "gold"}}, SATURDAY_0905)
        assert evaluate_all_ways("type == 'sales' AND customer.tier = 'gold'", root, Context.TASK)
        assert not evaluate_all_ways("type == 'support'", root, Context.TASK)

    def test_taskrouter_is_reserved(self) -> None:
        root = task_root({"taskrouter": {"dayOfWeek": "Mon"}, "x": 1}, SATURDAY_0905)
        assert root["taskrouter"]["dayOfWeek"] == "Sat"
        assert evaluate_all_ways("taskrouter.dayOfWeek == 'Sat'", root, Context.TASK)

    def test_task_root_copies_only_the_top_level(self) -> None:
        nested = {"tier": 1}
        attributes = {"customer": nested}
        root = task_root(attributes, time_variables(SATURDAY_0905))
        assert root is not attributes
        assert "taskrouter" not in attributes
        assert root["customer"] is nested


class TestTargetContext:
    def root(self, task: dict[str, Any], **worker: Any) -> dict[str, Any]:
        return target_root(task, view(**worker), SATURDAY_0905)

    @pytest.mark.parametrize(
        ("text", "task", "worker", "expected"),
        [
            ("worker.sid == task.agent_sid", {"agent_sid": "WK0001"}, {}, True),
            ("worker.sid == task.agent_sid", {"agent_sid": "WK9999"}, {}, False),
            ("worker.sid == task.agent_sid", {}, {}, False),
            ("worker.friendly_name == 'alice'", {}, {}, True),
            ("worker.activity_sid == 'WA_AVAILABLE'", {}, {}, True),
            ("worker.activity_name contains 'MNO'", {}, {}, True),
            (
                "worker.id IN task.preferred_agents",
                {"preferred_agents": ["w1", "w2"]},
                {"id": "w2"},
                True,
            ),
            (
                "worker.id IN task.preferred_agents",
                {"preferred_agents": ["w1"]},
                {"id": "w2"},
                False,
            ),
            ("worker.id IN task.preferred_agents", {}, {"id": "w2"}, False),
            ("worker.id NOT IN task.rejected_by", {}, {"id": "w2"}, True),
            (
                "task.required_language IN worker.spoken_languages",
                {"required_language": "es"},
                {"spoken_languages": ["en", "es"]},
                True,
            ),
            (
                "task.required_language IN worker.spoken_languages",
                {"required_language": "fr"},
                {"spoken_languages": ["en", "es"]},
                False,
            ),
            ("task.preferred_agents != null", {"preferred_agents": []}, {}, True),
            ("task.preferred_agents != null", {}, {}, False),
            ("worker.channel.voice.assigned_tasks == 0", {}, {}, True),
            ("worker.channel.voice.configured_capacity == 1", {}, {}, True),
            ("worker.channel.voice.available_capacity_percentage == 100", {}, {}, True),
            ("worker.channel.chat.available_capacity_percentage <= 50", {}, {}, True),
            ("worker.channel.chat.assigned_tasks > 3", {}, {}, False),
            ("worker.channel.sms.assigned_tasks == null", {}, {}, True),
            (
                "taskrouter.dayOfWeek == 'Sat' AND worker.level > task.min_level",
                {"min_level": 2},
                {"level": 3},
                True,
            ),
            ("worker.level > task.min_level", {"min_level": "4"}, {"level": 3}, False),
            ("worker.skills HAS task.skill", {"skill": "x"}, {"skills": ["x"]}, True),
        ],
    )
    def test_expressions(
        self, text: str, task: dict[str, Any], worker: dict[str, Any], expected: bool
    ) -> None:
        assert evaluate_all_ways(text, self.root(task, **worker), Context.TARGET) is expected

    def test_built_ins_win_over_attributes(self) -> None:
        shown = view(sid="spoofed", friendly_name="x", channel="voice", level=2)
        assert shown["sid"] == "WK0001"
        assert shown["friendly_name"] == "alice"
        assert isinstance(shown["channel"], dict)
        assert shown["level"] == 2
        root = target_root({"agent": "spoofed"}, shown, SATURDAY_0905)
        assert not evaluate_all_ways("worker.sid == task.agent", root, Context.TARGET)

    def test_time_variables_can_be_precomputed(self) -> None:
        variables = time_variables(SATURDAY_0905)
        assert target_root({}, {}, variables)["taskrouter"] is variables
        assert target_root({}, {}, SATURDAY_0905)["taskrouter"] == variables

    def test_evaluating_one_task_against_many_workers(self) -> None:
        compiled = compile_expression("worker.level >= task.min_level", Context.TARGET)
        now = time_variables(SATURDAY_0905)
        roots = [target_root({"min_level": 2}, view(level=level), now) for level in range(4)]
        assert compiled.evaluate_many(roots) == [False, False, True, True]


class TestChannelView:
    @pytest.mark.parametrize(
        ("configured", "assigned", "percentage"),
        [(1, 0, 100), (1, 1, 0), (4, 1, 75), (3, 1, 66), (3, 2, 33), (0, 0, 0), (2, 5, 0)],
    )
    def test_percentage_is_derived_when_absent(
        self, configured: int, assigned: int, percentage: int
    ) -> None:
        shown = channel_view({"configured_capacity": configured, "assigned_tasks": assigned})
        assert shown["available_capacity_percentage"] == percentage

    def test_given_percentage_is_kept(self) -> None:
        shown = channel_view(
            {"configured_capacity": 2, "assigned_tasks": 0, "available_capacity_percentage": 50}
        )
        assert shown["available_capacity_percentage"] == 50


class TestSkipIf:
    @pytest.mark.parametrize(
        ("text", "available", "unavailable", "by_activity", "expected"),
        [
            ("workers.available == 0", 0, 3, {}, True),
            ("workers.available == 0", 1, 3, {}, False),
            ("workers.unavailable > 2", 0, 3, {}, True),
            ("workers.WAbreak > 1 AND workers.available < 1", 0, 3, {"WAbreak": 2}, True),
            ("workers.WAbreak > 1", 0, 3, {}, False),
            ("workers.available == 0 OR workers.WAlunch >= 2", 4, 0, {"WAlunch": 2}, True),
            ("1==1", 5, 0, {}, True),
            ("1==2", 0, 0, {}, False),
        ],
    )
    def test_counts(
        self,
        text: str,
        available: int,
        unavailable: int,
        by_activity: dict[str, int],
        expected: bool,
    ) -> None:
        root = skip_if_root(available, unavailable, by_activity)
        assert evaluate_all_ways(text, root, Context.SKIP_IF) is expected

    def test_built_in_counts_win(self) -> None:
        root = skip_if_root(1, 2, {"available": 99})
        assert root == {"workers": {"available": 1, "unavailable": 2}}


def test_compiled_expression_describes_itself() -> None:
    compiled = compile_expression("worker.a.b[0] == 1 AND c[any] > 2", Context.WORKER)
    assert compiled.source == "worker.a.b[0] == 1 AND c[any] > 2"
    assert compiled.context is Context.WORKER
    assert compiled.constant is None
    assert compiled.paths[0] == ("a", "b", 0)
    assert repr(compiled).startswith("CompiledExpression(")
    assert compile_expression("1==1").constant is True
    assert compile_expression("1==2 AND a == 1").constant is False
    assert isinstance(Path(("x",)).segments, tuple)


def test_cache_returns_the_same_object_unless_bypassed() -> None:
    first = compile_expression("cache_test == 1", Context.TASK)
    assert compile_expression("cache_test == 1", Context.TASK) is first
    assert compile_expression("cache_test == 1", Context.WORKER) is not first
    assert compile_expression("cache_test == 1", Context.TASK, cache=False) is not first
