"""outbox provider ids (a messenger's reports find their row by index)

Revision ID: 8d30cb528f25
Revises: af0209d16820
Create Date: 2026-11-22 12:17:58.288985
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8d30cb528f25"
down_revision: str | None = "af0209d16820"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outbox_provider_ids",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "outbox_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("provider_message_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_provider_ids_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_provider_ids")),
    )
    with op.batch_alter_table("outbox_provider_ids", schema=None) as batch_op:
        batch_op.create_index(
            "ix_outbox_provider_ids_channel_id", ["channel", "provider_message_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_outbox_provider_ids_outbox_id"), ["outbox_id"], unique=False
        )
    # The ids of messages already sent (a reply in parts kept them comma-separated).
    connection = op.get_bind()
    sent = connection.execute(
        sa.text(
            "SELECT id, channel, provider_message_id FROM outbox "
            "WHERE provider_message_id IS NOT NULL"
        )
    ).all()
    rows = [
        {"outbox_id": row.id, "channel": row.channel, "provider_message_id": part.strip()[:200]}
        for row in sent
        for part in row.provider_message_id.split(",")
        if part.strip()
    ]
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO outbox_provider_ids (outbox_id, channel, provider_message_id) "
                "VALUES (:outbox_id, :channel, :provider_message_id)"
            ),
            rows,
        )


def downgrade() -> None:
    with op.batch_alter_table("outbox_provider_ids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_provider_ids_outbox_id"))
        batch_op.drop_index("ix_outbox_provider_ids_channel_id")

    op.drop_table("outbox_provider_ids")
