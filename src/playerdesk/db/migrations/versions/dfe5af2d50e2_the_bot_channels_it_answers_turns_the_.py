"""the bot: channels it answers, turns, the ticket's bot state and quick replies

Revision ID: dfe5af2d50e2
Revises: c93f5a2e8d17
Create Date: 2026-11-22 07:40:46.407044
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import playerdesk.db.base

revision: str = "dfe5af2d50e2"
down_revision: str | None = "c93f5a2e8d17"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "bot_channels",
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "updated_by_agent_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_bot_channels_updated_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_bot_channels")),
    )
    op.create_table(
        "bot_turns",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "ticket_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "message_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("created_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("finished_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("intent", sa.String(length=32), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("rg_risk", sa.Boolean(), nullable=True),
        sa.Column("action", sa.String(length=32), nullable=True),
        sa.Column("reasons", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_bot_turns_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_bot_turns_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bot_turns")),
        sa.UniqueConstraint("message_id", name=op.f("uq_bot_turns_message_id")),
    )
    with op.batch_alter_table("bot_turns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_bot_turns_finished_at_due_at", ["finished_at", "due_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_bot_turns_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("quick_replies", sa.JSON(), nullable=True))

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_state", sa.String(length=20), nullable=True))
        batch_op.add_column(
            sa.Column("bot_tries", sa.Integer(), server_default="0", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("bot_tries")
        batch_op.drop_column("bot_state")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("quick_replies")

    with op.batch_alter_table("bot_turns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bot_turns_ticket_id"))
        batch_op.drop_index("ix_bot_turns_finished_at_due_at")

    op.drop_table("bot_turns")
    op.drop_table("bot_channels")
