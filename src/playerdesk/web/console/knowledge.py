"""Console pages for the knowledge base, for supervisors and admins (Permission.KB_MANAGE):
the list of articles with filters, writing and editing an article (Markdown with a preview
rendered by the server, its status, category and translations), and its versions.

Plain forms that post back and redirect, as on the other administration pages. Saving an
article that someone else saved meanwhile is refused (the stale version): the page comes
back with what the editor typed kept, and the version saved meanwhile shown next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import Conflict, DomainError, NotFound, PermissionDenied
from playerdesk.domain.kb import MAX_QUERY_LENGTH, ArticleStatus, is_key, slugify
from playerdesk.domain.permissions import Permission
from playerdesk.i18n import language_name, translations
from playerdesk.services import kb
from playerdesk.web.console.admin import (
    FormError,
    Viewer,
    _common,
    _error_of,
    _signed_or_login,
    _status_of,
    forbidden_page,
)
from playerdesk.web.console.routes import _language, _page
from playerdesk.web.deps import Admitted, IdPath, ReadUowDep, RuntimeDep, UowDep, csrf_valid

router = APIRouter(prefix="/console/admin", include_in_schema=False, dependencies=[Admitted])


def _forbidden(request: Request, runtime: RuntimeDep, signed: Viewer) -> Response:
    title = translations(_language(request, runtime)).gettext("Knowledge base")
    return forbidden_page(request, runtime, signed, title=title)


ARTICLES = "/console/admin/articles"
SECTION = "articles"
FORM = "article"
# Comments shown on the edit page: the newest.
FEEDBACK_SHOWN = 20
PREVIEW, SAVE = "preview", "save"


def _status_labels(language: str) -> dict[str, str]:
    pgettext = translations(language).pgettext
    return {
        ArticleStatus.DRAFT.value: pgettext("article status", "Draft"),
        # Translators: an article only agents see, never shown in the public help centre.
        ArticleStatus.INTERNAL.value: pgettext("article status", "Internal"),
        ArticleStatus.PUBLISHED.value: pgettext("article status", "Published"),
        ArticleStatus.ARCHIVED.value: pgettext("article status", "Archived"),
    }


def _status_hints(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        ArticleStatus.DRAFT.value: _("Only editors see it."),
        ArticleStatus.INTERNAL.value: _(
            "Agents find it in the knowledge panel; players never see it."
        ),
        ArticleStatus.PUBLISHED.value: _("In the public help centre, and for agents."),
        ArticleStatus.ARCHIVED.value: _("Retired: nobody but editors sees it."),
    }


def _text(form: FormData, name: str) -> str:
    return str(form.get(name) or "").replace("\x00", "").strip()


def _typed(form: FormData) -> dict[str, Any]:
    """What the editor sent, to show again; the body keeps its own spacing."""
    return {
        "id": _text(form, "id"),
        "key": _text(form, "key"),
        "language": _text(form, "language"),
        "category_key": _text(form, "category_key"),
        "status": _text(form, "status") or ArticleStatus.DRAFT.value,
        "title": _text(form, "title"),
        "slug": _text(form, "slug"),
        "summary": _text(form, "summary"),
        "body_markdown": str(form.get("body_markdown") or "").replace("\x00", ""),
        "expected_version": _text(form, "expected_version"),
    }


def _fields(typed: dict[str, Any]) -> kb.ArticleFields:
    title = typed["title"]
    return kb.ArticleFields(
        category_key=typed["category_key"],
        language=typed["language"],
        # A new translation group by default, named by the title's words (the service makes
        # the slug from the title the same way when it is left empty).
        key=typed["key"] or slugify(title),
        slug=typed["slug"],
        title=title,
        summary=typed["summary"],
        body_markdown=typed["body_markdown"],
        status=typed["status"],
    )


def _stored(article: kb.ArticleView) -> dict[str, Any]:
    return {
        "id": str(article.id),
        "key": article.key,
        "language": article.language,
        "category_key": article.category_key,
        "status": article.status,
        "title": article.title,
        "slug": article.slug,
        "summary": article.summary,
        "body_markdown": article.body_markdown,
        "expected_version": str(article.version),
    }


def _category_name(category: kb.CategoryView, language: str) -> str:
    text = category.texts.get(language) or category.texts.get("en")
    if text is None and category.texts:
        text = next(iter(category.texts.values()))
    return text.name if text is not None else category.key


def _admin_page(
    request: Request,
    runtime: RuntimeDep,
    signed: Viewer,
    template: str,
    *,
    status_code: int = 200,
    **context: Any,
) -> Response:
    language = _language(request, runtime)
    return _page(
        request,
        runtime,
        template,
        status_code=status_code,
        **_common(signed, SECTION, language),
        **context,
    )


# The list ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    language: str
    status: str
    category: str
    query: str

    def url(self) -> str:
        params = {
            "language": self.language,
            "status": self.status,
            "category": self.category,
            "q": self.query,
        }
        kept = {name: value for name, value in params.items() if value}
        return ARTICLES + (f"?{urlencode(kept)}" if kept else "")

    @property
    def active(self) -> bool:
        return bool(self.language or self.status or self.category or self.query)


def _filters(request: Request, runtime: RuntimeDep) -> Filters:
    params = request.query_params
    language = params.get("language", "")
    status = params.get("status", "")
    category = params.get("category", "")
    return Filters(
        language=language if language in runtime.settings.languages else "",
        status=status if status in {item.value for item in ArticleStatus} else "",
        category=category if is_key(category) else "",
        query=" ".join(params.get("q", "").replace("\x00", "").split())[:MAX_QUERY_LENGTH],
    )


@router.get("/articles")
async def articles_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    language = _language(request, runtime)
    filters = _filters(request, runtime)
    try:
        categories = await kb.list_categories_for_editor(uow, actor=signed.actor)
        articles = await kb.list_articles(
            uow,
            actor=signed.actor,
            language=filters.language or None,
            status=filters.status or None,
            category_key=filters.category or None,
            query=filters.query or None,
        )
    except PermissionDenied:
        return _forbidden(request, runtime, signed)
    category_names = {item.key: _category_name(item, language) for item in categories}
    return _admin_page(
        request,
        runtime,
        signed,
        "console/admin/articles.html",
        filters=filters,
        articles=articles,
        category_names=category_names,
        status_labels=_status_labels(language),
        languages_supported=[
            (code, language_name(code, in_language=language)) for code in runtime.settings.languages
        ],
        public_url=kb.article_url,
        saved=request.query_params.get("saved") == "1",
    )


# Writing and editing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ConflictView:
    """The version saved meanwhile, shown beside what the editor typed."""

    current: kb.ArticleView
    saved_by: str | None
    started_from: str


async def _editor(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    article: kb.ArticleView | None,
    form: dict[str, Any],
    preview_html: str | None = None,
    error: FormError | None = None,
    conflict: ConflictView | None = None,
    status_code: int = 200,
) -> Response:
    """The article form: a new article when `article` is None."""
    language = _language(request, runtime)
    actor = signed.actor
    try:
        categories = await kb.list_categories_for_editor(uow, actor=actor)
        feedback = (
            await kb.list_feedback(uow, actor=actor, article_id=article.id, limit=FEEDBACK_SHOWN)
            if article is not None
            else []
        )
    except PermissionDenied:
        return _forbidden(request, runtime, signed)
    supported = runtime.settings.languages
    translation_links: list[tuple[str, str, str, bool]] = []
    if article is not None:
        for code in supported:
            if code == article.language:
                continue
            translated = article.translation_ids.get(code)
            if translated is not None:
                href = f"{ARTICLES}/{translated}"
            else:
                href = f"{ARTICLES}/new?{urlencode({'from': article.id, 'language': code})}"
            translation_links.append(
                (code, language_name(code, in_language=language), href, translated is not None)
            )
    public_href = (
        kb.article_url(
            language=article.language, category_key=article.category_key, slug=article.slug
        )
        if article is not None and article.status == ArticleStatus.PUBLISHED.value
        else None
    )
    return _admin_page(
        request,
        runtime,
        signed,
        "console/admin/article_edit.html",
        status_code=status_code,
        article=article,
        form=form,
        preview_html=preview_html
        if preview_html is not None
        else (article.body_html if article is not None and error is None else None),
        previewing=preview_html is not None,
        error=error,
        conflict=conflict,
        categories=[(item.key, _category_name(item, language)) for item in categories],
        status_labels=_status_labels(language),
        status_hints=_status_hints(language),
        languages_supported=[
            (code, language_name(code, in_language=language)) for code in supported
        ],
        translation_links=translation_links,
        public_href=public_href,
        feedback=feedback,
        saved=request.query_params.get("saved") == "1" and error is None,
    )


@router.get("/articles/new")
async def new_article_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    """A new article; `?from=<id>&language=pl` starts its translation: the same key and
    category, and the original's text to translate."""
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    if not signed.actor.can(Permission.KB_MANAGE):
        return _forbidden(request, runtime, signed)
    params = request.query_params
    language = params.get("language", "")
    form: dict[str, Any] = {
        "id": "",
        "language": language if language in runtime.settings.languages else "",
        "status": ArticleStatus.DRAFT.value,
        "category_key": params.get("category", ""),
    }
    source = params.get("from", "")
    if source.isdigit():
        try:
            original = await kb.get_article_for_agent(
                uow, actor=signed.actor, article_id=int(source)
            )
        except (NotFound, PermissionDenied):
            original = None
        if original is not None:
            form.update(
                key=original.key,
                category_key=original.category_key,
                title=original.title,
                summary=original.summary,
                body_markdown=original.body_markdown,
                translating_from=language_name(
                    original.language, in_language=_language(request, runtime)
                ),
            )
    return await _editor(request, runtime, uow, signed, article=None, form=form)


