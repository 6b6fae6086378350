"""The PostgreSQL run empties only what a test wrote before the next one (conftest): what it
leaves must be what the migrations left, or tests would see each other's rows and ids."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from playerdesk.db.base import Base
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from tests.conftest import (
    PG_URL,
    SEEDED_TABLES,
    AgentFactory,
    SeedRows,
    reset_to_migrated,
    rows_of,
)

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="the reset between tests is PostgreSQL's (make test-pg runs it)"
)


async def test_the_reset_leaves_every_table_and_sequence_as_migrated(
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    pg_migrated: SeedRows,
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    ticket = await client.post(
        "/api/v1/tickets",
        json={"channel": "email", "subject": "s", "body": "b", "player": {"external_id": "P-1"}},
        headers=admin.headers,
    )
    assert ticket.status_code == 201
    team = await client.post("/api/v1/teams", json={"name": "Gone"}, headers=admin.headers)
    assert team.status_code == 201
    async with runtime.engine.begin() as connection:
        # A table left empty whose sequence has moved on, and both seeded tables changed.
        await connection.execute(text("DELETE FROM teams"))
        await connection.execute(text("UPDATE sla_policies SET name = 'Renamed'"))
        await connection.execute(text("DELETE FROM escalation_rules"))

    async with runtime.engine.begin() as connection:
        await reset_to_migrated(connection, pg_migrated)

    async with runtime.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            expected = pg_migrated.get(table.name, [])
            assert await rows_of(connection, table.name) == expected, table.name
        drawn = await connection.scalars(
            text(
                "SELECT sequencename FROM pg_sequences "
                "WHERE schemaname = 'public' AND last_value IS NOT NULL"
            )
        )
        assert sorted(drawn) == sorted(f"{name}_id_seq" for name in SEEDED_TABLES)
        for name in SEEDED_TABLES:
            after_seed = await connection.scalar(
                text(f"SELECT nextval(pg_get_serial_sequence('{name}', 'id'))")
            )
            assert after_seed == max(row["id"] for row in pg_migrated[name]) + 1
        for name in ("teams", "tickets", "agents"):
            first = await connection.scalar(
                text(f"SELECT nextval(pg_get_serial_sequence('{name}', 'id'))")
            )
            assert first == 1, name
