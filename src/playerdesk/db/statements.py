"""Statements whose SQL differs between the two engines, behind one function each."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.schema import Table


def insert_unless_conflict(dialect: str, table: Table, *, on: list[str]) -> Insert:
    """`INSERT ... ON CONFLICT (on) DO NOTHING` for the engine named `dialect`: a duplicate
    inserts nothing (and RETURNING returns no row) instead of failing the whole transaction,
    so no savepoint is needed around it. Both engines (SQLite >= 3.24, PostgreSQL) have it."""
    statement: Any
    if dialect == "postgresql":
        statement = postgresql.insert(table).on_conflict_do_nothing(index_elements=on)
    elif dialect == "sqlite":
        statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=on)
    else:  # pragma: no cover - the two engines above are the supported ones
        raise NotImplementedError(f"no ON CONFLICT for {dialect}")
    return statement  # type: ignore[no-any-return]
