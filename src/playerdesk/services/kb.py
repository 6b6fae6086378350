"""The knowledge base: the help centre's reads, the agents' reads and search, the editors'
writes.

Three audiences. The public (no actor) sees published articles only. Agents (KB_READ) see
internal articles too, marked by their status. Editors (KB_MANAGE) see and write every
status. Every editor write is one transaction with an audit entry: the article row, a new
version row (every save is kept, the current one included), the search document and, on
SQLite, its FTS5 row, and the HTML of the articles whose kb: links point at what changed.

Markdown is rendered and sanitised once, when an article is saved (domain.kb_markdown); a
page only shows `body_html`. A `[text](kb:<key>)` link becomes the URL of that key's article
in the same language: from a published article only to published ones, from an internal
one to internal ones too, otherwise it stays plain text until such an article exists.

Search: the engine (FTS5 or PostgreSQL full text) finds the candidates whose words start
with a form of a query word; domain.kb.score puts them in order, so both engines rank alike.

Messages are wrapped in `N_` so that the console can show them translated.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, column, delete, func, insert, literal_column, or_, select
from sqlalchemy import table as sql_table
from sqlalchemy import update as sql_update
from sqlalchemy.exc import IntegrityError

from playerdesk.db.models import (
    Agent,
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbCategoryText,
    KbFeedback,
    KbSearchDocument,
)
from playerdesk.db.models.kb import PG_SEARCH_VECTOR, SQLITE_SEARCH_TABLE
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import Conflict, NotFound, ValidationFailed
from playerdesk.domain.kb import (
    AGENT_STATUSES,
    MAX_BODY_LENGTH,
    MAX_CATEGORY_DESCRIPTION_LENGTH,
    MAX_CATEGORY_NAME_LENGTH,
    MAX_FEEDBACK_COMMENT_LENGTH,
    MAX_SLUG_LENGTH,
    MAX_SUMMARY_LENGTH,
    MAX_TITLE_LENGTH,
    PUBLIC_STATUSES,
    ArticleStatus,
    QueryTerm,
    SearchDocument,
    all_forms,
    excerpt,
    index_text,
    is_key,
    query_terms,
    score,
    slugify,
)
from playerdesk.domain.kb_markdown import LinkForKey, linked_keys, plain_text
from playerdesk.domain.kb_markdown import render_markdown as _render_markdown
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit


def N_(message: str) -> str:
    """Marks a message for translation (the console translates it when it shows it)."""
    return message


ALL_STATUSES: frozenset[ArticleStatus] = frozenset(ArticleStatus)
# How many candidates the index hands over for ranking; a knowledge base is far smaller.
SEARCH_CANDIDATES = 200
MAX_SEARCH_LIMIT = 50
RELATED_LIMIT = 5
MAX_EDITOR_LIST = 1000


# Results -----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CategorySummary:
    key: str
    name: str
    description: str
    article_count: int
    position: int


@dataclass(frozen=True, kw_only=True)
class ArticleSummary:
    id: int
    key: str
    slug: str
    language: str
    title: str
    summary: str
    category_key: str
    updated_at: datetime
    status: str = ArticleStatus.PUBLISHED.value


@dataclass(frozen=True, kw_only=True)
class CategoryPage:
    category: CategorySummary
    articles: list[ArticleSummary]


@dataclass(frozen=True, kw_only=True)
class ArticleView:
    id: int
    key: str
    slug: str
    language: str
    title: str
    summary: str
    body_html: str
    status: str
    category_key: str
    category_name: str
    version: int
    updated_at: datetime
    translations: dict[str, str]  # language -> slug
    related: list[ArticleSummary]
    body_markdown: str
    author_id: int | None
    created_at: datetime
    published_at: datetime | None
    helpful_count: int
    not_helpful_count: int
    translation_ids: dict[str, int]  # language -> article id


@dataclass(frozen=True, kw_only=True)
class ArticleHit:
    id: int
    key: str
    slug: str
    language: str
    title: str
    summary: str
    excerpt: str  # plain text around the first match
    category_key: str
    status: str
    score: float


@dataclass(frozen=True, kw_only=True)
class ArticleFields:
    """An article as the editor wants it saved (the whole of it, on create and update)."""

    category_key: str
    language: str
    key: str
    slug: str  # empty: made from the title
    title: str
    summary: str
    body_markdown: str
    status: ArticleStatus | str = ArticleStatus.DRAFT


@dataclass(frozen=True, kw_only=True)
class ArticleVersionView:
    article_id: int
    version: int
    title: str
    summary: str
    body_markdown: str
    status: str
    author_id: int | None
    author_name: str | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class CategoryText:
    name: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class CategoryFields:
    key: str
    position: int
    texts: Mapping[str, CategoryText]  # language -> name and description


@dataclass(frozen=True, kw_only=True)
class CategoryView:
    id: int
    key: str
    position: int
    texts: dict[str, CategoryText]
    article_count: int  # every status but archived


@dataclass(frozen=True, kw_only=True)
class FeedbackView:
    id: int
    article_id: int
    helpful: bool
    comment: str | None
    language: str
    created_at: datetime


# Rendering ---------------------------------------------------------------------------------


def article_url(*, language: str, category_key: str, slug: str) -> str:
    """Where the help centre shows an article."""
    return f"/help/{language}/{category_key}/{slug}"


def render_markdown(markdown: str, *, language: str, link_for_key: LinkForKey) -> str:
    """Sanitised HTML of article Markdown (see domain.kb_markdown)."""
    return _render_markdown(markdown, language=language, link_for_key=link_for_key)


def _link_targets(status: ArticleStatus) -> frozenset[ArticleStatus]:
    """Which articles a kb: link in an article of this status may point at: a public page
    never links to an article the public cannot open."""
    return AGENT_STATUSES if status is ArticleStatus.INTERNAL else PUBLIC_STATUSES


async def _link_resolver(
    uow: UnitOfWork, *, language: str, markdown: str, status: ArticleStatus
) -> LinkForKey:
    keys = linked_keys(markdown)
    urls: dict[str, str] = {}
    if keys:
        rows = await uow.session.execute(
            select(KbArticle.key, KbArticle.slug, KbCategory.key)
            .join(KbCategory, KbCategory.id == KbArticle.category_id)
            .where(
                KbArticle.language == language,
                KbArticle.key.in_(sorted(keys)),
                KbArticle.status.in_(sorted(_link_targets(status))),
            )
        )
        urls = {
            key: article_url(language=language, category_key=category_key, slug=slug)
            for key, slug, category_key in rows
        }
    return urls.get


async def _render(uow: UnitOfWork, *, language: str, markdown: str, status: ArticleStatus) -> str:
    resolve = await _link_resolver(uow, language=language, markdown=markdown, status=status)
    return render_markdown(markdown, language=language, link_for_key=resolve)


# Search index ------------------------------------------------------------------------------

_FTS = sql_table(
    SQLITE_SEARCH_TABLE, column("rowid"), column("title"), column("summary"), column("body")
)
_PG_VECTOR: ColumnElement[Any] = literal_column(f"({PG_SEARCH_VECTOR})")
_PG_SIMPLE: ColumnElement[Any] = literal_column("'simple'::regconfig")


async def _index_article(uow: UnitOfWork, article: KbArticle) -> None:
    """The article's search document (and FTS5 row), in this transaction."""
    document = await uow.session.get(KbSearchDocument, article.id)
    if document is None:
        document = KbSearchDocument(article_id=article.id)
        uow.session.add(document)
    body_text = plain_text(article.body_html)
    document.title_terms = index_text(article.title)
    document.summary_terms = index_text(article.summary)
    document.body_terms = index_text(body_text)
    document.body_text = body_text
    await uow.session.flush()
    if uow.dialect == "sqlite":
        await uow.session.execute(delete(_FTS).where(_FTS.c.rowid == article.id))
        await uow.session.execute(
            insert(_FTS).values(
                rowid=article.id,
                title=document.title_terms,
                summary=document.summary_terms,
                body=document.body_terms,
            )
        )


