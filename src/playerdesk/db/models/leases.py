from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from playerdesk.db.base import Base, UTCDateTime


class WorkerLease(Base):
    """Work only one process may do at a time (long polling a messenger: the provider
    answers a second poller with a conflict), held by one worker until `lease_until`, and
    the progress it made, so that whoever holds it next goes on from there."""

    __tablename__ = "worker_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    # host:pid:random of the worker holding it (or that last held it).
    holder: Mapped[str] = mapped_column(String(100))
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    # Where the work stands (for getUpdates, the offset of the next update to take).
    cursor: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
