"""The initial schema: accounts, keys, workspaces and their entities, events, outbox.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _sid() -> sa.Column[str]:
    return sa.Column("sid", sa.Text(), primary_key=True)


def _text(name: str, nullable: bool = False) -> sa.Column[str]:
    return sa.Column(name, sa.Text(), nullable=nullable)


def _bigint(name: str, nullable: bool = False) -> sa.Column[int]:
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def _body() -> sa.Column[str]:
    return sa.Column("body", sa.Text(), nullable=False)


_WORKSPACE_CHILDREN = ("activities", "task_channels", "task_queues", "workflows", "workers")


def upgrade() -> None:
    op.create_table(
        "accounts",
        _sid(),
        _text("friendly_name"),
        _text("auth_token"),
        _text("email", nullable=True),
        _text("status"),
        _text("date_created"),
        _body(),
    )
    op.create_table(
        "api_keys",
        _sid(),
        _text("account_sid"),
        _text("secret"),
        _text("friendly_name"),
        _text("date_created"),
        _body(),
    )
    op.create_index("ix_api_keys_account_sid", "api_keys", ["account_sid"])
    op.create_table("workspaces", _sid(), _text("account_sid"), _body())
    op.create_index("ix_workspaces_account_sid", "workspaces", ["account_sid"])
    for name in _WORKSPACE_CHILDREN:
        op.create_table(name, _sid(), _text("account_sid"), _text("workspace_sid"), _body())
        op.create_index(f"ix_{name}_workspace_sid", name, ["workspace_sid"])
    op.create_table(
        "worker_channels",
        _sid(),
        _text("account_sid"),
        _text("workspace_sid"),
        _text("worker_sid"),
        _body(),
    )
    op.create_index("ix_worker_channels_workspace_sid", "worker_channels", ["workspace_sid"])
    op.create_index("ix_worker_channels_worker_sid", "worker_channels", ["worker_sid"])
    op.create_table(
        "tasks",
        _sid(),
        _text("account_sid"),
        _text("workspace_sid"),
        _text("assignment_status"),
        _bigint("date_created_ms"),
        _bigint("date_closed_ms", nullable=True),
        _body(),
    )
    op.create_index(
        "ix_tasks_workspace_sid_assignment_status", "tasks", ["workspace_sid", "assignment_status"]
    )
    op.create_index(
        "ix_tasks_workspace_sid_date_closed_ms", "tasks", ["workspace_sid", "date_closed_ms"]
    )
    op.create_table(
        "reservations",
        _sid(),
        _text("account_sid"),
        _text("workspace_sid"),
        _text("task_sid"),
        _text("worker_sid"),
        _text("reservation_status"),
        _bigint("date_created_ms"),
        _body(),
    )
    op.create_index("ix_reservations_task_sid", "reservations", ["task_sid"])
    op.create_index("ix_reservations_worker_sid", "reservations", ["worker_sid"])
    op.create_table(
        "events",
        _sid(),
        _text("account_sid"),
        _text("workspace_sid"),
        _text("event_type"),
        _bigint("event_date_ms"),
        _text("resource_sid"),
        _body(),
    )
    op.create_index(
        "ix_events_workspace_sid_event_date_ms", "events", ["workspace_sid", "event_date_ms"]
    )
    op.create_table(
        "outbox",
        _sid(),
        _text("workspace_sid"),
        _text("kind"),
        _bigint("created_ms"),
        _bigint("next_attempt_ms"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _text("status"),
        _body(),
    )
    op.create_index("ix_outbox_status_next_attempt_ms", "outbox", ["status", "next_attempt_ms"])


def downgrade() -> None:
    for name in (
        "outbox",
        "events",
        "reservations",
        "tasks",
        "worker_channels",
        *_WORKSPACE_CHILDREN,
        "workspaces",
        "api_keys",
        "accounts",
    ):
        op.drop_table(name)