def _match_condition(uow: UnitOfWork, forms: Sequence[str]) -> tuple[ColumnElement[bool], Any]:
    """The index lookup (any form as a prefix) and the engine's own rank, best first."""
    if uow.dialect == "postgresql":
        query = func.to_tsquery(_PG_SIMPLE, " | ".join(f"{form}:*" for form in forms))
        return _PG_VECTOR.op("@@")(query), func.ts_rank(_PG_VECTOR, query).desc()
    match = " OR ".join(f'"{form}"*' for form in forms)
    table: ColumnElement[Any] = literal_column(SQLITE_SEARCH_TABLE)
    return table.op("MATCH")(match), func.bm25(table, 10.0, 4.0, 1.0)


@dataclass(frozen=True, kw_only=True)
class _Ranked:
    article: KbArticle
    category_key: str
    document: KbSearchDocument
    score: float


async def _search(
    uow: UnitOfWork,
    *,
    terms: Sequence[QueryTerm],
    language: str | None,
    statuses: Collection[ArticleStatus],
    category_key: str | None = None,
    limit: int,
) -> list[_Ranked]:
    if not terms or not statuses:
        return []
    condition, engine_rank = _match_condition(uow, all_forms(terms))
    query = (
        select(KbArticle, KbCategory.key, KbSearchDocument)
        .join(KbCategory, KbCategory.id == KbArticle.category_id)
        .join(KbSearchDocument, KbSearchDocument.article_id == KbArticle.id)
        .where(condition, KbArticle.status.in_(sorted(statuses)))
        .order_by(engine_rank, KbArticle.id)
        .limit(SEARCH_CANDIDATES)
    )
    if uow.dialect != "postgresql":
        query = query.join(_FTS, _FTS.c.rowid == KbArticle.id)
    if language is not None:
        query = query.where(KbArticle.language == language)
    if category_key is not None:
        query = query.where(KbCategory.key == category_key)
    rows = list(await uow.session.execute(query))
    scores = score(
        terms,
        [
            SearchDocument(
                title=document.title_terms, summary=document.summary_terms, body=document.body_terms
            )
            for _, _, document in rows
        ],
    )
    ranked = [
        _Ranked(article=article, category_key=key, document=document, score=value)
        for (article, key, document), value in zip(rows, scores, strict=True)
        if value > 0
    ]
    ranked.sort(key=lambda hit: (-hit.score, hit.article.title.casefold(), hit.article.id))
    return ranked[:limit]


