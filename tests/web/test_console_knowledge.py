"""The console's knowledge-base pages over HTTP: who may use them, the list and its
filters, writing, previewing and editing an article, a stale save, and versions."""

from __future__ import annotations

import re

import httpx
import pytest
from markupsafe import escape
from sqlalchemy import select

from playerdesk.db.models import KbArticle, KbArticleVersion
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import kb
from tests.conftest import AgentFactory
from tests.kb_articles import HOSTILE_TITLE, LANGUAGES, Seeded, seed_articles
from tests.web.test_console_workspace import (
    CSRF_FIELD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
    sign_in,
)

ARTICLES = "/console/admin/articles"


@pytest.fixture
async def seeded(runtime: Runtime) -> Seeded:
    return await seed_articles(runtime)


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found is not None
    return found.group(1)


def row_ids(page: httpx.Response) -> list[int]:
    return [
        int(value)
        for value in re.findall(r'data-testid="article-row" data-article-id="(\d+)"', page.text)
    ]


def article_form(token: str, **overrides: str) -> dict[str, str]:
    values = {
        "csrf_token": token,
        "intent": "save",
        "language": "en",
        "category_key": "withdrawals",
        "title": "Can I cancel a withdrawal?",
        "slug": "",
        "key": "",
        "summary": "Yes, while it is pending.",
        "status": "draft",
        "body_markdown": "## While it is pending\n\nOpen **Cashier** and choose *Cancel*.",
        "expected_version": "",
    }
    values.update(overrides)
    return values


async def stored(runtime: Runtime, article_id: int) -> KbArticle:
    async with runtime.read_uow() as uow:
        return await uow.session.get_one(KbArticle, article_id)


# Who may use the pages ---------------------------------------------------------------------


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    for response in (
        await client.get(ARTICLES),
        await client.get(f"{ARTICLES}/new"),
        await client.get(f"{ARTICLES}/1"),
        await client.get(f"{ARTICLES}/1/versions"),
        await client.post(ARTICLES, data={"title": "x"}),
        await client.post(f"{ARTICLES}/1", data={"title": "x"}),
    ):
        assert response.status_code == 303
        assert response.headers["location"] == "/console/login"


@pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SENIOR])
async def test_agents_get_the_forbidden_page_and_change_nothing(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    seeded: Seeded,
    role: AgentRole,
) -> None:
    await sign_in(client, make_agent, role)
    article_id = seeded.id("withdrawal-times")
    pages = [
        await client.get(ARTICLES),
        await client.get(f"{ARTICLES}/new"),
        await client.get(f"{ARTICLES}/{article_id}"),
        await client.get(f"{ARTICLES}/{article_id}/versions"),
    ]
    token = csrf_of((await client.get("/console")).text)
    before = await stored(runtime, article_id)

    created = await client.post(ARTICLES, data=article_form(token))
    updated = await client.post(
        f"{ARTICLES}/{article_id}",
        data=article_form(token, title="Hijacked", expected_version=str(before.version)),
    )

    for response in [*pages, created, updated]:
        assert response.status_code == 403
        assert 'data-testid="forbidden"' in response.text
        assert 'data-testid="nav-articles"' not in response.text
    after = await stored(runtime, article_id)
    assert (after.title, after.version) == (before.title, before.version)
    async with runtime.read_uow() as uow:
        titles = (await uow.session.scalars(select(KbArticle.title))).all()
    assert "Can I cancel a withdrawal?" not in titles


@pytest.mark.parametrize("role", [AgentRole.SUPERVISOR, AgentRole.ADMIN])
async def test_supervisors_and_admins_see_the_list_with_every_status(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    seeded: Seeded,
    role: AgentRole,
) -> None:
    await sign_in(client, make_agent, role)

    page = await client.get(ARTICLES)

    assert page.status_code == 200
    assert 'data-testid="nav-articles" aria-current="page"' in page.text
    assert set(row_ids(page)) == set(seeded.ids.values())
    for status in ("Draft", "Internal", "Published"):
        assert status in page.text
    assert str(escape(HOSTILE_TITLE)) in page.text and "<script>alert" not in page.text
    assert 'href="/static/console/knowledge.css"' in page.text
    assert " style=" not in page.text and "<script" not in page.text
    # The other administration pages link here too.
    shifts = await client.get("/console/admin/shifts")
    assert 'data-testid="nav-articles"' in shifts.text


