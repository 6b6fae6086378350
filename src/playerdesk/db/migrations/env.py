"""Alembic environment: runs on a connection handed over by playerdesk.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

import playerdesk.db.models  # noqa: F401  (registers every table)
from playerdesk.db.base import Base
from playerdesk.db.models.kb import include_name


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `playerdesk migrate` (playerdesk.db.migrate)")
_run(connection)