def _hit(ranked: _Ranked, terms: Sequence[QueryTerm]) -> ArticleHit:
    article = ranked.article
    return ArticleHit(
        id=article.id,
        key=article.key,
        slug=article.slug,
        language=article.language,
        title=article.title,
        summary=article.summary,
        excerpt=excerpt(ranked.document.body_text or article.summary, terms),
        category_key=ranked.category_key,
        status=article.status,
        score=ranked.score,
    )


def _bounded_limit(limit: int) -> int:
    return max(1, min(limit, MAX_SEARCH_LIMIT))


# Reading helpers ---------------------------------------------------------------------------


def _summary(article: KbArticle, category_key: str) -> ArticleSummary:
    return ArticleSummary(
        id=article.id,
        key=article.key,
        slug=article.slug,
        language=article.language,
        title=article.title,
        summary=article.summary,
        category_key=category_key,
        updated_at=article.updated_at,
        status=article.status,
    )


async def _category_name(uow: UnitOfWork, *, category_id: int, language: str) -> str:
    texts = (
        await uow.session.execute(
            select(KbCategoryText.language, KbCategoryText.name).where(
                KbCategoryText.category_id == category_id
            )
        )
    ).all()
    names = dict(texts)
    if language in names:
        return names[language]
    return next(iter(sorted(names.items())), ("", ""))[1]


async def _related(
    uow: UnitOfWork, *, article: KbArticle, visible: Collection[ArticleStatus]
) -> list[ArticleSummary]:
    """Articles this one links to first, then others of its category; same language."""
    rows = (
        await uow.session.execute(
            select(KbArticle, KbCategory.key)
            .join(KbCategory, KbCategory.id == KbArticle.category_id)
            .where(
                KbArticle.language == article.language,
                KbArticle.id != article.id,
                KbArticle.status.in_(sorted(visible)),
                or_(
                    KbArticle.category_id == article.category_id,
                    KbArticle.key.in_(sorted(linked_keys(article.body_markdown))),
                ),
            )
        )
    ).all()
    linked = linked_keys(article.body_markdown)
    ordered = sorted(
        rows,
        key=lambda row: (row[0].key not in linked, row[0].title.casefold(), row[0].id),
    )
    return [_summary(row, key) for row, key in ordered[:RELATED_LIMIT]]


async def _view(
    uow: UnitOfWork, article: KbArticle, *, visible: Collection[ArticleStatus]
) -> ArticleView:
    category = await uow.session.get(KbCategory, article.category_id)
    assert category is not None
    translations = await uow.session.execute(
        select(KbArticle.language, KbArticle.slug, KbArticle.id)
        .where(
            KbArticle.key == article.key,
            KbArticle.id != article.id,
            KbArticle.status.in_(sorted(visible)),
        )
        .order_by(KbArticle.language)
    )
    translated = list(translations)
    return ArticleView(
        id=article.id,
        key=article.key,
        slug=article.slug,
        language=article.language,
        title=article.title,
        summary=article.summary,
        body_html=article.body_html,
        status=article.status,
        category_key=category.key,
        category_name=await _category_name(uow, category_id=category.id, language=article.language),
        version=article.version,
        updated_at=article.updated_at,
        translations={language: slug for language, slug, _ in translated},
        related=await _related(uow, article=article, visible=visible),
        body_markdown=article.body_markdown,
        author_id=article.author_id,
        created_at=article.created_at,
        published_at=article.published_at,
        helpful_count=article.helpful_count,
        not_helpful_count=article.not_helpful_count,
        translation_ids={language: article_id for language, _, article_id in translated},
    )