async def test_the_list_filters_by_language_status_category_and_text(
    client: httpx.AsyncClient, make_agent: AgentFactory, seeded: Seeded
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)

    polish = await client.get(ARTICLES, params={"language": "pl"})
    internal = await client.get(ARTICLES, params={"status": "internal"})
    bonuses = await client.get(ARTICLES, params={"category": "bonuses"})
    text = await client.get(ARTICLES, params={"q": "wyplata", "language": "pl"})
    nothing = await client.get(ARTICLES, params={"q": "roulette"})
    nonsense = await client.get(
        ARTICLES, params={"language": "xx", "status": "gone", "category": "\x00", "q": "\x00"}
    )

    assert set(row_ids(polish)) == {
        seeded.id("withdrawal-times", "pl"),
        seeded.id("withdrawal-pending", "pl"),
    }
    assert row_ids(internal) == [seeded.id("chargeback-threats")]
    assert row_ids(bonuses) == [seeded.id("bonus-terms")]
    assert row_ids(text)[0] == seeded.id("withdrawal-times", "pl")
    assert row_ids(nothing) == [] and 'data-testid="no-articles"' in nothing.text
    assert set(row_ids(nonsense)) == set(seeded.ids.values())  # unknown values are ignored
    assert '<option value="pl" selected>' in polish.text
    assert 'data-testid="clear-filters"' in polish.text


# Writing and editing -----------------------------------------------------------------------


