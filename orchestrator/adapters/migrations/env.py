"""Alembic environment: runs on the connection bootstrap hands over (no engine at import)."""
from __future__ import annotations

from alembic import context

from orchestrator.adapters.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