async def _category_summaries(
    uow: UnitOfWork, *, language: str, category_key: str | None = None
) -> list[CategorySummary]:
    counts = (
        select(KbArticle.category_id, func.count().label("articles"))
        .where(
            KbArticle.language == language,
            KbArticle.status == ArticleStatus.PUBLISHED.value,
        )
        .group_by(KbArticle.category_id)
        .subquery()
    )
    query = (
        select(KbCategory, KbCategoryText, func.coalesce(counts.c.articles, 0))
        .join(KbCategoryText, KbCategoryText.category_id == KbCategory.id)
        .outerjoin(counts, counts.c.category_id == KbCategory.id)
        .where(KbCategoryText.language == language)
        .order_by(KbCategory.position, KbCategory.key)
    )
    if category_key is not None:
        query = query.where(KbCategory.key == category_key)
    return [
        CategorySummary(
            key=category.key,
            name=text.name,
            description=text.description,
            article_count=int(count),
            position=category.position,
        )
        for category, text, count in (await uow.session.execute(query))
    ]


# Public reads (the help centre) ------------------------------------------------------------


async def list_categories(uow: UnitOfWork, *, language: str) -> list[CategorySummary]:
    """The categories that have a name in this language, in their order, with the number of
    published articles each holds there (0 included: the page decides what to show)."""
    return await _category_summaries(uow, language=language)


async def list_category_articles(
    uow: UnitOfWork, *, language: str, category_key: str
) -> CategoryPage:
    found = await _category_summaries(uow, language=language, category_key=category_key)
    if not found:
        raise NotFound(N_("no such category"), field="category_key")
    rows = (
        await uow.session.execute(
            select(KbArticle)
            .join(KbCategory, KbCategory.id == KbArticle.category_id)
            .where(
                KbCategory.key == category_key,
                KbArticle.language == language,
                KbArticle.status == ArticleStatus.PUBLISHED.value,
            )
        )
    ).scalars()
    articles = sorted(rows, key=lambda article: (article.title.casefold(), article.id))
    return CategoryPage(
        category=found[0], articles=[_summary(article, category_key) for article in articles]
    )


async def get_published_article(uow: UnitOfWork, *, language: str, slug: str) -> ArticleView:
    article = await uow.session.scalar(
        select(KbArticle).where(
            KbArticle.language == language,
            KbArticle.slug == slug,
            KbArticle.status == ArticleStatus.PUBLISHED.value,
        )
    )
    if article is None:
        raise NotFound(N_("no such article"), field="slug")
    return await _view(uow, article, visible=PUBLIC_STATUSES)


async def search_articles(
    uow: UnitOfWork,
    *,
    query: str,
    language: str,
    limit: int = 10,
    category_key: str | None = None,
) -> list[ArticleHit]:
    """Published articles in this language (and category) matching the query, best first."""
    terms = query_terms(query, language=language)
    ranked = await _search(
        uow,
        terms=terms,
        language=language,
        statuses=PUBLIC_STATUSES,
        category_key=category_key,
        limit=_bounded_limit(limit),
    )
    return [_hit(hit, terms) for hit in ranked]


def _comment(value: str | None) -> str | None:
    comment = " ".join((value or "").replace("\x00", "").split()) or None
    if comment is not None and len(comment) > MAX_FEEDBACK_COMMENT_LENGTH:
        raise ValidationFailed(N_("a comment is at most 1000 characters"), field="comment")
    return comment


async def record_feedback(
    uow: UnitOfWork, *, article_id: int, helpful: bool, comment: str | None = None
) -> None:
    """A reader's "was this helpful?" answer to a published article."""
    text = _comment(comment)
    counter = KbArticle.helpful_count if helpful else KbArticle.not_helpful_count
    language = await uow.session.scalar(
        sql_update(KbArticle)
        .where(KbArticle.id == article_id, KbArticle.status == ArticleStatus.PUBLISHED.value)
        .values({counter: counter + 1})
        .returning(KbArticle.language)
    )
    if language is None:
        raise NotFound(N_("no such article"), field="article_id")
    uow.session.add(
        KbFeedback(
            article_id=article_id,
            helpful=helpful,
            comment=text,
            language=language,
            created_at=uow.clock.now(),
        )
    )
    await uow.commit()


# Agents ------------------------------------------------------------------------------------


def _visible_to(actor: Actor) -> frozenset[ArticleStatus]:
    return ALL_STATUSES if actor.can(Permission.KB_MANAGE) else AGENT_STATUSES


async def search_articles_for_agent(
    uow: UnitOfWork, *, actor: Actor, query: str, language: str, limit: int = 10
) -> list[ArticleHit]:
    """Published and internal articles (see `status`) matching the query, best first."""
    actor.require(Permission.KB_READ)
    terms = query_terms(query, language=language)
    ranked = await _search(
        uow, terms=terms, language=language, statuses=AGENT_STATUSES, limit=_bounded_limit(limit)
    )
    return [_hit(hit, terms) for hit in ranked]


