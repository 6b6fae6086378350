"""worker leases (one Telegram long poller at a time)

Revision ID: af0209d16820
Revises: d740fb097a2f
Create Date: 2026-11-23 10:12:40.118204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import playerdesk.db.base

revision: str = "af0209d16820"
down_revision: str | None = "d740fb097a2f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_leases",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("lease_until", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cursor", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_worker_leases")),
    )


def downgrade() -> None:
    op.drop_table("worker_leases")
