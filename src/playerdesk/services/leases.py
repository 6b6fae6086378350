"""Leases: work that only one worker process may do at a time (long polling Telegram, whose
Bot API answers a second `getUpdates` with 409), whichever of several workers does it.

A lease is a row held by one worker until a time; the holder renews it while it works and
a worker that died lets it go when the time passes, so another takes over. The row also
keeps the work's progress (the cursor), so the next holder goes on where the last stopped.
Every change is one conditional UPDATE (or the first INSERT), so two workers racing for a
lease on SQLite or PostgreSQL never both get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from playerdesk.db.models import WorkerLease
from playerdesk.db.uow import UnitOfWork

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class HeldLease:
    name: str
    holder: str
    # The progress the previous holder (or this one) recorded.
    cursor: int | None


async def acquire_lease(
    uow: UnitOfWork, *, name: str, holder: str, ttl: timedelta
) -> HeldLease | None:
    """Take the lease for `ttl` (or extend it, if `holder` has it already); None while
    another worker holds it. Commits."""
    now = uow.clock.now()
    result = await uow.session.execute(
        update(WorkerLease)
        .where(
            WorkerLease.name == name,
            or_(WorkerLease.holder == holder, WorkerLease.lease_until <= now),
        )
        .values(holder=holder, lease_until=now + ttl, updated_at=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        exists = await uow.session.scalar(select(WorkerLease.name).where(WorkerLease.name == name))
        if exists is not None:
            await uow.rollback()
            return None
        try:
            async with uow.session.begin_nested():
                uow.session.add(
                    WorkerLease(
                        name=name, holder=holder, lease_until=now + ttl, cursor=None, updated_at=now
                    )
                )
        except IntegrityError:
            # Another worker created it first, and holds it.
            await uow.rollback()
            return None
    cursor = await uow.session.scalar(select(WorkerLease.cursor).where(WorkerLease.name == name))
    await uow.commit()
    log.debug("lease_acquired", lease=name, holder=holder)
    return HeldLease(name=name, holder=holder, cursor=cursor)


async def renew_lease(
    uow: UnitOfWork,
    *,
    name: str,
    holder: str,
    ttl: timedelta,
    cursor: int | None = None,
) -> bool:
    """Extend the lease `holder` has, recording the progress made when `cursor` is given;
    False when it has passed to another worker (the caller must stop). Commits."""
    now = uow.clock.now()
    values: dict[str, object] = {"lease_until": now + ttl, "updated_at": now}
    if cursor is not None:
        values["cursor"] = cursor
    result = await uow.session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.holder == holder)
        .values(**values)
    )
    held = bool(result.rowcount)  # type: ignore[attr-defined]
    await uow.commit()
    return held


async def release_lease(uow: UnitOfWork, *, name: str, holder: str) -> bool:
    """Let the lease go now (a worker shutting down), keeping its cursor. Commits."""
    now = uow.clock.now()
    result = await uow.session.execute(
        update(WorkerLease)
        .where(WorkerLease.name == name, WorkerLease.holder == holder)
        .values(lease_until=now, updated_at=now)
    )
    released = bool(result.rowcount)  # type: ignore[attr-defined]
    await uow.commit()
    return released