async def get_article_for_agent(uow: UnitOfWork, *, actor: Actor, article_id: int) -> ArticleView:
    """An article in any status the actor may read: published and internal for agents,
    every status for editors."""
    actor.require(Permission.KB_READ)
    visible = _visible_to(actor)
    article = await uow.session.get(KbArticle, article_id)
    if article is None or ArticleStatus(article.status) not in visible:
        raise NotFound(N_("no such article"), field="article_id")
    return await _view(uow, article, visible=visible)


async def list_categories_for_editor(uow: UnitOfWork, *, actor: Actor) -> list[CategoryView]:
    """Every category with its texts in every language and its number of articles."""
    actor.require(Permission.KB_READ)
    categories = list(
        (
            await uow.session.scalars(
                select(KbCategory).order_by(KbCategory.position, KbCategory.key)
            )
        ).all()
    )
    texts: dict[int, dict[str, CategoryText]] = {}
    for row in (await uow.session.scalars(select(KbCategoryText))).all():
        texts.setdefault(row.category_id, {})[row.language] = CategoryText(
            name=row.name, description=row.description
        )
    counts = dict(
        (
            await uow.session.execute(
                select(KbArticle.category_id, func.count())
                .where(KbArticle.status != ArticleStatus.ARCHIVED.value)
                .group_by(KbArticle.category_id)
            )
        ).all()
    )
    return [
        CategoryView(
            id=category.id,
            key=category.key,
            position=category.position,
            texts=dict(sorted(texts.get(category.id, {}).items())),
            article_count=int(counts.get(category.id, 0)),
        )
        for category in categories
    ]


# Editors: checks ---------------------------------------------------------------------------


def _clean(value: str) -> str:
    return value.replace("\x00", "").strip()


def _language(value: str, *, languages: Sequence[str]) -> str:
    code = _clean(value).lower()
    if code not in languages:
        raise ValidationFailed(N_("unsupported language"), field="language")
    return code


def _status(value: ArticleStatus | str) -> ArticleStatus:
    try:
        return ArticleStatus(_clean(str(value)).lower())
    except ValueError:
        raise ValidationFailed(
            N_("unknown status; use draft, internal, published or archived"), field="status"
        ) from None


@dataclass(frozen=True, kw_only=True)
class _Checked:
    category: KbCategory
    language: str
    key: str
    slug: str
    title: str
    summary: str
    body_markdown: str
    status: ArticleStatus


async def _check_fields(
    uow: UnitOfWork,
    *,
    fields: ArticleFields,
    languages: Sequence[str],
    article_id: int | None = None,
) -> _Checked:
    language = _language(fields.language, languages=languages)
    status = _status(fields.status)
    title = " ".join(_clean(fields.title).split())
    if not title:
        raise ValidationFailed(N_("a title is required"), field="title")
    if len(title) > MAX_TITLE_LENGTH:
        raise ValidationFailed(N_("a title is at most 200 characters"), field="title")
    summary = " ".join(_clean(fields.summary).split())
    if len(summary) > MAX_SUMMARY_LENGTH:
        raise ValidationFailed(N_("a summary is at most 500 characters"), field="summary")
    body = fields.body_markdown.replace("\x00", "").replace("\r\n", "\n").strip()
    if len(body) > MAX_BODY_LENGTH:
        raise ValidationFailed(
            N_("the article text is longer than 50,000 characters"), field="body_markdown"
        )
    if not body and status in AGENT_STATUSES:
        raise ValidationFailed(
            N_("an article needs a text before it is internal or published"),
            field="body_markdown",
        )
    key = _clean(fields.key).lower()
    if not is_key(key):
        raise ValidationFailed(
            N_("a key is lowercase letters, digits and hyphens, e.g. withdrawal-times"),
            field="key",
        )
    slug = _clean(fields.slug).lower() or slugify(title)
    if not is_key(slug, max_length=MAX_SLUG_LENGTH):
        raise ValidationFailed(
            N_("a slug is lowercase letters, digits and hyphens, at most 120 characters"),
            field="slug",
        )
    category = await uow.session.scalar(
        select(KbCategory).where(KbCategory.key == _clean(fields.category_key).lower())
    )
    if category is None:
        raise ValidationFailed(N_("no such category"), field="category_key")
    others = select(KbArticle.id).where(KbArticle.language == language)
    if article_id is not None:
        others = others.where(KbArticle.id != article_id)
    if await uow.session.scalar(others.where(KbArticle.key == key)) is not None:
        raise Conflict(N_("an article with this key already exists in this language"), field="key")
    if await uow.session.scalar(others.where(KbArticle.slug == slug)) is not None:
        raise Conflict(N_("another article in this language has this slug"), field="slug")
    return _Checked(
        category=category,
        language=language,
        key=key,
        slug=slug,
        title=title,
        summary=summary,
        body_markdown=body,
        status=status,
    )


# Editors: writes ---------------------------------------------------------------------------


