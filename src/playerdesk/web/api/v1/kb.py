"""The knowledge base for agents (search, read; internal articles included) and editors
(write, publish, versions, categories). The public help centre has its own pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from playerdesk.domain.kb import MAX_KEY_LENGTH, MAX_QUERY_LENGTH, ArticleStatus
from playerdesk.services import kb
from playerdesk.web.deps import CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.common import SafeStr
from playerdesk.web.schemas.kb import (
    ArticleHitOut,
    ArticleIn,
    ArticleOut,
    ArticleStatusIn,
    ArticleSummaryOut,
    ArticleUpdateIn,
    ArticleVersionOut,
    CategoryIn,
    CategoryOut,
    FeedbackOut,
    PreviewIn,
    PreviewOut,
)

router = APIRouter(prefix="/kb", tags=["knowledge base"])

Language = Annotated[
    SafeStr | None,
    Query(alias="lang", max_length=10, description="the configured default when absent"),
]
SearchText = Annotated[SafeStr, Query(max_length=MAX_QUERY_LENGTH, description="what to find")]


@router.get("/search")
async def search(
    uow: ReadUowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    q: SearchText,
    language: Language = None,
    limit: Annotated[int, Query(ge=1, le=kb.MAX_SEARCH_LIMIT)] = 10,
) -> list[ArticleHitOut]:
    """Published and internal articles, best match first (words match as prefixes, without
    regard to case, diacritics or common inflections)."""
    hits = await kb.search_articles_for_agent(
        uow,
        actor=actor,
        query=q,
        language=language or runtime.policies.players.default_language,
        limit=limit,
    )
    return [ArticleHitOut.of(hit) for hit in hits]


@router.get("/articles")
async def list_articles(
    uow: ReadUowDep,
    actor: CurrentActor,
    language: Language = None,
    status: Annotated[ArticleStatus | None, Query(description="every status when absent")] = None,
    category: Annotated[SafeStr | None, Query(max_length=MAX_KEY_LENGTH)] = None,
    q: Annotated[SafeStr | None, Query(max_length=MAX_QUERY_LENGTH)] = None,
) -> list[ArticleSummaryOut]:
    articles = await kb.list_articles(
        uow, actor=actor, language=language, status=status, category_key=category, query=q
    )
    return [ArticleSummaryOut.of(article) for article in articles]


@router.post("/articles", status_code=status.HTTP_201_CREATED)
async def create_article(
    body: ArticleIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> ArticleOut:
    view = await kb.create_article(
        uow, actor=actor, fields=body.fields(), languages=runtime.policies.players.languages
    )
    return ArticleOut.of(view)


@router.get("/articles/{article_id}")
async def get_article(article_id: IdPath, uow: ReadUowDep, actor: CurrentActor) -> ArticleOut:
    return ArticleOut.of(await kb.get_article_for_agent(uow, actor=actor, article_id=article_id))


@router.put("/articles/{article_id}")
async def update_article(
    article_id: IdPath,
    body: ArticleUpdateIn,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> ArticleOut:
    """Save a new version; 409 (field `version`) when someone saved since `expected_version`."""
    view = await kb.update_article(
        uow,
        actor=actor,
        article_id=article_id,
        fields=body.fields(),
        expected_version=body.expected_version,
        languages=runtime.policies.players.languages,
    )
    return ArticleOut.of(view)


@router.post("/articles/{article_id}/status")
async def set_article_status(
    article_id: IdPath, body: ArticleStatusIn, uow: UowDep, actor: CurrentActor
) -> ArticleOut:
    view = await kb.set_article_status(uow, actor=actor, article_id=article_id, status=body.status)
    return ArticleOut.of(view)


@router.get("/articles/{article_id}/versions")
async def article_versions(
    article_id: IdPath, uow: ReadUowDep, actor: CurrentActor
) -> list[ArticleVersionOut]:
    versions = await kb.article_versions(uow, actor=actor, article_id=article_id)
    return [ArticleVersionOut.model_validate(version) for version in versions]


@router.get("/articles/{article_id}/feedback")
async def article_feedback(
    article_id: IdPath,
    uow: ReadUowDep,
    actor: CurrentActor,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[FeedbackOut]:
    rows = await kb.list_feedback(uow, actor=actor, article_id=article_id, limit=limit)
    return [FeedbackOut.model_validate(row) for row in rows]


@router.post("/preview")
async def preview(body: PreviewIn, uow: ReadUowDep, actor: CurrentActor) -> PreviewOut:
    """The sanitised HTML a body would be saved as (kb: links resolved)."""
    html = await kb.preview_markdown(
        uow, actor=actor, language=body.language, body_markdown=body.body_markdown
    )
    return PreviewOut(html=html)


@router.get("/categories")
async def list_categories(uow: ReadUowDep, actor: CurrentActor) -> list[CategoryOut]:
    return [CategoryOut.of(view) for view in await kb.list_categories_for_editor(uow, actor=actor)]


@router.post("/categories", status_code=status.HTTP_201_CREATED)
async def create_category(
    body: CategoryIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> CategoryOut:
    view = await kb.create_category(
        uow, actor=actor, fields=body.fields(), languages=runtime.policies.players.languages
    )
    return CategoryOut.of(view)


@router.put("/categories/{category_key}")
async def update_category(
    category_key: Annotated[SafeStr, Path(max_length=MAX_KEY_LENGTH)],
    body: CategoryIn,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> CategoryOut:
    view = await kb.update_category(
        uow,
        actor=actor,
        category_key=category_key,
        fields=body.fields(),
        languages=runtime.policies.players.languages,
    )
    return CategoryOut.of(view)
