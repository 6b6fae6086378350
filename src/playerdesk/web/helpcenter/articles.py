"""The public help centre's knowledge base: home, categories, articles, search and the "was
this helpful?" feedback.

The language comes from the path (`/help/{lang}/...`); `/help` itself chooses one (see
routes.help_home). Pages are plain HTML that work without JavaScript; the only script is the
chat widget, which makes the live-chat channel real. Article bodies come sanitised from the
service and are the one thing rendered unescaped.

Each page costs one or two service calls and is cacheable for a few minutes by browsers and
shared caches: nothing on it depends on who asks (the feedback form's token only says when
the page was rendered, as the contact form's does).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

import structlog
from babel.dates import format_date
from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import AuthenticationFailed, DomainError, NotFound
from playerdesk.domain.kb import (
    MAX_FEEDBACK_COMMENT_LENGTH,
    MAX_QUERY_LENGTH,
    MAX_SLUG_LENGTH,
    is_key,
)
from playerdesk.domain.tokens import sign, verify
from playerdesk.i18n import language_name, translations
from playerdesk.runtime import Runtime
from playerdesk.services import kb
from playerdesk.services.forms import ContactTopic, rate_limit_key
from playerdesk.settings import Settings
from playerdesk.web.console.rendering import render, request_language
from playerdesk.web.deps import Admitted, ReadUowDep, RuntimeDep, UowDep, client_ip
from playerdesk.web.helpcenter.guard import HONEYPOT_FIELD, Verdict
from playerdesk.web.helpcenter.support import support_channels

log = structlog.get_logger(__name__)

PREFIX = "/help"
router = APIRouter(prefix=PREFIX, include_in_schema=False, dependencies=[Admitted])

# Browsers and shared caches may keep a page for five minutes: an edited article shows
# within that, and a busy help centre serves most views without touching the database.
PUBLIC_CACHE = "public, max-age=300"
# The forms' policy, plus the chat widget's connection back to this site.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
SEARCH_LIMIT = 20

FEEDBACK_TOKEN_PURPOSE = "helpcenter-article-feedback"
# A page may come from a cache, and a player may read a long article slowly.
FEEDBACK_TOKEN_TTL = timedelta(hours=12)
# Nobody opens an article and answers "was this helpful?" within a second.
FEEDBACK_MIN_TIME = timedelta(seconds=1)
# Votes per address in the window, over all articles and on one article: enough for a
# family or an office behind one address, too few to move an article's score.
FEEDBACK_WINDOW = timedelta(hours=1)
FEEDBACK_PER_ADDRESS = 30
FEEDBACK_PER_ARTICLE = 3

# The contact form's topic for an article's category, for the "still need help?" link.
CATEGORY_TOPICS: dict[str, ContactTopic] = {
    "account": ContactTopic.ACCOUNT,
    "deposits": ContactTopic.DEPOSITS,
    "withdrawals": ContactTopic.WITHDRAWALS,
    "verification": ContactTopic.VERIFICATION,
    "bonuses": ContactTopic.BONUSES,
    "responsible-gambling": ContactTopic.RESPONSIBLE_GAMBLING,
    "complaints": ContactTopic.COMPLAINT,
    "technical": ContactTopic.TECHNICAL,
}

HELPFUL_ANSWERS = {"yes": True, "no": False}


# URLs -------------------------------------------------------------------------------------


def home_url(language: str) -> str:
    return f"{PREFIX}/{language}"


def category_url(language: str, category_key: str) -> str:
    return f"{PREFIX}/{language}/{category_key}"


def search_url(language: str, query: str = "") -> str:
    return f"{PREFIX}/{language}/search" + (f"?{urlencode({'q': query})}" if query else "")


def contact_url(language: str, category_key: str | None = None) -> str:
    params = {"lang": language}
    topic = CATEGORY_TOPICS.get(category_key or "")
    if topic is not None:
        params["topic"] = topic.value
    return f"{PREFIX}/contact?{urlencode(params)}"


def _article_url(language: str, category_key: str, slug: str) -> str:
    return kb.article_url(language=language, category_key=category_key, slug=slug)


# The feedback form's guard ------------------------------------------------------------------


def issue_feedback_token(*, article_id: int, now: datetime, secret: str) -> str:
    return sign(
        {"article": article_id, "rendered_ms": int(now.timestamp() * 1000)},
        secret=secret,
        purpose=FEEDBACK_TOKEN_PURPOSE,
        expires_at=now + FEEDBACK_TOKEN_TTL,
    )


def judge_feedback(
    *, article_id: int, token: str, honeypot: str, now: datetime, secret: str
) -> Verdict:
    """As guard.judge_submission for the contact form: a token from a page we served for
    this article, not answered faster than a person could, and the honeypot left empty."""
    if honeypot.strip():
        return Verdict.BOT
    try:
        payload = verify(token, secret=secret, purpose=FEEDBACK_TOKEN_PURPOSE, now=now)
    except AuthenticationFailed:
        return Verdict.STALE
    rendered_ms = payload.get("rendered_ms")
    if payload.get("article") != article_id or not isinstance(rendered_ms, int):
        return Verdict.STALE
    if now - datetime.fromtimestamp(rendered_ms / 1000, tz=UTC) < FEEDBACK_MIN_TIME:
        return Verdict.BOT
    return Verdict.PERSON


@dataclass
class FeedbackLimiter:
    """Votes per client address in a sliding window, kept in this process (a limit of this
    kind can live with each of several processes counting its own share). At most
    `max_addresses` addresses are remembered; the least recently seen are forgotten first."""

    per_address: int = FEEDBACK_PER_ADDRESS
    per_article: int = FEEDBACK_PER_ARTICLE
    window: timedelta = FEEDBACK_WINDOW
    max_addresses: int = 50_000
    _seen: OrderedDict[str, deque[tuple[float, int]]] = field(default_factory=OrderedDict)

    def allow(self, *, address: str, article_id: int, now: datetime) -> bool:
        moment = now.timestamp()
        votes = self._seen.pop(address, None) or deque()
        while votes and votes[0][0] <= moment - self.window.total_seconds():
            votes.popleft()
        allowed = len(votes) < self.per_address and (
            sum(1 for _at, article in votes if article == article_id) < self.per_article
        )
        if allowed:
            votes.append((moment, article_id))
        self._seen[address] = votes
        while len(self._seen) > self.max_addresses:
            self._seen.popitem(last=False)
        return allowed


def _limiter(request: Request) -> FeedbackLimiter:
    state = request.app.state
    limiter = getattr(state, "kb_feedback_limiter", None)
    if not isinstance(limiter, FeedbackLimiter):
        limiter = FeedbackLimiter()
        state.kb_feedback_limiter = limiter
    return limiter


# Rendering ---------------------------------------------------------------------------------


def _supported(settings: Settings, language: str) -> bool:
    return language in settings.languages


def _language_links(
    settings: Settings, href_for: dict[str, str] | None = None, *, path_for: Any = None
) -> list[tuple[str, str, str]]:
    """(code, name in that language, link) for the switcher."""
    links = []
    for code in settings.languages:
        href = (href_for or {}).get(code) or (path_for(code) if path_for else home_url(code))
        links.append((code, language_name(code, in_language=code), href))
    return links


def _page(
    template: str,
    *,
    settings: Settings,
    language: str,
    language_links: list[tuple[str, str, str]],
    status_code: int = 200,
    cacheable: bool = True,
    **context: Any,
) -> Response:
    response = render(
        template,
        language=language,
        status_code=status_code,
        language_links=language_links,
        home_href=home_url(language),
        search_action=search_url(language),
        contact_href=contact_url(language),
        honeypot_field=HONEYPOT_FIELD,
        max_query_chars=MAX_QUERY_LENGTH,
        **context,
    )
    response.headers["Content-Language"] = language
    response.headers["Content-Security-Policy"] = PAGE_CSP
    response.headers["Cache-Control"] = (
        PUBLIC_CACHE if cacheable and status_code == 200 else "no-store"
    )
    return response


def _not_found(request: Request, settings: Settings, *, language: str | None = None) -> Response:
    """The help centre's own 404: in the path's language when it is one of ours, else in the
    one the browser prefers; with the search box and the way home."""
    if language is None or not _supported(settings, language):
        language = request_language(
            request, supported=settings.languages, default=settings.default_language
        )
    return _page(
        "helpcenter/not_found.html",
        settings=settings,
        language=language,
        language_links=_language_links(settings),
        status_code=404,
        cacheable=False,
        page="not_found",
    )


def _date(value: datetime, *, language: str) -> str:
    return str(format_date(value, "long", locale=language))


# Pages -------------------------------------------------------------------------------------


@router.get("/{lang}")
async def help_centre_home(
    lang: str, request: Request, runtime: RuntimeDep, uow: ReadUowDep
) -> Response:
    settings = runtime.settings
    if not _supported(settings, lang):
        return _not_found(request, settings)
    categories = await kb.list_categories(uow, language=lang)
    support = await support_channels(uow, settings=settings, language=lang)
    return _page(
        "helpcenter/home.html",
        settings=settings,
        language=lang,
        language_links=_language_links(settings),
        page="home",
        categories=[item for item in categories if item.article_count > 0],
        category_url=category_url,
        support=support,
    )


@router.get("/{lang}/search")
async def search_page(
    lang: str, request: Request, runtime: RuntimeDep, uow: ReadUowDep, q: str = ""
) -> Response:
    settings = runtime.settings
    if not _supported(settings, lang):
        return _not_found(request, settings)
    query = " ".join(q.split())[:MAX_QUERY_LENGTH]
    hits: list[kb.ArticleHit] = []
    if query:
        try:
            hits = await kb.search_articles(uow, query=query, language=lang, limit=SEARCH_LIMIT)
        except DomainError as error:
            # A query the index cannot use (only punctuation, say) finds nothing.
            log.info("helpcenter_search_refused", code=error.code)
    categories = await kb.list_categories(uow, language=lang)
    return _page(
        "helpcenter/search.html",
        settings=settings,
        language=lang,
        language_links=_language_links(settings, path_for=lambda code: search_url(code, query)),
        page="search",
        query=query,
        hits=hits,
        category_names={item.key: item.name for item in categories},
        categories=[item for item in categories if item.article_count > 0],
        category_url=category_url,
        article_url=_article_url,
        # A query is the player's words: a results page is not worth a shared cache's room.
        cacheable=not query,
    )


@router.get("/{lang}/{category_key}")
async def category_page(
    lang: str, category_key: str, request: Request, runtime: RuntimeDep, uow: ReadUowDep
) -> Response:
    settings = runtime.settings
    if not _supported(settings, lang):
        return _not_found(request, settings)
    try:
        if not is_key(category_key):
            raise NotFound("no such category", field="category_key")
        listing = await kb.list_category_articles(uow, language=lang, category_key=category_key)
    except NotFound:
        return _not_found(request, settings, language=lang)
    return _page(
        "helpcenter/category.html",
        settings=settings,
        language=lang,
        language_links=_language_links(
            settings, path_for=lambda code: category_url(code, category_key)
        ),
        page="category",
        category=listing.category,
        articles=listing.articles,
        article_url=_article_url,
        contact_topic_href=contact_url(lang, category_key),
    )


async def _article_page(
    request: Request,
    runtime: Runtime,
    article: kb.ArticleView,
    *,
    feedback: str | None = None,
    alert: str | None = None,
    comment: str = "",
    status_code: int = 200,
) -> Response:
    settings = runtime.settings
    language = article.language
    links = {
        code: _article_url(code, article.category_key, slug)
        for code, slug in article.translations.items()
        if _supported(settings, code)
    }
    links[language] = _article_url(language, article.category_key, article.slug)
    return _page(
        "helpcenter/article.html",
        settings=settings,
        language=language,
        language_links=_language_links(
            settings, links, path_for=lambda code: category_url(code, article.category_key)
        ),
        status_code=status_code,
        cacheable=feedback is None and alert is None,
        page="article",
        article=article,
        canonical=_article_url(language, article.category_key, article.slug),
        translations=[
            (code, language_name(code, in_language=code), href)
            for code, href in links.items()
            if code != language
        ],
        updated=_date(article.updated_at, language=language),
        category_href=category_url(language, article.category_key),
        article_url=_article_url,
        feedback=feedback,
        feedback_action=_article_url(language, article.category_key, article.slug) + "/feedback",
        feedback_token=issue_feedback_token(
            article_id=article.id, now=runtime.clock.now(), secret=settings.secret_key
        ),
        alert=alert,
        comment=comment,
        max_comment_chars=MAX_FEEDBACK_COMMENT_LENGTH,
        contact_topic_href=contact_url(language, article.category_key),
    )


async def _published(uow: UnitOfWork, *, language: str, slug: str) -> kb.ArticleView | None:
    # What cannot be a slug (a NUL, a space, a very long path) is not looked up at all.
    if not is_key(slug, max_length=MAX_SLUG_LENGTH):
        return None
    try:
        return await kb.get_published_article(uow, language=language, slug=slug)
    except NotFound:
        return None


@router.get("/{lang}/{category_key}/{slug}")
async def article_page(
    lang: str,
    category_key: str,
    slug: str,
    request: Request,
    runtime: RuntimeDep,
    uow: ReadUowDep,
    feedback: str = "",
) -> Response:
    settings = runtime.settings
    if not _supported(settings, lang):
        return _not_found(request, settings)
    article = await _published(uow, language=lang, slug=slug)
    if article is None:
        return _not_found(request, settings, language=lang)
    if article.category_key != category_key:
        # The article moved to another category: its old links keep working.
        return RedirectResponse(
            _article_url(lang, article.category_key, article.slug), status_code=301
        )
    return await _article_page(
        request, runtime, article, feedback=feedback if feedback in HELPFUL_ANSWERS else None
    )


@router.post("/{lang}/{category_key}/{slug}/feedback")
async def send_feedback(
    lang: str,
    category_key: str,
    slug: str,
    request: Request,
    runtime: RuntimeDep,
    uow: UowDep,
    form_token: Annotated[str, Form()] = "",
    website: Annotated[str, Form()] = "",
    helpful: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
) -> Response:
    """One vote, with an optional comment; then back to the article, which says thank you
    (post/redirect/get: a reload never votes again)."""
    settings = runtime.settings
    if not _supported(settings, lang):
        return _not_found(request, settings)
    article = await _published(uow, language=lang, slug=slug)
    if article is None or article.category_key != category_key:
        return _not_found(request, settings, language=lang)
    _ = translations(lang).gettext
    comment = comment.replace("\x00", "").strip()
    back = _article_url(lang, article.category_key, article.slug)

    if request.headers.get("sec-fetch-site") == "cross-site":
        # Another site's page submitted this form: browsers say so, and nothing is counted.
        log.info("helpcenter_feedback_cross_site", article_id=article.id)
        return await _article_page(
            request,
            runtime,
            article,
            alert=_("Your answer was not saved. Please choose Yes or No again."),
            status_code=403,
        )
    verdict = judge_feedback(
        article_id=article.id,
        token=form_token,
        honeypot=website,
        now=runtime.clock.now(),
        secret=settings.secret_key,
    )
    answer = HELPFUL_ANSWERS.get(helpful)
    if verdict is Verdict.BOT:
        log.info("helpcenter_feedback_bot_dropped", article_id=article.id)
        return RedirectResponse(f"{back}?feedback={helpful or 'yes'}#feedback", status_code=303)
    if verdict is Verdict.STALE:
        return await _article_page(
            request,
            runtime,
            article,
            alert=_(
                "This page was open for a long time, so your answer was not saved yet. "
                "Please choose Yes or No again."
            ),
            comment=comment,
            status_code=400,
        )
    if answer is None:
        return await _article_page(
            request,
            runtime,
            article,
            alert=_("Please choose Yes or No."),
            comment=comment,
            status_code=422,
        )
    if len(comment) > MAX_FEEDBACK_COMMENT_LENGTH:
        return await _article_page(
            request,
            runtime,
            article,
            alert=_("Please shorten your comment to {limit} characters or fewer.").format(
                limit=MAX_FEEDBACK_COMMENT_LENGTH
            ),
            comment=comment,
            status_code=422,
        )
    if not _limiter(request).allow(
        address=rate_limit_key(client_ip(request)), article_id=article.id, now=runtime.clock.now()
    ):
        log.info("helpcenter_feedback_rate_limited", article_id=article.id)
        response = await _article_page(
            request,
            runtime,
            article,
            alert=_("Thank you, we already have your answers. Please try again later."),
            status_code=429,
        )
        response.headers["Retry-After"] = str(int(FEEDBACK_WINDOW.total_seconds()))
        return response
    try:
        await kb.record_feedback(
            uow, article_id=article.id, helpful=answer, comment=comment or None
        )
    except NotFound:
        return _not_found(request, settings, language=lang)
    except DomainError as error:
        log.info("helpcenter_feedback_refused", article_id=article.id, code=error.code)
        return await _article_page(
            request,
            runtime,
            article,
            alert=_("We could not save your answer. Please try again."),
            comment=comment,
            status_code=422,
        )
    return RedirectResponse(f"{back}?feedback={helpful}#feedback", status_code=303)


@router.get("/{lang}/{rest:path}")
async def unknown_page(lang: str, rest: str, request: Request, runtime: RuntimeDep) -> Response:
    """Anything deeper under /help that is not a page: the help centre's 404, never JSON."""
    return _not_found(request, runtime.settings, language=lang)