def _keep_version(uow: UnitOfWork, article: KbArticle, *, actor: Actor) -> None:
    uow.session.add(
        KbArticleVersion(
            article_id=article.id,
            version=article.version,
            title=article.title,
            summary=article.summary,
            body_markdown=article.body_markdown,
            status=article.status,
            author_id=actor.agent_id,
            created_at=uow.clock.now(),
        )
    )


async def _refresh_links_to(
    uow: UnitOfWork, *, language: str, keys: Collection[str], except_id: int
) -> None:
    """Render again the articles whose kb: links point at these keys (a target appeared,
    moved, or changed status): links follow their target without a new version."""
    if not keys:
        return
    patterns = [KbArticle.body_markdown.ilike(f"%kb:{key}%") for key in sorted(keys)]
    linking = (
        await uow.session.scalars(
            select(KbArticle).where(
                KbArticle.language == language, KbArticle.id != except_id, or_(*patterns)
            )
        )
    ).all()
    for article in linking:
        if not set(keys) & linked_keys(article.body_markdown):
            continue
        rendered = await _render(
            uow,
            language=article.language,
            markdown=article.body_markdown,
            status=ArticleStatus(article.status),
        )
        if rendered != article.body_html:
            article.body_html = rendered


async def _flush_unique(
    uow: UnitOfWork,
    *,
    message: str = N_("an article with this key or slug was saved meanwhile in this language"),
) -> None:
    """Flush, turning a unique key taken by a concurrent save into a Conflict (the checks
    before found it free)."""
    try:
        await uow.session.flush()
    except IntegrityError:
        raise Conflict(message, field="key") from None


async def _get_for_update(uow: UnitOfWork, article_id: int) -> KbArticle:
    article = await uow.session.get(KbArticle, article_id, with_for_update=True)
    if article is None:
        raise NotFound(N_("no such article"), field="article_id")
    return article


async def _finish_save(
    uow: UnitOfWork,
    article: KbArticle,
    *,
    actor: Actor,
    action: str,
    relink: Sequence[tuple[str, str]],
) -> ArticleView:
    """What every save of an article ends with: its version kept, its search entry, the
    links to it in other articles (`relink`: language and key whose links may have changed
    target), the audit entry, and the commit."""
    _keep_version(uow, article, actor=actor)
    await _index_article(uow, article)
    for language, key in relink:
        await _refresh_links_to(uow, language=language, keys={key}, except_id=article.id)
    _audit_article(uow, actor=actor, action=action, article=article)
    view = await _view(uow, article, visible=ALL_STATUSES)
    await uow.commit()
    return view


def _audit_article(uow: UnitOfWork, *, actor: Actor, action: str, article: KbArticle) -> None:
    audit.record(
        uow,
        actor=actor,
        action=action,
        entity_type="kb_article",
        entity_id=article.id,
        details={
            "key": article.key,
            "language": article.language,
            "version": article.version,
            "status": article.status,
        },
    )


async def create_article(
    uow: UnitOfWork, *, actor: Actor, fields: ArticleFields, languages: Sequence[str]
) -> ArticleView:
    """A new article (version 1); with the key of an article in another language it is that
    article's translation."""
    actor.require(Permission.KB_MANAGE)
    checked = await _check_fields(uow, fields=fields, languages=languages)
    now = uow.clock.now()
    article = KbArticle(
        category_id=checked.category.id,
        key=checked.key,
        language=checked.language,
        slug=checked.slug,
        title=checked.title,
        summary=checked.summary,
        body_markdown=checked.body_markdown,
        body_html=await _render(
            uow,
            language=checked.language,
            markdown=checked.body_markdown,
            status=checked.status,
        ),
        status=checked.status.value,
        version=1,
        author_id=actor.agent_id,
        helpful_count=0,
        not_helpful_count=0,
        created_at=now,
        updated_at=now,
        published_at=now if checked.status is ArticleStatus.PUBLISHED else None,
    )
    uow.session.add(article)
    await _flush_unique(uow)
    return await _finish_save(
        uow,
        article,
        actor=actor,
        action="kb.article_created",
        relink=[(article.language, article.key)],
    )


