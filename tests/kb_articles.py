"""A small knowledge base in three languages for the help-centre and console tests, written
through the service (as an editor would), with the traps the pages must handle: an internal
article, a draft, and an article whose title and text try to inject markup."""

from __future__ import annotations

from dataclasses import dataclass

from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import kb

LANGUAGES = ("en", "pl", "sv")
HOSTILE_TITLE = '<script>alert("title")</script> Bonus terms & "conditions"'

CATEGORIES = {
    "withdrawals": (
        1,
        {
            "en": ("Withdrawals", "Payout times, pending withdrawals and limits."),
            "pl": ("Wypłaty", "Czas wypłat, wypłaty w toku i limity."),
            "sv": ("Uttag", "Utbetalningstider, väntande uttag och gränser."),
        },
    ),
    "bonuses": (
        2,
        {
            "en": ("Bonuses", "Welcome offers and wagering."),
            "pl": ("Bonusy", "Oferty powitalne i obrót."),
            "sv": ("Bonusar", "Välkomsterbjudanden och omsättning."),
        },
    ),
}

# key -> category, status, {language: (slug, title, summary, body)}
ARTICLES: dict[str, tuple[str, str, dict[str, tuple[str, str, str, str]]]] = {
    "withdrawal-times": (
        "withdrawals",
        "published",
        {
            "en": (
                "how-long-does-a-withdrawal-take",
                "How long does a withdrawal take?",
                "We review every withdrawal within 24 hours.",
                "## Review\n\nWe review each withdrawal within **24 hours**.\n\n"
                "## Payment\n\nCards take 2–5 business days. See also "
                "[pending withdrawals](kb:withdrawal-pending).",
            ),
            "pl": (
                "ile-trwa-wyplata",
                "Ile trwa wypłata?",
                "Każdą wypłatę sprawdzamy w ciągu 24 godzin.",
                "## Weryfikacja\n\nKażdą wypłatę sprawdzamy w ciągu **24 godzin**.\n\n"
                "## Płatność\n\nWypłata na kartę trwa od 2 do 5 dni roboczych.",
            ),
            "sv": (
                "hur-lang-tid-tar-ett-uttag",
                "Hur lång tid tar ett uttag?",
                "Vi granskar varje uttag inom 24 timmar.",
                "## Granskning\n\nVi granskar varje uttag inom **24 timmar**.\n\n"
                "## Utbetalning\n\nUttaget till kort tar 2–5 bankdagar. Spärr på kontot "
                "stoppar utbetalningen.",
            ),
        },
    ),
    "withdrawal-pending": (
        "withdrawals",
        "published",
        {
            "en": (
                "why-is-my-withdrawal-pending",
                "Why is my withdrawal pending?",
                "A pending withdrawal is waiting for our review.",
                "While we review a withdrawal its status is **Pending**.",
            ),
            "pl": (
                "dlaczego-wyplata-oczekuje",
                "Dlaczego moja wypłata oczekuje?",
                "Wypłata oczekuje na naszą weryfikację.",
                "Podczas weryfikacji wypłata ma status **Oczekuje**.",
            ),
        },
    ),
    "chargeback-threats": (
        "withdrawals",
        "internal",
        {
            "en": (
                "handling-chargeback-threats",
                "Handling chargeback threats",
                "For agents: what to say when a player threatens a chargeback.",
                "Stay calm. Never promise a refund. Escalate to payments with the withdrawal id.",
            ),
        },
    ),
    "withdrawal-limits-draft": (
        "withdrawals",
        "draft",
        {
            "en": (
                "withdrawal-limits",
                "Withdrawal limits (draft)",
                "Not finished.",
                "Weekly withdrawal limits are being written.",
            ),
        },
    ),
    "bonus-terms": (
        "bonuses",
        "published",
        {
            "en": (
                "bonus-terms",
                HOSTILE_TITLE,
                'Wagering <b>rules</b> & "limits".',
                "Wagering is 35x.\n\n<script>alert('body')</script>\n\n"
                '<img src="x" onerror="alert(1)">\n\n[Click me](javascript:alert(1))',
            ),
        },
    ),
}


@dataclass(frozen=True)
class Seeded:
    ids: dict[tuple[str, str], int]  # (key, language) -> article id

    def id(self, key: str, language: str = "en") -> int:
        return self.ids[(key, language)]


async def seed_articles(runtime: Runtime) -> Seeded:
    actor = Actor.system()
    languages = list(LANGUAGES)
    for key, (position, texts) in CATEGORIES.items():
        async with runtime.uow() as uow:
            await kb.create_category(
                uow,
                actor=actor,
                fields=kb.CategoryFields(
                    key=key,
                    position=position,
                    texts={
                        language: kb.CategoryText(name=name, description=description)
                        for language, (name, description) in texts.items()
                    },
                ),
                languages=languages,
            )
    ids: dict[tuple[str, str], int] = {}
    for key, (category, status, versions) in ARTICLES.items():
        for language, (slug, title, summary, body) in versions.items():
            async with runtime.uow() as uow:
                view = await kb.create_article(
                    uow,
                    actor=actor,
                    fields=kb.ArticleFields(
                        category_key=category,
                        language=language,
                        key=key,
                        slug=slug,
                        title=title,
                        summary=summary,
                        body_markdown=body,
                        status=status,
                    ),
                    languages=languages,
                )
            ids[(key, language)] = view.id
    return Seeded(ids=ids)
