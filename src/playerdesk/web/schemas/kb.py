"""The knowledge base for agents and editors: search hits, articles, versions, categories.

`url` is where the help centre shows an article (a path on this site), present only for
published articles: an internal one has no public page.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from playerdesk.domain.kb import (
    MAX_BODY_LENGTH,
    MAX_CATEGORY_DESCRIPTION_LENGTH,
    MAX_CATEGORY_NAME_LENGTH,
    MAX_KEY_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_SUMMARY_LENGTH,
    MAX_TITLE_LENGTH,
    ArticleStatus,
)
from playerdesk.services import kb
from playerdesk.web.schemas.common import RequestModel, ResponseModel

LanguageCode = Annotated[str, Field(min_length=2, max_length=10)]
Key = Annotated[str, Field(min_length=1, max_length=MAX_KEY_LENGTH)]


def _public_url(*, status: str, language: str, category_key: str, slug: str) -> str | None:
    if status != ArticleStatus.PUBLISHED.value:
        return None
    return kb.article_url(language=language, category_key=category_key, slug=slug)


class ArticleHitOut(ResponseModel):
    id: int
    key: str
    slug: str
    language: str
    title: str
    summary: str
    excerpt: str = Field(description="plain text around the first match")
    category_key: str
    status: ArticleStatus = Field(description="published, or internal: for agents only")
    score: float
    url: str | None

    @classmethod
    def of(cls, hit: kb.ArticleHit) -> ArticleHitOut:
        return cls(
            id=hit.id,
            key=hit.key,
            slug=hit.slug,
            language=hit.language,
            title=hit.title,
            summary=hit.summary,
            excerpt=hit.excerpt,
            category_key=hit.category_key,
            status=ArticleStatus(hit.status),
            score=hit.score,
            url=_public_url(
                status=hit.status,
                language=hit.language,
                category_key=hit.category_key,
                slug=hit.slug,
            ),
        )


class ArticleSummaryOut(ResponseModel):
    id: int
    key: str
    slug: str
    language: str
    title: str
    summary: str
    category_key: str
    status: ArticleStatus
    updated_at: datetime
    url: str | None

    @classmethod
    def of(cls, article: kb.ArticleSummary) -> ArticleSummaryOut:
        return cls(
            id=article.id,
            key=article.key,
            slug=article.slug,
            language=article.language,
            title=article.title,
            summary=article.summary,
            category_key=article.category_key,
            status=ArticleStatus(article.status),
            updated_at=article.updated_at,
            url=_public_url(
                status=article.status,
                language=article.language,
                category_key=article.category_key,
                slug=article.slug,
            ),
        )


class ArticleOut(ResponseModel):
    id: int
    key: str = Field(description="the same key in other languages: its translations")
    slug: str
    language: str
    title: str
    summary: str
    body_markdown: str
    body_html: str = Field(description="rendered and sanitised when saved")
    status: ArticleStatus
    category_key: str
    category_name: str
    version: int = Field(description="send it back as expected_version when saving")
    author_id: int | None
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    helpful_count: int
    not_helpful_count: int
    translations: dict[str, int] = Field(description="language -> article id")
    related: list[ArticleSummaryOut]
    url: str | None

    @classmethod
    def of(cls, view: kb.ArticleView) -> ArticleOut:
        return cls(
            id=view.id,
            key=view.key,
            slug=view.slug,
            language=view.language,
            title=view.title,
            summary=view.summary,
            body_markdown=view.body_markdown,
            body_html=view.body_html,
            status=ArticleStatus(view.status),
            category_key=view.category_key,
            category_name=view.category_name,
            version=view.version,
            author_id=view.author_id,
            created_at=view.created_at,
            updated_at=view.updated_at,
            published_at=view.published_at,
            helpful_count=view.helpful_count,
            not_helpful_count=view.not_helpful_count,
            translations=dict(view.translation_ids),
            related=[ArticleSummaryOut.of(item) for item in view.related],
            url=_public_url(
                status=view.status,
                language=view.language,
                category_key=view.category_key,
                slug=view.slug,
            ),
        )


class ArticleIn(RequestModel):
    category_key: Key
    language: LanguageCode
    key: Key = Field(description="lowercase letters, digits and hyphens; shared by translations")
    slug: Annotated[str, Field(max_length=MAX_SLUG_LENGTH)] = Field(
        default="", description="empty: made from the title"
    )
    title: Annotated[str, Field(max_length=MAX_TITLE_LENGTH)]
    summary: Annotated[str, Field(max_length=MAX_SUMMARY_LENGTH)] = ""
    body_markdown: Annotated[str, Field(max_length=MAX_BODY_LENGTH)] = Field(
        default="", description="Markdown; link other articles as [text](kb:<key>)"
    )
    status: ArticleStatus = ArticleStatus.DRAFT

    def fields(self) -> kb.ArticleFields:
        return kb.ArticleFields(
            category_key=self.category_key,
            language=self.language,
            key=self.key,
            slug=self.slug,
            title=self.title,
            summary=self.summary,
            body_markdown=self.body_markdown,
            status=self.status,
        )


class ArticleUpdateIn(ArticleIn):
    """The whole article as it is to be saved, and the version the edit started from."""

    expected_version: int = Field(ge=1, le=1_000_000_000)


class ArticleStatusIn(RequestModel):
    status: ArticleStatus


class ArticleVersionOut(ResponseModel):
    article_id: int
    version: int
    title: str
    summary: str
    body_markdown: str
    status: ArticleStatus
    author_id: int | None
    author_name: str | None
    created_at: datetime


class FeedbackOut(ResponseModel):
    id: int
    article_id: int
    helpful: bool
    comment: str | None
    language: str
    created_at: datetime


class CategoryTextIn(RequestModel):
    name: Annotated[str, Field(max_length=MAX_CATEGORY_NAME_LENGTH)]
    description: Annotated[str, Field(max_length=MAX_CATEGORY_DESCRIPTION_LENGTH)] = ""


class CategoryIn(RequestModel):
    key: Key
    position: int = Field(default=0, ge=0, le=1_000_000)
    texts: dict[LanguageCode, CategoryTextIn] = Field(
        description="language -> name and description; replaces every text on update"
    )

    def fields(self) -> kb.CategoryFields:
        return kb.CategoryFields(
            key=self.key,
            position=self.position,
            texts={
                language: kb.CategoryText(name=text.name, description=text.description)
                for language, text in self.texts.items()
            },
        )


class CategoryTextOut(ResponseModel):
    name: str
    description: str


class CategoryOut(ResponseModel):
    id: int
    key: str
    position: int
    texts: dict[str, CategoryTextOut]
    article_count: int = Field(description="articles in every status but archived")

    @classmethod
    def of(cls, view: kb.CategoryView) -> CategoryOut:
        return cls(
            id=view.id,
            key=view.key,
            position=view.position,
            texts={
                language: CategoryTextOut(name=text.name, description=text.description)
                for language, text in view.texts.items()
            },
            article_count=view.article_count,
        )


class PreviewIn(RequestModel):
    language: LanguageCode
    body_markdown: Annotated[str, Field(max_length=MAX_BODY_LENGTH)]


class PreviewOut(ResponseModel):
    html: str