async def update_article(
    uow: UnitOfWork,
    *,
    actor: Actor,
    article_id: int,
    fields: ArticleFields,
    expected_version: int,
    languages: Sequence[str],
) -> ArticleView:
    """Save a new version of the article. `expected_version` is the version the editor
    started from: when someone saved meanwhile, nothing is saved (Conflict on "version")."""
    actor.require(Permission.KB_MANAGE)
    article = await _get_for_update(uow, article_id)
    if article.version != expected_version:
        raise Conflict(
            N_("the article was changed by someone else meanwhile; reload it and apply your "
               "changes again"),
            field="version",
        )  # fmt: skip
    checked = await _check_fields(uow, fields=fields, languages=languages, article_id=article.id)
    before = (article.language, article.key, article.slug, article.category_id, article.status)
    # Rendered before the row changes: its link lookup must not flush a half-made change.
    body_html = await _render(
        uow, language=checked.language, markdown=checked.body_markdown, status=checked.status
    )
    now = uow.clock.now()
    article.category_id = checked.category.id
    article.key = checked.key
    article.language = checked.language
    article.slug = checked.slug
    article.title = checked.title
    article.summary = checked.summary
    article.body_markdown = checked.body_markdown
    article.status = checked.status.value
    article.body_html = body_html
    article.version += 1
    article.updated_at = now
    if checked.status is ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    await _flush_unique(uow)
    after = (article.language, article.key, article.slug, article.category_id, article.status)
    # Links to the old key (or in the old language) now go nowhere; to the new, here.
    moved = before != after
    relink = [(before[0], before[1]), (article.language, article.key)] if moved else []
    return await _finish_save(uow, article, actor=actor, action="kb.article_updated", relink=relink)


async def set_article_status(
    uow: UnitOfWork, *, actor: Actor, article_id: int, status: ArticleStatus | str
) -> ArticleView:
    """Publish, make internal, send back to draft or archive (a new version)."""
    actor.require(Permission.KB_MANAGE)
    new_status = _status(status)
    article = await _get_for_update(uow, article_id)
    if new_status.value == article.status:
        return await _view(uow, article, visible=ALL_STATUSES)
    if new_status in AGENT_STATUSES and not article.body_markdown.strip():
        raise ValidationFailed(
            N_("an article needs a text before it is internal or published"), field="status"
        )
    now = uow.clock.now()
    article.status = new_status.value
    article.version += 1
    article.updated_at = now
    if new_status is ArticleStatus.PUBLISHED and article.published_at is None:
        article.published_at = now
    # Which links it may hold depends on its status.
    article.body_html = await _render(
        uow, language=article.language, markdown=article.body_markdown, status=new_status
    )
    await uow.session.flush()
    return await _finish_save(
        uow,
        article,
        actor=actor,
        action="kb.article_status_changed",
        relink=[(article.language, article.key)],
    )


async def list_articles(
    uow: UnitOfWork,
    *,
    actor: Actor,
    language: str | None = None,
    status: ArticleStatus | str | None = None,
    category_key: str | None = None,
    query: str | None = None,
) -> list[ArticleSummary]:
    """Articles of every status for the editor's list: by category and title, or by
    relevance when there is a query."""
    actor.require(Permission.KB_MANAGE)
    statuses = ALL_STATUSES if status is None or status == "" else {_status(status)}
    if query and query.strip():
        terms = query_terms(query, language=language or "en")
        ranked = await _search(
            uow,
            terms=terms,
            language=language,
            statuses=statuses,
            category_key=category_key,
            limit=MAX_EDITOR_LIST,
        )
        return [_summary(hit.article, hit.category_key) for hit in ranked]
    listing = (
        select(KbArticle, KbCategory.key)
        .join(KbCategory, KbCategory.id == KbArticle.category_id)
        .where(KbArticle.status.in_(sorted(statuses)))
        .order_by(KbCategory.position, KbCategory.key, KbArticle.title, KbArticle.id)
        .limit(MAX_EDITOR_LIST)
    )
    if language:
        listing = listing.where(KbArticle.language == language)
    if category_key:
        listing = listing.where(KbCategory.key == category_key)
    rows = await uow.session.execute(listing)
    return [_summary(article, key) for article, key in rows]


async def article_versions(
    uow: UnitOfWork, *, actor: Actor, article_id: int
) -> list[ArticleVersionView]:
    """Every saved version of an article, newest first."""
    actor.require(Permission.KB_MANAGE)
    if await uow.session.get(KbArticle, article_id) is None:
        raise NotFound(N_("no such article"), field="article_id")
    rows = await uow.session.execute(
        select(KbArticleVersion, Agent.name)
        .outerjoin(Agent, Agent.id == KbArticleVersion.author_id)
        .where(KbArticleVersion.article_id == article_id)
        .order_by(KbArticleVersion.version.desc())
    )
    return [
        ArticleVersionView(
            article_id=row.article_id,
            version=row.version,
            title=row.title,
            summary=row.summary,
            body_markdown=row.body_markdown,
            status=row.status,
            author_id=row.author_id,
            author_name=name,
            created_at=row.created_at,
        )
        for row, name in rows
    ]


async def preview_markdown(
    uow: UnitOfWork, *, actor: Actor, language: str, body_markdown: str
) -> str:
    """The HTML an article body would be saved as, for the editor's preview."""
    actor.require(Permission.KB_MANAGE)
    if len(body_markdown) > MAX_BODY_LENGTH:
        raise ValidationFailed(
            N_("the article text is longer than 50,000 characters"), field="body_markdown"
        )
    return await _render(
        uow,
        language=language,
        markdown=body_markdown.replace("\x00", ""),
        status=ArticleStatus.INTERNAL,
    )


