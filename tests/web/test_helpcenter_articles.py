"""The help centre's knowledge base over HTTP: pages in three languages, search, what players
must never see, 404s, and the "was this helpful?" feedback with its guards."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import KbArticle, KbFeedback
from playerdesk.runtime import Runtime
from playerdesk.web.helpcenter import articles
from tests.conftest import QueryCounter
from tests.kb_articles import HOSTILE_TITLE, Seeded, seed_articles

FEEDBACK_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
EN_ARTICLE = "/help/en/withdrawals/how-long-does-a-withdrawal-take"
PL_ARTICLE = "/help/pl/withdrawals/ile-trwa-wyplata"
SV_ARTICLE = "/help/sv/withdrawals/hur-lang-tid-tar-ett-uttag"


@pytest.fixture
async def seeded(runtime: Runtime) -> Seeded:
    return await seed_articles(runtime)


def hit_titles(page: httpx.Response) -> list[str]:
    """The titles of the search results, in order, as a reader sees them."""
    found = re.findall(
        r'<li data-testid="search-hit"[^>]*>\s*<h3 class="article-list-title"><a href="[^"]+">'
        r"(.*?)</a>",
        page.text,
        flags=re.S,
    )
    return [html.unescape(title) for title in found]


def feedback_token(page: httpx.Response) -> str:
    found = FEEDBACK_TOKEN.search(page.text)
    assert found, "the article has no feedback form"
    return found.group(1)


async def feedback_rows(runtime: Runtime) -> list[KbFeedback]:
    async with runtime.uow() as uow:
        return list((await uow.session.scalars(select(KbFeedback).order_by(KbFeedback.id))).all())


async def counts(runtime: Runtime, article_id: int) -> tuple[int, int]:
    async with runtime.uow() as uow:
        article = await uow.session.get_one(KbArticle, article_id)
        return article.helpful_count, article.not_helpful_count


# Home, categories, articles ------------------------------------------------------------------


async def test_the_home_page_lists_topics_and_support_channels(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await client.get("/help/en")

    assert page.status_code == 200
    text = page.text
    assert '<html lang="en">' in text
    assert "How can we help?" in text
    assert 'href="/help/en/withdrawals"' in text and ">Withdrawals</a>" in text
    assert "2 articles" in text  # published only: the internal one and the draft do not count
    assert 'action="/help/en/search"' in text and 'role="search"' in text
    # The channels with their hours and promises, from the shipped SLA defaults.
    assert 'data-testid="channel-chat"' in text and "Every day, around the clock" in text
    assert "We usually answer within 5 minutes." in text
    assert "We answer within 2 hours." in text
    assert 'href="mailto:support@playerdesk.localhost"' in text
    # Without script the chat cannot open, so its button waits, invisible, for the widget.
    assert 'data-start-chat data-waiting data-testid="start-chat"' in text
    assert 'href="/help/contact?lang=en"' in text
    # Cacheable, with our own policy (the chat widget connects back to this site only).
    assert page.headers["cache-control"] == "public, max-age=300"
    assert page.headers["content-language"] == "en"
    assert "connect-src 'self'" in page.headers["content-security-policy"]
    assert "set-cookie" not in page.headers
    # Landmarks and a way past the header.
    assert 'class="skip-link" href="#main"' in text and '<main id="main"' in text
    assert 'hreflang="pl" href="/help/pl"' in text


@pytest.mark.parametrize(
    ("language", "topic", "lang_attr"),
    [("pl", "Wypłaty", "pl"), ("sv", "Uttag", "sv")],
)
async def test_the_home_page_in_polish_and_swedish(
    client: httpx.AsyncClient, seeded: Seeded, language: str, topic: str, lang_attr: str
) -> None:
    page = await client.get(f"/help/{language}")

    assert page.status_code == 200
    assert f'<html lang="{lang_attr}">' in page.text
    assert f">{topic}</a>" in page.text
    assert f'href="/help/{language}/withdrawals"' in page.text


async def test_help_chooses_the_language_by_query_cookie_then_browser(
    client: httpx.AsyncClient,
) -> None:
    by_browser = await client.get("/help", headers={"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"})
    by_cookie = await client.get("/help", headers={"Accept-Language": "sv", "Cookie": "pd_lang=pl"})
    by_query = await client.get(
        "/help?lang=en", headers={"Accept-Language": "sv", "Cookie": "pd_lang=pl"}
    )
    searching = await client.get("/help?q=wypłata&lang=pl")

    assert by_browser.status_code == 307 and by_browser.headers["location"] == "/help/sv"
    assert by_cookie.headers["location"] == "/help/pl"
    assert by_query.headers["location"] == "/help/en"
    assert searching.headers["location"] == "/help/pl/search?q=wyp%C5%82ata"
    assert by_browser.headers["cache-control"] == "no-store"
    assert "Accept-Language" in by_browser.headers["vary"]


async def test_a_category_lists_its_published_articles_only(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await client.get("/help/en/withdrawals")

    assert page.status_code == 200
    assert "<h1>Withdrawals</h1>" in page.text
    assert "How long does a withdrawal take?" in page.text
    assert "Why is my withdrawal pending?" in page.text
    assert "Handling chargeback threats" not in page.text  # internal
    assert "Withdrawal limits (draft)" not in page.text
    # The way to an agent, with the contact form's topic already chosen.
    assert 'href="/help/contact?lang=en&amp;topic=withdrawals"' in page.text
    assert 'aria-label="Breadcrumb"' in page.text


@pytest.mark.parametrize(
    ("path", "title", "body_text", "language"),
    [
        (EN_ARTICLE, "How long does a withdrawal take?", "business days", "en"),
        (PL_ARTICLE, "Ile trwa wypłata?", "dni roboczych", "pl"),
        (SV_ARTICLE, "Hur lång tid tar ett uttag?", "bankdagar", "sv"),
    ],
)
async def test_an_article_in_each_language(
    client: httpx.AsyncClient,
    seeded: Seeded,
    path: str,
    title: str,
    body_text: str,
    language: str,
) -> None:
    page = await client.get(path)

    assert page.status_code == 200, page.text
    assert f'<html lang="{language}">' in page.text
    assert f'<h1 id="article-title" data-testid="article-title">{title}</h1>' in page.text
    assert body_text in page.text
    assert "<h2>" in page.text  # the Markdown's headings, rendered
    assert f'<link rel="canonical" href="{path}">' in page.text
    # Its translations, in the switcher and as alternates.
    for other in {EN_ARTICLE, PL_ARTICLE, SV_ARTICLE} - {path}:
        assert f'href="{other}"' in page.text
    assert 'data-testid="feedback-form"' in page.text
    assert page.headers["cache-control"] == "public, max-age=300"


async def test_the_switcher_falls_back_to_the_topic_where_there_is_no_translation(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await client.get("/help/en/withdrawals/why-is-my-withdrawal-pending")

    assert 'href="/help/pl/withdrawals/dlaczego-wyplata-oczekuje"' in page.text
    assert 'href="/help/sv/withdrawals" lang="sv"' in page.text  # no Swedish translation


async def test_an_article_linked_under_another_category_redirects_to_its_address(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get("/help/en/bonuses/how-long-does-a-withdrawal-take")

    assert response.status_code == 301
    assert response.headers["location"] == EN_ARTICLE


# What players never see, and pages that do not exist ---------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/help/en/withdrawals/handling-chargeback-threats",  # internal
        "/help/en/withdrawals/withdrawal-limits",  # draft
        "/help/de",  # a language we do not have
        "/help/de/withdrawals",
        "/help/en/no-such-topic",
        "/help/en/withdrawals/no-such-article",
        "/help/pl/withdrawals/how-long-does-a-withdrawal-take",  # an English slug in Polish
        "/help/en/withdrawals/how-long-does-a-withdrawal-take/more/deeper",
        "/help/en/%00",  # what PostgreSQL text cannot hold is never looked up
        "/help/en/withdrawals/%00x",
        "/help/en/" + "x" * 5000,
        "/help/%C5%BC%C3%B3%C5%82w",
    ],
)
async def test_what_does_not_exist_publicly_is_a_help_centre_404(
    client: httpx.AsyncClient, seeded: Seeded, path: str
) -> None:
    page = await client.get(path, headers={"Accept-Language": "en"})

    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert 'data-testid="not-found"' in page.text
    assert "/static/helpcenter.css" in page.text
    language = path.split("/")[2] if path.split("/")[2] in ("en", "pl", "sv") else "en"
    assert f'action="/help/{language}/search"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "chargeback" not in page.text.lower()


async def test_a_404_in_a_language_we_have_speaks_it(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = await client.get("/help/sv/withdrawals/finns-inte", headers={"Accept-Language": "en"})

    assert page.status_code == 404
    assert '<html lang="sv">' in page.text


async def test_internal_articles_never_appear_publicly(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    pages = [
        await client.get("/help/en"),
        await client.get("/help/en/withdrawals"),
        await client.get(EN_ARTICLE),  # related articles
        await client.get("/help/en/search?q=chargeback+threats"),
        await client.get("/help/en/search?q=withdrawal"),
    ]

    for page in pages:
        assert page.status_code == 200
        assert "Handling chargeback threats" not in page.text
        assert "handling-chargeback-threats" not in page.text
        assert "Never promise a refund" not in page.text
    assert "No articles found for “chargeback threats”" in pages[3].text


# Search -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "query", "expected"),
    [
        ("en", "withdrawal", "How long does a withdrawal take?"),
        ("en", "Withdrawals pending", "Why is my withdrawal pending?"),
        # Without the Polish letters, as players often type on a phone.
        ("pl", "wyplata", "Ile trwa wypłata?"),
        ("pl", "ile trwa wyplate", "Ile trwa wypłata?"),
        ("pl", "WYPŁATY", "Ile trwa wypłata?"),
        # Without the Swedish ones, and another form of the word.
        ("sv", "uttag", "Hur lång tid tar ett uttag?"),
        ("sv", "sparr", "Hur lång tid tar ett uttag?"),
        ("sv", "Uttaget", "Hur lång tid tar ett uttag?"),
    ],
)
async def test_search_in_each_language(
    client: httpx.AsyncClient, seeded: Seeded, language: str, query: str, expected: str
) -> None:
    page = await client.get(f"/help/{language}/search", params={"q": query})

    assert page.status_code == 200
    titles = hit_titles(page)
    assert titles and titles[0] == expected, titles
    assert f'<html lang="{language}">' in page.text
    # A page of someone's words is not for a shared cache.
    assert page.headers["cache-control"] == "no-store"


async def test_search_stays_in_the_page_language(client: httpx.AsyncClient, seeded: Seeded) -> None:
    swedish = await client.get("/help/sv/search", params={"q": "withdrawal"})
    english = await client.get("/help/en/search", params={"q": "wyplata"})

    assert hit_titles(swedish) == []
    assert hit_titles(english) == []
    assert 'data-testid="no-results"' in english.text
    assert 'href="/help/en/withdrawals"' in english.text  # the topics, to browse instead


async def test_an_empty_or_odd_search_shows_the_form(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    empty = await client.get("/help/en/search")
    punctuation = await client.get("/help/en/search", params={"q": "%%% ***"})
    long = await client.get("/help/en/search", params={"q": "withdrawal " * 100})

    assert empty.status_code == 200 and 'data-testid="kb-search-input"' in empty.text
    assert punctuation.status_code == 200 and hit_titles(punctuation) == []
    assert long.status_code == 200


async def test_a_hostile_title_and_body_are_escaped_everywhere(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    article = await client.get("/help/en/bonuses/bonus-terms")
    category = await client.get("/help/en/bonuses")
    search = await client.get("/help/en/search", params={"q": "bonus terms"})

    for page in (article, category, search):
        assert page.status_code == 200
        assert "<script>alert" not in page.text
        assert str(escape(HOSTILE_TITLE)) in page.text
    body = article.text.split('data-testid="article-body">', 1)[1].split("</div>", 1)[0]
    assert "<script" not in body
    assert "onerror" not in body
    assert 'href="javascript:' not in body
    assert "Wagering is 35x." in body
    # The summary is text, not markup, in the page description too.
    assert 'content="Wagering &lt;b&gt;rules&lt;/b&gt; &amp; &#34;limits&#34;."' in article.text
    assert HOSTILE_TITLE in hit_titles(search)


# Feedback ---------------------------------------------------------------------------------


async def test_feedback_is_stored_and_thanked(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, seeded: Seeded
) -> None:
    page = await client.get(PL_ARTICLE)
    clock.advance(timedelta(seconds=40))

    response = await client.post(
        f"{PL_ARTICLE}/feedback",
        data={
            "form_token": feedback_token(page),
            "website": "",
            "helpful": "no",
            "comment": "  Brakuje informacji o BLIK.  ",
        },
    )

    assert response.status_code == 303
    location = urlsplit(response.headers["location"])
    assert location.path == PL_ARTICLE and parse_qs(location.query) == {"feedback": ["no"]}
    [row] = await feedback_rows(runtime)
    assert (row.article_id, row.helpful, row.comment, row.language) == (
        seeded.id("withdrawal-times", "pl"),
        False,
        "Brakuje informacji o BLIK.",
        "pl",
    )
    assert await counts(runtime, seeded.id("withdrawal-times", "pl")) == (0, 1)
    thanks = await client.get(response.headers["location"])
    assert 'data-testid="feedback-thanks"' in thanks.text
    assert 'data-testid="feedback-form"' not in thanks.text
    assert 'href="/help/contact?lang=pl&amp;topic=withdrawals"' in thanks.text
    assert thanks.headers["cache-control"] == "no-store"


async def test_a_yes_without_a_comment(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, seeded: Seeded
) -> None:
    page = await client.get(EN_ARTICLE)
    clock.advance(timedelta(seconds=5))

    response = await client.post(
        f"{EN_ARTICLE}/feedback", data={"form_token": feedback_token(page), "helpful": "yes"}
    )

    assert response.status_code == 303
    [row] = await feedback_rows(runtime)
    assert (row.helpful, row.comment) == (True, None)
    assert await counts(runtime, seeded.id("withdrawal-times")) == (1, 0)


@pytest.mark.parametrize(
    ("fields", "headers", "status"),
    [
        ({"helpful": "yes"}, {}, 400),  # no token: not from our page
        ({"helpful": "yes", "form_token": "forged.token"}, {}, 400),
        ({"helpful": "yes", "form_token": "<pending-article>"}, {}, 400),  # another article's
        ({"helpful": "maybe", "form_token": "<token>"}, {}, 422),
        ({"helpful": "no", "form_token": "<token>", "comment": "x" * 1001}, {}, 422),
        ({"helpful": "yes", "form_token": "<token>"}, {"Sec-Fetch-Site": "cross-site"}, 403),
    ],
)
async def test_feedback_that_is_not_a_readers_answer_is_not_stored(
    client: httpx.AsyncClient,
    runtime: Runtime,
    clock: FrozenClock,
    seeded: Seeded,
    fields: dict[str, str],
    headers: dict[str, str],
    status: int,
) -> None:
    page = await client.get(EN_ARTICLE)
    other = await client.get("/help/en/withdrawals/why-is-my-withdrawal-pending")
    clock.advance(timedelta(seconds=30))
    replacements = {"<token>": feedback_token(page), "<pending-article>": feedback_token(other)}
    data = {name: replacements.get(value, value) for name, value in fields.items()}

    response = await client.post(f"{EN_ARTICLE}/feedback", data=data, headers=headers)

    assert response.status_code == status
    assert 'data-testid="feedback-alert"' in response.text
    assert 'data-testid="article-title"' in response.text  # the article, not an error page
    assert await feedback_rows(runtime) == []
    assert await counts(runtime, seeded.id("withdrawal-times")) == (0, 0)
    if "comment" in data and status == 422:
        assert "x" * 1001 in response.text  # what was typed is kept


async def test_a_bot_is_thanked_but_not_counted(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, seeded: Seeded
) -> None:
    page = await client.get(EN_ARTICLE)
    token = feedback_token(page)

    too_fast = await client.post(
        f"{EN_ARTICLE}/feedback", data={"form_token": token, "helpful": "no"}
    )
    clock.advance(timedelta(seconds=30))
    honeypot = await client.post(
        f"{EN_ARTICLE}/feedback",
        data={"form_token": token, "helpful": "no", "website": "http://spam.example"},
    )

    assert too_fast.status_code == honeypot.status_code == 303
    assert await feedback_rows(runtime) == []


async def test_feedback_is_rate_limited_per_address(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, seeded: Seeded
) -> None:
    page = await client.get(EN_ARTICLE)
    clock.advance(timedelta(seconds=30))
    data = {"form_token": feedback_token(page), "helpful": "yes"}

    answers = [
        (await client.post(f"{EN_ARTICLE}/feedback", data=data)).status_code
        for _ in range(articles.FEEDBACK_PER_ARTICLE + 1)
    ]

    assert answers == [303] * articles.FEEDBACK_PER_ARTICLE + [429]
    assert len(await feedback_rows(runtime)) == articles.FEEDBACK_PER_ARTICLE
    # Another article from the same address still counts, and the window moves on.
    other = await client.get("/help/en/withdrawals/why-is-my-withdrawal-pending")
    clock.advance(timedelta(seconds=30))
    accepted = await client.post(
        "/help/en/withdrawals/why-is-my-withdrawal-pending/feedback",
        data={"form_token": feedback_token(other), "helpful": "yes"},
    )
    assert accepted.status_code == 303
    clock.advance(articles.FEEDBACK_WINDOW)
    fresh = await client.get(EN_ARTICLE)
    clock.advance(timedelta(seconds=30))
    again = await client.post(
        f"{EN_ARTICLE}/feedback", data={"form_token": feedback_token(fresh), "helpful": "no"}
    )
    assert again.status_code == 303


async def test_feedback_on_an_internal_article_is_a_404(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, seeded: Seeded
) -> None:
    token = articles.issue_feedback_token(
        article_id=seeded.id("chargeback-threats"),
        now=clock.now(),
        secret=runtime.settings.secret_key,
    )
    clock.advance(timedelta(seconds=30))

    response = await client.post(
        "/help/en/withdrawals/handling-chargeback-threats/feedback",
        data={"form_token": token, "helpful": "yes"},
    )

    assert response.status_code == 404
    assert await feedback_rows(runtime) == []


# Speed ------------------------------------------------------------------------------------


async def test_pages_cost_a_few_queries(
    client: httpx.AsyncClient, seeded: Seeded, count_queries: QueryCounter
) -> None:
    await client.get("/help/en")  # the floor configuration is cached after the first page
    measured: dict[str, int] = {}
    for path in ("/help/en", "/help/en/withdrawals", "/help/en/search?q=withdrawal", EN_ARTICLE):
        count_queries.reset()
        assert (await client.get(path)).status_code == 200
        measured[path] = count_queries.count
    assert measured == {
        "/help/en": 1,  # the categories with their counts
        "/help/en/withdrawals": 2,  # the category, its articles
        "/help/en/search?q=withdrawal": 2,  # the search, the category names
        # The article, its category and name, its translations, related articles: the
        # service's one call (kb.get_published_article).
        EN_ARTICLE: 5,
    }


def test_the_feedback_limiter_forgets_the_oldest_addresses() -> None:
    limiter = articles.FeedbackLimiter(max_addresses=2)
    now = FrozenClock(articles.datetime(2026, 1, 1, tzinfo=articles.UTC)).now()

    for address in ("a", "b", "c"):
        assert limiter.allow(address=address, article_id=1, now=now)

    assert list(limiter._seen) == ["b", "c"]


async def test_every_feedback_table_row_is_counted_on_the_article(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, seeded: Seeded
) -> None:
    """The counters on the article and the rows agree (the editors' page shows both)."""
    for answer in ("yes", "no", "yes"):
        page = await client.get(SV_ARTICLE)
        clock.advance(timedelta(seconds=10))
        response = await client.post(
            f"{SV_ARTICLE}/feedback", data={"form_token": feedback_token(page), "helpful": answer}
        )
        assert response.status_code == 303
    async with runtime.uow() as uow:
        rows = await uow.session.scalar(select(func.count()).select_from(KbFeedback))
    assert rows == 3
    assert await counts(runtime, seeded.id("withdrawal-times", "sv")) == (2, 1)
