"""knowledge base: categories, articles, versions, translations, feedback, search index

Revision ID: b7e2c41d9a30
Revises: 7564f5e40a4a
Create Date: 2026-11-22 05:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import playerdesk.db.base

revision: str = "b7e2c41d9a30"
down_revision: str | None = "7564f5e40a4a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = playerdesk.db.base.UTCDateTime(timezone=True)

# The search index (see db/models/kb.py): an FTS5 table on SQLite, an expression GIN index
# on PostgreSQL. Kept here as written when this revision was made.
SQLITE_SEARCH_TABLE = "kb_search_fts"
PG_SEARCH_INDEX = "ix_kb_search_documents_vector"
PG_SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, title_terms), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, summary_terms), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body_terms), 'C')"
)


def upgrade() -> None:
    op.create_table(
        "kb_categories",
        sa.Column("id", ID, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_categories")),
        sa.UniqueConstraint("key", name=op.f("uq_kb_categories_key")),
    )
    op.create_table(
        "kb_category_texts",
        sa.Column("category_id", ID, nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["kb_categories.id"],
            name=op.f("fk_kb_category_texts_category_id_kb_categories"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("category_id", "language", name=op.f("pk_kb_category_texts")),
    )
    op.create_table(
        "kb_articles",
        sa.Column("id", ID, nullable=False),
        sa.Column("category_id", ID, nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("slug", sa.String(length=120), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("helpful_count", sa.Integer(), nullable=False),
        sa.Column("not_helpful_count", sa.Integer(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.Column("published_at", UTC, nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["agents.id"],
            name=op.f("fk_kb_articles_author_id_agents"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["kb_categories.id"],
            name=op.f("fk_kb_articles_category_id_kb_categories"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_articles")),
        sa.UniqueConstraint("key", "language", name=op.f("uq_kb_articles_key_language")),
        sa.UniqueConstraint("language", "slug", name=op.f("uq_kb_articles_language_slug")),
    )
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kb_articles_category_id"), ["category_id"], unique=False
        )
        batch_op.create_index(
            "ix_kb_articles_language_status", ["language", "status"], unique=False
        )

    op.create_table(
        "kb_article_versions",
        sa.Column("id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("author_id", ID, nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_article_versions_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["agents.id"],
            name=op.f("fk_kb_article_versions_author_id_agents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_article_versions")),
        sa.UniqueConstraint(
            "article_id", "version", name=op.f("uq_kb_article_versions_article_id_version")
        ),
    )
    op.create_table(
        "kb_feedback",
        sa.Column("id", ID, nullable=False),
        sa.Column("article_id", ID, nullable=False),
        sa.Column("helpful", sa.Boolean(), nullable=False),
        sa.Column("comment", sa.String(length=1000), nullable=True),
        sa.Column("language", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_feedback_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kb_feedback")),
    )
    with op.batch_alter_table("kb_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_kb_feedback_article_id"), ["article_id"], unique=False)

    op.create_table(
        "kb_search_documents",
        sa.Column("article_id", ID, nullable=False),
        sa.Column("title_terms", sa.Text(), nullable=False),
        sa.Column("summary_terms", sa.Text(), nullable=False),
        sa.Column("body_terms", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["kb_articles.id"],
            name=op.f("fk_kb_search_documents_article_id_kb_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_kb_search_documents")),
    )

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        # Holds the normalised words (domain.kb.index_text), so the plain unicode61
        # tokenizer is all it needs; prefix indexes make short prefix queries cheap.
        op.execute(
            f"CREATE VIRTUAL TABLE {SQLITE_SEARCH_TABLE} USING fts5("
            "title, summary, body, tokenize = 'unicode61', prefix = '2 3 4')"
        )
    elif dialect == "postgresql":
        op.execute(
            f"CREATE INDEX {PG_SEARCH_INDEX} ON kb_search_documents "
            f"USING gin (({PG_SEARCH_VECTOR}))"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(f"DROP TABLE IF EXISTS {SQLITE_SEARCH_TABLE}")
    elif dialect == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {PG_SEARCH_INDEX}")
    op.drop_table("kb_search_documents")
    with op.batch_alter_table("kb_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kb_feedback_article_id"))
    op.drop_table("kb_feedback")
    op.drop_table("kb_article_versions")
    with op.batch_alter_table("kb_articles", schema=None) as batch_op:
        batch_op.drop_index("ix_kb_articles_language_status")
        batch_op.drop_index(batch_op.f("ix_kb_articles_category_id"))
    op.drop_table("kb_articles")
    op.drop_table("kb_category_texts")
    op.drop_table("kb_categories")