@router.get("/articles/{article_id}")
async def edit_article_page(
    article_id: IdPath, request: Request, runtime: RuntimeDep, uow: ReadUowDep
) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    if not signed.actor.can(Permission.KB_MANAGE):
        return _forbidden(request, runtime, signed)
    try:
        article = await kb.get_article_for_agent(uow, actor=signed.actor, article_id=article_id)
    except NotFound:
        return RedirectResponse(ARTICLES, status_code=303)
    return await _editor(request, runtime, uow, signed, article=article, form=_stored(article))


async def _save(
    request: Request, runtime: RuntimeDep, uow: UnitOfWork, *, article_id: int | None
) -> Response:
    """Both forms of the editor (new and existing article): the CSRF token, then a preview
    (nothing stored) or one service call, then the article's page again."""
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    if not signed.actor.can(Permission.KB_MANAGE):
        # The services refuse it too; this only spares showing the editor to say so.
        return _forbidden(request, runtime, signed)
    language = _language(request, runtime)
    _ = translations(language).gettext
    posted = await request.form()
    typed = _typed(posted)
    actor = signed.actor

    async def current() -> kb.ArticleView | None:
        if article_id is None:
            return None
        try:
            return await kb.get_article_for_agent(uow, actor=actor, article_id=article_id)
        except NotFound:
            return None

    if not csrf_valid(
        request,
        submitted=str(posted.get("csrf_token") or ""),
        secret_key=runtime.settings.secret_key,
    ):
        expired = FormError(
            form=FORM, field=None, message=_("Your session expired. Please try again.")
        )
        return await _editor(
            request,
            runtime,
            uow,
            signed,
            article=await current(),
            form=typed,
            error=expired,
            status_code=403,
        )
    if _text(posted, "intent") == PREVIEW:
        try:
            html = await kb.preview_markdown(
                uow,
                actor=actor,
                language=typed["language"] or language,
                body_markdown=typed["body_markdown"],
            )
        except PermissionDenied:
            return _forbidden(request, runtime, signed)
        except DomainError as exc:
            return await _editor(
                request,
                runtime,
                uow,
                signed,
                article=await current(),
                form=typed,
                error=_error_of(exc, form=FORM, language=language),
                status_code=_status_of(exc),
            )
        return await _editor(
            request, runtime, uow, signed, article=await current(), form=typed, preview_html=html
        )
    languages = runtime.policies.players.languages
    try:
        if article_id is None:
            saved = await kb.create_article(
                uow, actor=actor, fields=_fields(typed), languages=languages
            )
        else:
            expected = typed["expected_version"]
            saved = await kb.update_article(
                uow,
                actor=actor,
                article_id=article_id,
                fields=_fields(typed),
                expected_version=int(expected) if expected.isdigit() else 0,
                languages=languages,
            )
    except PermissionDenied:
        await uow.session.rollback()
        return _forbidden(request, runtime, signed)
    except DomainError as exc:
        # The refused use case rolled back; the page is read afresh.
        await uow.session.rollback()
        article = await current()
        if article is None and article_id is not None:
            return RedirectResponse(ARTICLES, status_code=303)
        conflict = None
        if isinstance(exc, Conflict) and exc.field == "version" and article is not None:
            conflict = await _conflict(uow, signed, article, started_from=typed["expected_version"])
            # Saving again now replaces the version shown, deliberately.
            typed["expected_version"] = str(article.version)
        return await _editor(
            request,
            runtime,
            uow,
            signed,
            article=article,
            form=typed,
            error=_error_of(exc, form=FORM, language=language),
            conflict=conflict,
            status_code=_status_of(exc),
        )
    return RedirectResponse(f"{ARTICLES}/{saved.id}?saved=1", status_code=303)


