"""The Alembic history and the models describe the same schema."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from playerdesk.db.base import Base
from playerdesk.db.engine import create_engine
from playerdesk.db.migrate import alembic_config
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


async def test_provider_ids_of_messages_sent_before_their_table_are_filled_in(
    tmp_path: Path,
) -> None:
    """Replies sent before outbox_provider_ids existed keep being found by their reports."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'before.db'}")

    def upgrade_to(connection: Connection, revision: str) -> None:
        command.upgrade(alembic_config(connection), revision)

    try:
        async with engine.begin() as connection:
            await connection.run_sync(upgrade_to, "af0209d16820")
            for outbox_id, channel, provider_ids in (
                (1, "viber", "5491234,5491235"),
                (2, "whatsapp", "wamid.HBgL"),
                (3, "email", None),
            ):
                await connection.execute(
                    text(
                        "INSERT INTO outbox (id, channel, purpose, recipient, idempotency_key, "
                        "payload, status, attempts, next_attempt_at, provider_message_id, "
                        "created_at) VALUES (:id, :channel, 'reply', 'someone', :key, '{}', "
                        "'sent', 1, '2026-11-22 10:00:00', :ids, '2026-11-22 10:00:00')"
                    ),
                    {
                        "id": outbox_id,
                        "channel": channel,
                        "key": f"k{outbox_id}",
                        "ids": provider_ids,
                    },
                )
            await connection.run_sync(upgrade_to, "head")
            found = await connection.execute(
                text(
                    "SELECT outbox_id, channel, provider_message_id FROM outbox_provider_ids "
                    "ORDER BY id"
                )
            )
            assert [tuple(row) for row in found] == [
                (1, "viber", "5491234"),
                (1, "viber", "5491235"),
                (2, "whatsapp", "wamid.HBgL"),
            ]
    finally:
        await engine.dispose()