async def test_a_supervisor_previews_then_creates_an_article(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    page = await client.get(f"{ARTICLES}/new")
    assert page.status_code == 200 and 'data-testid="article-form"' in page.text
    token = csrf_of(page.text)

    preview = await client.post(
        ARTICLES,
        data=article_form(
            token,
            intent="preview",
            body_markdown=(
                "## Cancel\n\n<script>alert(1)</script>\n\nSee [pending](kb:withdrawal-pending)."
            ),
        ),
    )

    assert preview.status_code == 200
    rendered = preview.text.split('data-testid="preview-body">', 1)[1].split("</div>", 1)[0]
    assert "<h2>Cancel</h2>" in rendered
    assert "<script" not in rendered
    assert 'href="/help/en/withdrawals/why-is-my-withdrawal-pending"' in rendered
    assert 'value="Can I cancel a withdrawal?"' in preview.text  # the form is kept
    async with runtime.read_uow() as uow:
        assert (
            await uow.session.scalar(
                select(KbArticle.id).where(KbArticle.title == "Can I cancel a withdrawal?")
            )
            is None
        )

    created = await client.post(ARTICLES, data=article_form(token, status="published"))

    assert created.status_code == 303
    location = created.headers["location"]
    assert re.fullmatch(rf"{ARTICLES}/\d+\?saved=1", location)
    article = await stored(runtime, int(location.split("/")[-1].split("?")[0]))
    assert (article.key, article.slug, article.status, article.version) == (
        "can-i-cancel-a-withdrawal",
        "can-i-cancel-a-withdrawal",
        "published",
        1,
    )
    edit = await client.get(location)
    assert 'data-testid="saved"' in edit.text
    assert 'data-testid="public-link"' in edit.text
    assert 'href="/help/en/withdrawals/can-i-cancel-a-withdrawal"' in edit.text
    assert 'data-testid="translate-pl"' in edit.text  # no Polish translation yet
    public = await client.get("/help/en/withdrawals/can-i-cancel-a-withdrawal")
    assert public.status_code == 200


async def test_a_refused_article_comes_back_with_the_message_and_the_text(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    token = csrf_of((await client.get(f"{ARTICLES}/new")).text)

    taken = await client.post(
        ARTICLES, data=article_form(token, slug="how-long-does-a-withdrawal-take")
    )
    untitled = await client.post(ARTICLES, data=article_form(token, title=""))
    expired = await client.post(ARTICLES, data=article_form("0" * 64))

    assert taken.status_code == 409
    assert 'data-testid="field-error-slug"' in taken.text
    assert "## While it is pending" in taken.text  # the typed text is kept
    assert untitled.status_code == 422 and 'data-testid="field-error-title"' in untitled.text
    assert expired.status_code == 403 and 'data-testid="form-error"' in expired.text
    async with runtime.read_uow() as uow:
        assert (
            await uow.session.scalar(
                select(KbArticle.id).where(KbArticle.summary == "Yes, while it is pending.")
            )
            is None
        )


async def test_editing_saves_a_new_version(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    await sign_in(client, make_agent, AgentRole.ADMIN)
    article_id = seeded.id("withdrawal-pending")
    page = await client.get(f"{ARTICLES}/{article_id}")
    assert 'name="expected_version" value="1"' in page.text
    polish = seeded.id("withdrawal-pending", "pl")
    assert f'href="/console/admin/articles/{polish}"' in page.text
    assert 'data-testid="translate-sv"' in page.text

    response = await client.post(
        f"{ARTICLES}/{article_id}",
        data=article_form(
            csrf_of(page.text),
            title="Why is my withdrawal still pending?",
            key="withdrawal-pending",
            slug="why-is-my-withdrawal-pending",
            status="published",
            expected_version="1",
        ),
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"{ARTICLES}/{article_id}?saved=1"
    article = await stored(runtime, article_id)
    assert (article.title, article.version) == ("Why is my withdrawal still pending?", 2)
    versions = await client.get(f"{ARTICLES}/{article_id}/versions")
    assert versions.status_code == 200
    assert re.findall(r'data-testid="version" data-version="(\d+)"', versions.text) == ["2", "1"]
    assert "Why is my withdrawal pending?" in versions.text  # the text it replaced


async def test_a_stale_save_is_refused_and_shows_both_versions(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    article_id = seeded.id("withdrawal-pending")
    page = await client.get(f"{ARTICLES}/{article_id}")
    token = csrf_of(page.text)
    # A colleague saves while this editor is still typing.
    async with runtime.uow() as uow:
        await kb.update_article(
            uow,
            actor=Actor.system(),
            article_id=article_id,
            fields=kb.ArticleFields(
                category_key="withdrawals",
                language="en",
                key="withdrawal-pending",
                slug="why-is-my-withdrawal-pending",
                title="Pending withdrawals explained",
                summary="Their version.",
                body_markdown="Their text about **pending** withdrawals.",
                status="published",
            ),
            expected_version=1,
            languages=list(LANGUAGES),
        )
    mine = article_form(
        token,
        title="My better title",
        key="withdrawal-pending",
        slug="why-is-my-withdrawal-pending",
        status="published",
        body_markdown="My own text.",
        expected_version="1",
    )

    refused = await client.post(f"{ARTICLES}/{article_id}", data=mine)

    assert refused.status_code == 409
    assert 'data-testid="conflict"' in refused.text
    assert 'data-testid="conflict-title">Pending withdrawals explained<' in refused.text
    assert "Their text about **pending** withdrawals." in refused.text
    assert 'value="My better title"' in refused.text and "My own text." in refused.text
    # Saving again from here replaces the version shown, deliberately.
    assert 'name="expected_version" value="2"' in refused.text
    article = await stored(runtime, article_id)
    assert (article.title, article.version) == ("Pending withdrawals explained", 2)

    again = await client.post(f"{ARTICLES}/{article_id}", data={**mine, "expected_version": "2"})
    assert again.status_code == 303
    article = await stored(runtime, article_id)
    assert (article.title, article.version) == ("My better title", 3)


async def test_a_translation_starts_from_the_original(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    original = seeded.id("withdrawal-pending")

    page = await client.get(f"{ARTICLES}/new", params={"from": original, "language": "sv"})

    assert page.status_code == 200
    assert 'name="key" type="text"' in page.text and 'value="withdrawal-pending"' in page.text
    assert '<option value="sv" selected>' in page.text
    assert '<option value="withdrawals" selected>' in page.text
    assert "While we review a withdrawal its status is **Pending**." in page.text
    created = await client.post(
        ARTICLES,
        data=article_form(
            csrf_of(page.text),
            language="sv",
            key="withdrawal-pending",
            title="Varför väntar mitt uttag?",
            body_markdown="Medan vi granskar uttaget är statusen **Väntar**.",
            status="published",
        ),
    )
    assert created.status_code == 303
    async with runtime.read_uow() as uow:
        swedish = await uow.session.scalar(
            select(KbArticle).where(
                KbArticle.key == "withdrawal-pending", KbArticle.language == "sv"
            )
        )
    assert swedish is not None and swedish.slug == "varfor-vantar-mitt-uttag"
    english = await client.get(f"{ARTICLES}/{original}")
    assert f'href="/console/admin/articles/{swedish.id}"' in english.text


async def test_the_editor_shows_the_players_feedback(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    article_id = seeded.id("withdrawal-times")
    async with runtime.uow() as uow:
        await kb.record_feedback(
            uow, article_id=article_id, helpful=False, comment="<b>What about BLIK?</b>"
        )
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)

    page = await client.get(f"{ARTICLES}/{article_id}")

    assert 'data-testid="not-helpful-count">1<' in page.text
    assert "&lt;b&gt;What about BLIK?&lt;/b&gt;" in page.text


async def test_unknown_articles_lead_back_to_the_list(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)

    for path in (f"{ARTICLES}/999", f"{ARTICLES}/999/versions"):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"] == ARTICLES
    missing_version = await client.post(
        f"{ARTICLES}/999",
        data=article_form(csrf_of((await client.get(ARTICLES)).text), expected_version="1"),
    )
    assert missing_version.status_code == 303


async def test_every_save_keeps_a_version_row(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, seeded: Seeded
) -> None:
    """What the versions page lists is what the database holds."""
    await sign_in(client, make_agent, AgentRole.SUPERVISOR)
    article_id = seeded.id("bonus-terms")
    page = await client.get(f"{ARTICLES}/{article_id}/versions")
    async with runtime.read_uow() as uow:
        count = len(
            (
                await uow.session.scalars(
                    select(KbArticleVersion).where(KbArticleVersion.article_id == article_id)
                )
            ).all()
        )
    assert page.text.count('data-testid="version"') == count == 1
    assert "<script>alert" not in page.text
