"""Indexes of the events owed a callback, on PostgreSQL: in SID order, and per workspace.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None

OWED = "callback_url IS NOT NULL"


def upgrade() -> None:
    # Partial: events owed no callback (most of a log, often all of it) cost them nothing.
    # SQLite walks the key for the same reads (see `schema._postgres_only`).
    if op.get_bind().dialect.name != "postgresql":
        return
    for name, columns in (
        ("ix_events_owed", ["sid"]),
        ("ix_events_owed_by_workspace", ["workspace_sid", "sid"]),
    ):
        op.create_index(name, "events", columns, postgresql_where=sa.text(OWED))


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_events_owed_by_workspace", table_name="events")
    op.drop_index("ix_events_owed", table_name="events")
