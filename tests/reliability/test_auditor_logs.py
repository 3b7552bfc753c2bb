"""The periodic audit names the first findings of a workspace and counts the rest."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace
from typing import Any

import pytest

from taskrouter.engine.audit import Finding, Kind
from taskrouter.service import auditor


def test_a_flood_of_findings_is_logged_as_a_few_lines_and_a_count(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    findings = [
        Finding(Kind.EXPIRED_DEADLINE, f"reservation WR{i:032x} is still pending after its timeout")
        for i in range(25)
    ] + [Finding(Kind.IDLE_WITH_WORK, "task WT1 is pending while worker WK1 could take it")]
    # Found in two slices, as a large workspace would be.
    slices = [findings[:10], findings[10:]]
    monkeypatch.setattr(auditor, "audit_slices", lambda engine, **_: iter(slices))
    service: Any = SimpleNamespace(
        runtime=SimpleNamespace(workspaces={"WS1": SimpleNamespace(engine=None)})
    )
    reported: list[tuple[str, int]] = []
    with caplog.at_level(logging.WARNING, logger="taskrouter.audit"):
        total = asyncio.run(
            auditor.audit_once(service, lambda ws, found: reported.append((ws, len(found))))
        )
    assert total == 26 and reported == [("WS1", 26)]  # metrics still count every finding
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == auditor.LOGGED_PER_WORKSPACE + 1
    assert lines[0] == f"audit: reservation WR{0:032x} is still pending after its timeout"
    assert (
        lines[-1]
        == "audit: 6 more findings in workspace WS1 (expired_deadline: 5, idle_with_work: 1)"
    )
