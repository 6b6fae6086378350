"""canned replies and macros

Revision ID: c93f5a2e8d17
Revises: b7e2c41d9a30
Create Date: 2026-11-22 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import playerdesk.db.base

revision: str = "c93f5a2e8d17"
down_revision: str | None = "b7e2c41d9a30"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "canned_replies",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("shortcut", sa.String(length=50), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("set_status", sa.String(length=20), nullable=True),
        sa.Column("set_priority", sa.String(length=20), nullable=True),
        sa.Column("add_tags", sa.JSON(), nullable=False),
        sa.Column(
            "move_to_team_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("usage_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_used_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "created_by_agent_id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            nullable=True,
        ),
        sa.Column("created_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", playerdesk.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_agent_id"],
            ["agents.id"],
            name=op.f("fk_canned_replies_created_by_agent_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["move_to_team_id"],
            ["teams.id"],
            name=op.f("fk_canned_replies_move_to_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_canned_replies_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_canned_replies")),
        sa.UniqueConstraint(
            "shortcut", "language", name=op.f("uq_canned_replies_shortcut_language")
        ),
    )
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.create_index(
            "ix_canned_replies_language_shortcut", ["language", "shortcut"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_canned_replies_team_id"), ["team_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("canned_replies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_canned_replies_team_id"))
        batch_op.drop_index("ix_canned_replies_language_shortcut")

    op.drop_table("canned_replies")
