"""The Alembic history and the models describe the same schema."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from playerdesk.db.base import Base
from playerdesk.db.models.kb import include_name
from playerdesk.runtime import Runtime


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_database_matches_the_models(runtime: Runtime) -> None:
    async with runtime.engine.connect() as connection:
        differences = await connection.run_sync(_diff)
    assert differences == []


async def test_ticket_numbers_start_at_1001(runtime: Runtime, make_agent) -> None:  # type: ignore[no-untyped-def]
    from tests.services.test_tickets import open_ticket

    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor)
    assert ticket.number == 1001
