"""The audit log: written in the same transaction as the change it records."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from playerdesk.db.models import AuditEntry
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services.pagination import Page, Position, decode_cursor


def record(
    uow: UnitOfWork,
    *,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: int | str | None,
    details: dict[str, Any] | None = None,
) -> None:
    """Add an audit entry to the current transaction (it commits or rolls back with it)."""
    uow.session.add(
        AuditEntry(
            at=uow.clock.now(),
            actor_agent_id=actor.agent_id,
            actor_method=actor.method.value,
            actor_token_id=actor.token_id,
            ip=actor.ip,
            action=action,
            entity_type=entity_type,
            entity_id=None if entity_id is None else str(entity_id),
            details=details or {},
        )
    )


@dataclass(frozen=True, kw_only=True)
class AuditFilter:
    action: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    actor_agent_id: int | None = None


async def list_entries(
    uow: UnitOfWork, *, actor: Actor, filters: AuditFilter, cursor: str | None, limit: int
) -> Page[AuditEntry]:
    actor.require(Permission.AUDIT_READ)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if filters.action:
        query = query.where(AuditEntry.action == filters.action)
    if filters.entity_type:
        query = query.where(AuditEntry.entity_type == filters.entity_type)
    if filters.entity_id:
        query = query.where(AuditEntry.entity_id == filters.entity_id)
    if filters.actor_agent_id is not None:
        query = query.where(AuditEntry.actor_agent_id == filters.actor_agent_id)
    if cursor is not None:
        query = query.where(AuditEntry.id < decode_cursor(cursor).before)
    rows = list((await uow.session.scalars(query)).all())
    return Page.from_rows(rows, limit=limit, position=lambda entry: Position(before=entry.id))