async def _conflict(
    uow: UnitOfWork, signed: Viewer, article: kb.ArticleView, *, started_from: str
) -> ConflictView:
    saved_by = None
    try:
        versions = await kb.article_versions(uow, actor=signed.actor, article_id=article.id)
    except DomainError:
        versions = []
    if versions:
        saved_by = versions[0].author_name
    return ConflictView(current=article, saved_by=saved_by, started_from=started_from or "?")


@router.post("/articles")
async def create_article(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    return await _save(request, runtime, uow, article_id=None)


@router.post("/articles/{article_id}")
async def update_article(
    article_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    return await _save(request, runtime, uow, article_id=article_id)


# Versions ----------------------------------------------------------------------------------------


@router.get("/articles/{article_id}/versions")
async def versions_page(
    article_id: IdPath, request: Request, runtime: RuntimeDep, uow: ReadUowDep
) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    language = _language(request, runtime)
    try:
        article = await kb.get_article_for_agent(uow, actor=signed.actor, article_id=article_id)
        versions = await kb.article_versions(uow, actor=signed.actor, article_id=article_id)
    except PermissionDenied:
        return _forbidden(request, runtime, signed)
    except NotFound:
        return RedirectResponse(ARTICLES, status_code=303)
    return _admin_page(
        request,
        runtime,
        signed,
        "console/admin/article_versions.html",
        article=article,
        versions=versions,
        status_labels=_status_labels(language),
    )