async def list_feedback(
    uow: UnitOfWork, *, actor: Actor, article_id: int, limit: int = 100
) -> list[FeedbackView]:
    actor.require(Permission.KB_MANAGE)
    rows = (
        await uow.session.scalars(
            select(KbFeedback)
            .where(KbFeedback.article_id == article_id)
            .order_by(KbFeedback.id.desc())
            .limit(max(1, min(limit, 1000)))
        )
    ).all()
    return [
        FeedbackView(
            id=row.id,
            article_id=row.article_id,
            helpful=row.helpful,
            comment=row.comment,
            language=row.language,
            created_at=row.created_at,
        )
        for row in rows
    ]


# Categories --------------------------------------------------------------------------------


def _check_category(fields: CategoryFields, *, languages: Sequence[str]) -> dict[str, CategoryText]:
    if fields.position < 0 or fields.position > 1_000_000:
        raise ValidationFailed(N_("a position is a number from 0 to 1000000"), field="position")
    texts: dict[str, CategoryText] = {}
    for code, given in fields.texts.items():
        language = _language(code, languages=languages)
        name = " ".join(_clean(given.name).split())
        description = " ".join(_clean(given.description).split())
        if not name:
            raise ValidationFailed(N_("a name is required"), field="name")
        if len(name) > MAX_CATEGORY_NAME_LENGTH:
            raise ValidationFailed(N_("a name is at most 100 characters"), field="name")
        if len(description) > MAX_CATEGORY_DESCRIPTION_LENGTH:
            raise ValidationFailed(
                N_("a description is at most 500 characters"), field="description"
            )
        texts[language] = CategoryText(name=name, description=description)
    if not texts:
        raise ValidationFailed(
            N_("a category needs a name in at least one language"), field="texts"
        )
    return texts


async def _category_view(uow: UnitOfWork, category: KbCategory) -> CategoryView:
    for view in await list_categories_for_editor(uow, actor=Actor.system()):
        if view.id == category.id:
            return view
    raise NotFound(N_("no such category"), field="category_key")


async def create_category(
    uow: UnitOfWork, *, actor: Actor, fields: CategoryFields, languages: Sequence[str]
) -> CategoryView:
    actor.require(Permission.KB_MANAGE)
    key = _clean(fields.key).lower()
    if not is_key(key):
        raise ValidationFailed(
            N_("a key is lowercase letters, digits and hyphens, e.g. withdrawal-times"),
            field="key",
        )
    texts = _check_category(fields, languages=languages)
    if await uow.session.scalar(select(KbCategory.id).where(KbCategory.key == key)) is not None:
        raise Conflict(N_("a category with this key already exists"), field="key")
    now = uow.clock.now()
    category = KbCategory(key=key, position=fields.position, created_at=now, updated_at=now)
    uow.session.add(category)
    await _flush_unique(uow, message=N_("a category with this key already exists"))
    _write_category_texts(uow, actor=actor, category=category, texts=texts, action="created")
    await uow.session.flush()
    view = await _category_view(uow, category)
    await uow.commit()
    return view


def _write_category_texts(
    uow: UnitOfWork,
    *,
    actor: Actor,
    category: KbCategory,
    texts: dict[str, CategoryText],
    action: str,
) -> None:
    """A category's texts (one per language) and the audit entry of the change."""
    for language, text in texts.items():
        uow.session.add(
            KbCategoryText(
                category_id=category.id,
                language=language,
                name=text.name,
                description=text.description,
            )
        )
    audit.record(
        uow,
        actor=actor,
        action=f"kb.category_{action}",
        entity_type="kb_category",
        entity_id=category.id,
        details={"key": category.key},
    )


async def update_category(
    uow: UnitOfWork,
    *,
    actor: Actor,
    category_key: str,
    fields: CategoryFields,
    languages: Sequence[str],
) -> CategoryView:
    """New position and texts (the texts given replace all the category's texts)."""
    actor.require(Permission.KB_MANAGE)
    category = await uow.session.scalar(
        select(KbCategory).where(KbCategory.key == category_key).with_for_update()
    )
    if category is None:
        raise NotFound(N_("no such category"), field="category_key")
    if _clean(fields.key).lower() != category.key:
        raise ValidationFailed(
            N_("a category's key cannot change: it is part of its articles' addresses"),
            field="key",
        )
    texts = _check_category(fields, languages=languages)
    category.position = fields.position
    category.updated_at = uow.clock.now()
    await uow.session.execute(
        delete(KbCategoryText).where(KbCategoryText.category_id == category.id)
    )
    _write_category_texts(uow, actor=actor, category=category, texts=texts, action="updated")
    await uow.session.flush()
    view = await _category_view(uow, category)
    await uow.commit()
    return view
