"""Alembic environment: always handed a live connection by `taskrouter.store.migrations`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from taskrouter.store.schema import metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError("run migrations through taskrouter.store.migrations.upgrade(url)")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    # Every pending revision in the caller's one transaction: all or nothing.
    transaction_per_migration=False,
)
with context.begin_transaction():
    context.run_migrations()
