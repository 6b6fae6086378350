"""The knowledge base: categories, articles with their versions and translations, readers'
feedback, and the search documents the full-text index is built on.

The index itself is engine-specific and lives outside these models (created by the
migration, skipped by autogenerate through `include_name`): on SQLite the FTS5 table
`kb_search_fts` (rowid = article id) mirrors `kb_search_documents`; on PostgreSQL a GIN
index over `PG_SEARCH_VECTOR` covers `kb_search_documents` directly.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from playerdesk.db.base import Base, BigId, UTCDateTime


class KbCategory(Base):
    __tablename__ = "kb_categories"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # The URL segment: /help/<language>/<key>/<slug>.
    key: Mapped[str] = mapped_column(String(100), unique=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbCategoryText(Base):
    """A category's name and description in one language."""

    __tablename__ = "kb_category_texts"

    category_id: Mapped[int] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(String(500), default="")


class KbArticle(Base):
    """One article in one language; the same `key` in other languages are its translations."""

    __tablename__ = "kb_articles"
    __table_args__ = (
        UniqueConstraint("key", "language"),
        UniqueConstraint("language", "slug"),
        Index("ix_kb_articles_language_status", "language", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    category_id: Mapped[int] = mapped_column(
        ForeignKey("kb_categories.id", ondelete="RESTRICT"), index=True
    )
    key: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(10))
    slug: Mapped[str] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_markdown: Mapped[str] = mapped_column(Text)
    # Rendered and sanitised when saved (and again when an article it links to moves).
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # domain.kb.ArticleStatus
    version: Mapped[int] = mapped_column(Integer, default=1)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    not_helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class KbArticleVersion(Base):
    """An article as one save left it (the current version included)."""

    __tablename__ = "kb_article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("kb_articles.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(500), default="")
    body_markdown: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbFeedback(Base):
    """A reader's "was this helpful?" answer."""

    __tablename__ = "kb_feedback"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), index=True
    )
    helpful: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str | None] = mapped_column(String(1000))
    language: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class KbSearchDocument(Base):
    """An article's text as search reads it: normalised words of title, summary and body
    (domain.kb.index_text), and the body's plain text for excerpts."""

    __tablename__ = "kb_search_documents"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    title_terms: Mapped[str] = mapped_column(Text)
    summary_terms: Mapped[str] = mapped_column(Text)
    body_terms: Mapped[str] = mapped_column(Text)
    body_text: Mapped[str] = mapped_column(Text)


# The engine-specific index (see the module docstring). The migration writes the same
# expression: PostgreSQL uses the index only for this exact expression.
SQLITE_SEARCH_TABLE = "kb_search_fts"
PG_SEARCH_INDEX = "ix_kb_search_documents_vector"
PG_SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, title_terms), 'A') || "
    "setweight(to_tsvector('simple'::regconfig, summary_terms), 'B') || "
    "setweight(to_tsvector('simple'::regconfig, body_terms), 'C')"
)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """For Alembic's autogenerate: the search index objects that no model describes (the
    FTS5 table with its shadow tables, the PostgreSQL expression index) are not drift."""
    if name is None:
        return True
    if type_ == "table" and name.startswith(SQLITE_SEARCH_TABLE):
        return False
    return not (type_ == "index" and name == PG_SEARCH_INDEX)
