"""Event callbacks read from the event log: `events.callback_url`, and `delivery_cursors`.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("events", sa.Column("callback_url", sa.Text(), nullable=True))
    op.create_table(
        "delivery_cursors",
        sa.Column("sid", sa.Text(), primary_key=True),
        sa.Column("body", sa.Text(), nullable=False),
    )
    # Event callbacks still pending in the outbox from before stay there and are delivered
    # as they were; from now on none is added.


def downgrade() -> None:
    op.drop_table("delivery_cursors")
    op.drop_column("events", "callback_url")
