"""Demo data for `playerdesk seed-demo`: one morning on the support floor of an online casino.

Everything is created through the services, exactly as the floor would create it, so the demo
goes down the real write path (audit log, events, card-number redaction, ticket numbering).

Seeding is safe to repeat. The admin agent is created last and marks a finished seed: when it
exists nothing is written. A seed that was interrupted part-way is completed on the next run,
because every step first looks for what it would create (teams by name, agents by email,
players by casino id, tickets by player and subject).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from playerdesk.clock import FrozenClock
from playerdesk.demo_canned import seed_canned_replies
from playerdesk.demo_kb import seed_knowledge_base
from playerdesk.domain.enums import AgentRole, AuthMethod, Channel, MessageKind, Priority
from playerdesk.domain.enums import TicketStatus as Status
from playerdesk.domain.errors import DomainError
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, bot_admin, routing_admin
from playerdesk.services import agents as agent_service
from playerdesk.services import bot as bot_service
from playerdesk.services import messages as message_service
from playerdesk.services import players as player_service
from playerdesk.services import tickets as ticket_service
from playerdesk.settings import Environment

DEMO_EMAIL_DOMAIN = "demo.playerdesk.test"


@dataclass(frozen=True, kw_only=True)
class DemoLogin:
    role: str
    email: str
    password: str


class DemoRefused(DomainError):
    code = "demo_refused"


# --- the floor: teams and agents ---------------------------------------------------------

PAYMENTS = "Payments"
KYC = "Verification/KYC"  # the names of services.routing_admin.STANDARD_TEAMS
BONUSES = "Bonuses"
TECHNICAL = "Technical"
VIP = "VIP"
RESPONSIBLE_GAMBLING = "Responsible Gambling"
COMPLAINTS = "Complaints"
GENERAL = "General"
SENIOR = "Senior"

TEAMS: dict[str, str] = {
    PAYMENTS: "Deposits, withdrawals, chargebacks and payment providers.",
    KYC: "Identity, address and source-of-funds checks.",
    BONUSES: "Promotions, free spins and wagering requirements.",
    TECHNICAL: "Log-in problems, game errors and the website.",
    VIP: "Personal managers for VIP players.",
    RESPONSIBLE_GAMBLING: "Limits, cooling-off, self-exclusion and players at risk.",
    COMPLAINTS: "Formal complaints and disputes, with regulatory deadlines.",
    GENERAL: "Everything else, and the first stop for unrouted contacts.",
    SENIOR: "Escalations: complex cases and breached promises.",
}


@dataclass(frozen=True, kw_only=True)
class _AgentSpec:
    key: str
    name: str
    role: AgentRole
    languages: tuple[str, ...]
    teams: tuple[str, ...]
    max_concurrent_chats: int = 3

    @property
    def email(self) -> str:
        return f"{self.key}@{DEMO_EMAIL_DOMAIN}"

    @property
    def password(self) -> str:
        # Printed by `make demo` for anyone to use: demo credentials, never secrets.
        return f"{self.key}-demo-pass"


ADMIN = _AgentSpec(
    key="admin",
    name="Maja Lindberg",
    role=AgentRole.ADMIN,
    languages=("sv", "en"),
    teams=(GENERAL,),
)
AGENTS: tuple[_AgentSpec, ...] = (
    ADMIN,
    _AgentSpec(
        key="supervisor",
        name="Tomasz Wiśniewski",
        role=AgentRole.SUPERVISOR,
        languages=("pl", "en"),
        teams=(COMPLAINTS, RESPONSIBLE_GAMBLING, GENERAL, SENIOR),
    ),
    _AgentSpec(
        key="senior",
        name="Erik Johansson",
        role=AgentRole.SENIOR,
        languages=("sv", "en"),
        teams=(VIP, PAYMENTS, SENIOR),
    ),
    _AgentSpec(
        key="katarzyna",
        name="Katarzyna Nowak",
        role=AgentRole.SENIOR,
        languages=("pl", "en"),
        teams=(VIP, KYC, BONUSES, SENIOR),
    ),
    _AgentSpec(
        key="agent",
        name="Olivia Brown",
        role=AgentRole.AGENT,
        languages=("en",),
        teams=(PAYMENTS, BONUSES, GENERAL),
        max_concurrent_chats=4,
    ),
    _AgentSpec(
        key="piotr",
        name="Piotr Zieliński",
        role=AgentRole.AGENT,
        languages=("pl", "en"),
        teams=(PAYMENTS, TECHNICAL, GENERAL),
    ),
    _AgentSpec(
        key="sara",
        name="Sara Nilsson",
        role=AgentRole.AGENT,
        languages=("sv", "en"),
        teams=(KYC, RESPONSIBLE_GAMBLING, BONUSES, GENERAL),
    ),
    _AgentSpec(
        key="james",
        name="James Carter",
        role=AgentRole.AGENT,
        languages=("en",),
        teams=(TECHNICAL, COMPLAINTS, GENERAL),
    ),
)
_AGENTS_BY_KEY = {spec.key: spec for spec in AGENTS}


# --- players -------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _PlayerSpec:
    external_id: str
    name: str
    email: str
    language: str
    country: str
    vip_tier: str | None = None
    manager: str | None = None
    phone: str | None = None


PLAYERS: tuple[_PlayerSpec, ...] = (
    _PlayerSpec(
        external_id="204117",
        name="James Whitfield",
        email="james.whitfield@example.com",
        language="en",
        country="GB",
        vip_tier="silver",
    ),
    _PlayerSpec(
        external_id="318842",
        name="Chloe Bennett",
        email="chloe.bennett@example.com",
        language="en",
        country="GB",
    ),
    _PlayerSpec(
        external_id="187305",
        name="Daniel Murphy",
        email="daniel.murphy@example.net",
        language="en",
        country="IE",
        vip_tier="bronze",
    ),
    _PlayerSpec(
        external_id="355019",
        name="Ryan Walsh",
        email="ryan.walsh@example.org",
        language="en",
        country="IE",
    ),
    _PlayerSpec(
        external_id="100482",
        name="Michael O'Brien",
        email="michael.obrien@example.com",
        language="en",
        country="GB",
        vip_tier="platinum",
        manager="senior",
        phone="+44 7700 900481",
    ),
    _PlayerSpec(
        external_id="362210",
        name="Liam Hughes",
        email="liam.hughes@example.com",
        language="en",
        country="GB",
    ),
    _PlayerSpec(
        external_id="290677",
        name="Priya Shah",
        email="priya.shah@example.org",
        language="en",
        country="GB",
        vip_tier="silver",
    ),
    _PlayerSpec(
        external_id="371904",
        name="Grace Taylor",
        email="grace.taylor@example.com",
        language="en",
        country="GB",
    ),
    _PlayerSpec(
        external_id="341556",
        name="Marek Wójcik",
        email="marek.wojcik@example.com",
        language="pl",
        country="PL",
    ),
    _PlayerSpec(
        external_id="150938",
        name="Anna Kowalska",
        email="anna.kowalska@example.net",
        language="pl",
        country="PL",
        vip_tier="gold",
        manager="katarzyna",
    ),
    _PlayerSpec(
        external_id="366481",
        name="Kamil Dąbrowski",
        email="kamil.dabrowski@example.com",
        language="pl",
        country="PL",
    ),
    _PlayerSpec(
        external_id="243390",
        name="Łukasz Kamiński",
        email="lukasz.kaminski@example.org",
        language="pl",
        country="PL",
        vip_tier="silver",
        phone="+48 500 100 237",
    ),
    _PlayerSpec(
        external_id="298815",
        name="Michał Szymański",
        email="michal.szymanski@example.com",
        language="pl",
        country="PL",
        phone="+48 600 200 418",
    ),
    _PlayerSpec(
        external_id="327461",
        name="Joanna Mazur",
        email="joanna.mazur@example.net",
        language="pl",
        country="PL",
    ),
    _PlayerSpec(
        external_id="352277",
        name="Emma Svensson",
        email="emma.svensson@example.com",
        language="sv",
        country="SE",
    ),
    _PlayerSpec(
        external_id="176620",
        name="Henrik Berg",
        email="henrik.berg@example.org",
        language="sv",
        country="SE",
        vip_tier="gold",
    ),
    _PlayerSpec(
        external_id="100317",
        name="Lars Eriksson",
        email="lars.eriksson@example.com",
        language="sv",
        country="SE",
        vip_tier="platinum",
        manager="senior",
        phone="+46 70 174 06 42",
    ),
    _PlayerSpec(
        external_id="281093",
        name="Johan Lund",
        email="johan.lund@example.net",
        language="sv",
        country="SE",
        vip_tier="bronze",
    ),
    _PlayerSpec(
        external_id="369752",
        name="Linnea Holm",
        email="linnea.holm@example.com",
        language="sv",
        country="SE",
    ),
)


# --- tickets and their conversations -------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Step:
    """One message after the first: `agent` is None when the player writes."""

    agent: str | None
    body: str
    kind: MessageKind = MessageKind.REPLY


def _reply(agent: str, body: str) -> _Step:
    return _Step(agent=agent, body=body)


def _note(agent: str, body: str) -> _Step:
    return _Step(agent=agent, body=body, kind=MessageKind.NOTE)


def _player(body: str) -> _Step:
    return _Step(agent=None, body=body)


@dataclass(frozen=True, kw_only=True)
class _TicketSpec:
    player: str
    channel: Channel
    language: str
    subject: str
    body: str
    team: str
    assignee: str | None
    priority: Priority
    topic: str
    tags: tuple[str, ...]
    steps: tuple[_Step, ...] = ()
    status: Status = Status.NEW


TICKETS: tuple[_TicketSpec, ...] = (
    # --- English ---
    _TicketSpec(
        player="204117",
        channel=Channel.WEB_CHAT,
        language="en",
        subject="How does the wagering on my welcome bonus work?",
        body=(
            "Hi, I got the 100% welcome bonus on my £50 deposit. The terms say 35x wagering, "
            "but my progress bar says I still need to wager £3,500 - I thought it would be "
            "£1,750? Also, do my blackjack bets count towards it?"
        ),
        team=BONUSES,
        assignee="agent",
        priority=Priority.NORMAL,
        topic="bonus",
        tags=("bonus", "wagering"),
        steps=(
            _reply(
                "agent",
                "Hi James, thanks for reaching out! The 35x requirement applies to your "
                "deposit plus the bonus (£50 + £50 = £100), so the total is £3,500 - your "
                "progress bar is right. Slots count 100% towards wagering, while table games "
                "such as blackjack count 10%, so £10 on blackjack adds £1. You'll find the "
                "weighting for every game in the bonus terms under “Game contribution”. "
                "Anything else I can help with?",
            ),
            _player("Ah, that makes sense now. Thanks for explaining!"),
        ),
        status=Status.RESOLVED,
    ),
    _TicketSpec(
        player="318842",
        channel=Channel.FORM,
        language="en",
        subject="Password reset email never arrives",
        body=(
            "I've requested a password reset three times today but the email never arrives "
            "(I've checked spam). My username is chloe_b88. I need to get into my account to "
            "withdraw my balance."
        ),
        team=TECHNICAL,
        assignee="james",
        priority=Priority.NORMAL,
        topic="account",
        tags=("account", "password-reset"),
        steps=(
            _note(
                "james",
                "The address on her casino account is chloe.bennett@gmial.com - a typo at "
                "sign-up, so every reset mail bounces. Account-security policy: ID plus a "
                "selfie before we change the email address.",
            ),
            _reply(
                "james",
                "Hi Chloe, thanks for your patience. I found the problem: the email address on "
                "your casino account has a small typo, so our reset emails couldn't be "
                "delivered. For your security we can only change it once we've confirmed it's "
                "you - please reply to this message with a photo of your ID and a selfie of "
                "you holding it. As soon as that's checked I'll correct the address and send "
                "you a fresh reset link.",
            ),
        ),
        status=Status.PENDING,
    ),
    _TicketSpec(
        player="187305",
        channel=Channel.EMAIL,
        language="en",
        subject="Formal complaint - winnings voided",
        body=(
            "To whom it may concern,\n\n"
            "I want to make a formal complaint. On Saturday evening I won €2,340 on a slot, "
            "and on Sunday the winnings were voided with the reason “bonus terms breach - "
            "maximum bet exceeded”. Nobody told me there was a €5 maximum bet while a bonus "
            "is active, and the game let me place the bets. I want my winnings reinstated. "
            "If this isn't resolved I will take it to the ADR service.\n\n"
            "Daniel Murphy"
        ),
        team=COMPLAINTS,
        assignee="supervisor",
        priority=Priority.HIGH,
        topic="complaint",
        tags=("complaint", "voided-winnings", "bonus"),
        steps=(
            _note(
                "supervisor",
                "Game history: 14 spins at €10 while the bonus was active. The €5 max-bet "
                "rule is in T&C 4.3 and in the bonus pop-up he accepted. Asked Payments "
                "whether we can refund the deposit as a goodwill gesture. Formal complaint: "
                "final response due within 8 weeks (ADR deadline).",
            ),
            _reply(
                "supervisor",
                "Dear Mr Murphy,\n\n"
                "Thank you for your email. We have registered it as a formal complaint under "
                "reference CMP-0147, and I will be handling it personally.\n\n"
                "I am reviewing the game history of the session together with the terms of "
                "the bonus that was active at the time, and I will send you our full response "
                "within 5 working days. If you disagree with our final decision, you can refer "
                "the complaint to our independent ADR provider free of charge; the details "
                "will be included in our response.\n\n"
                "Kind regards,\nTomasz Wiśniewski\nComplaints Supervisor",
            ),
        ),
        status=Status.PENDING,
    ),
    _TicketSpec(
        player="355019",
        channel=Channel.WEB_CHAT,
        language="en",
        subject="Deposit not showing in my balance",
        body=(
            "Hi, I deposited €100 with my Visa about 20 minutes ago. The money has already "
            "left my bank account but my casino balance still shows €0.40. The card is "
            "4111 1111 1111 1111 if that helps. Can you check please?"
        ),
        team=PAYMENTS,
        assignee=None,
        priority=Priority.HIGH,
        topic="deposit",
        tags=("deposit", "card-payment"),
    ),
    _TicketSpec(
        player="100482",
        channel=Channel.PHONE,
        language="en",
        subject="Callback request for my VIP manager",
        body=(
            "Voicemail transcript: Hi, it's Michael O'Brien. Could Erik give me a call back "
            "today? I'm planning a large withdrawal, around €40,000, and I'd like to know "
            "about the limits and how long it will take before I request it. Thanks."
        ),
        team=VIP,
        assignee="senior",
        priority=Priority.HIGH,
        topic="vip",
        tags=("vip", "callback", "withdrawal"),
        steps=(
            _note(
                "senior",
                "Called back at 10:15, no answer - left a voicemail. His weekly withdrawal "
                "limit at platinum is €50,000, so no exception is needed. Will try again "
                "after 15:00.",
            ),
        ),
        status=Status.OPEN,
    ),
    _TicketSpec(
        player="362210",
        channel=Channel.FORM,
        language="en",
        subject="Game froze during free spins",
        body=(
            "The game froze during the free spins feature last night around 22:40 (round ID "
            "7730019245). When I reloaded the page the free spins were gone and my balance "
            "hadn't changed. I'd won about £60 in the feature by then."
        ),
        team=TECHNICAL,
        assignee="james",
        priority=Priority.NORMAL,
        topic="game-error",
        tags=("game-error", "free-spins"),
        steps=(
            _note(
                "james",
                "Our logs show a disconnect at 22:41:07. Opened a case with the game studio, "
                "ref GS-88213, for the round log.",
            ),
            _reply(
                "james",
                "Hi Liam, sorry about that - it's frustrating when a game freezes in the middle "
                "of a feature. I've asked the game provider for the log of round 7730019245. "
                "If the feature didn't finish, its winnings are credited to your balance as "
                "soon as the round is settled. The provider usually answers within 1-2 "
                "working days, and I'll update you as soon as I hear back.",
            ),
        ),
        status=Status.PENDING,
    ),
    _TicketSpec(
        player="290677",
        channel=Channel.TELEGRAM,
        language="en",
        subject="Withdrawal pending for 5 days",
        body=(
            "Hello, I requested a withdrawal of €2,500 five days ago and it still says "
            "pending. Your site says withdrawals take up to 48 hours. What's going on?"
        ),
        team=PAYMENTS,
        assignee="agent",
        priority=Priority.HIGH,
        topic="withdrawal",
        tags=("withdrawal", "source-of-funds"),
        steps=(
            _note(
                "agent",
                "Held by Payments: her deposits passed €2,000 in total, so the AML policy "
                "needs a source-of-funds check before the payout.",
            ),
            _reply(
                "agent",
                "Hi Priya, I'm sorry for the wait, and that nobody told you sooner. Because "
                "of the amount, regulations require a short source-of-funds check before we "
                "can pay out. Please upload a payslip or a bank statement from the last 3 "
                "months under My Account → Verification. Once it's approved - usually within "
                "24 hours - your withdrawal will be processed straight away.",
            ),
            _player("I've just uploaded my bank statement from last month."),
        ),
        status=Status.OPEN,
    ),
    _TicketSpec(
        player="371904",
        channel=Channel.WEB_CHAT,
        language="en",
        subject="Is there an iPhone app?",
        body="Hi! Is there an app for iPhone? I can't find it in the App Store.",
        team=GENERAL,
        assignee="agent",
        priority=Priority.LOW,
        topic="general",
        tags=("mobile",),
        steps=(
            _reply(
                "agent",
                "Hi Grace! We don't have a native app, but the whole casino works in your "
                "phone's browser. Tip: in Safari, tap Share → “Add to Home Screen” and you'll "
                "get an icon that opens the casino just like an app.",
            ),
            _player("Perfect, done. Thank you!"),
        ),
        status=Status.RESOLVED,
    ),
    # --- Polish ---
    _TicketSpec(
        player="341556",
        channel=Channel.TELEGRAM,
        language="pl",
        subject="Wpłata BLIK nie pojawiła się na koncie",
        body=(
            "Dzień dobry, godzinę temu wpłaciłem 200 zł przez BLIK. W aplikacji banku "
            "płatność jest zatwierdzona i pieniądze zeszły z konta, ale saldo w kasynie "
            "dalej pokazuje 0 zł. Co się dzieje?"
        ),
        team=PAYMENTS,
        assignee="piotr",
        priority=Priority.HIGH,
        topic="deposit",
        tags=("deposit", "blik"),
        steps=(
            _reply(
                "piotr",
                "Dzień dobry, Panie Marku, dziękuję za wiadomość. Widzę Pana wpłatę w naszym "
                "systemie, ale operator płatności nie przesłał nam jeszcze jej potwierdzenia, "
                "dlatego środki nie zostały zaksięgowane. Zgłosiłem sprawę operatorowi - "
                "zwykle wyjaśnienie trwa do 2 godzin. Jeśli ma Pan pod ręką potwierdzenie z "
                "aplikacji banku, proszę przesłać zrzut ekranu, to przyspieszy sprawę.",
            ),
            _player("Dzięki. Zrzut ekranu wyślę tutaj za chwilę, jak tylko wrócę do domu."),
            _note(
                "piotr",
                "PSP panel shows the BLIK payment as 'authorised, not captured'. Opened case "
                "PSP-55812 with the provider; checking again at 14:00.",
            ),
        ),
        status=Status.OPEN,
    ),
    _TicketSpec(
        player="150938",
        channel=Channel.EMAIL,
        language="pl",
        subject="Dokument tożsamości ponownie odrzucony",
        body=(
            "Dzień dobry,\n\n"
            "już trzeci raz wysyłam skan dowodu osobistego i za każdym razem dostaję "
            "informację, że dokument został odrzucony. Nie wiem, co robię źle, a bez "
            "weryfikacji nie mogę wypłacić wygranej (4 800 zł). Proszę o pomoc.\n\n"
            "Pozdrawiam\nAnna Kowalska"
        ),
        team=KYC,
        assignee="katarzyna",
        priority=Priority.NORMAL,
        topic="kyc",
        tags=("kyc", "documents"),
        steps=(
            _reply(
                "katarzyna",
                "Dzień dobry, Pani Anno,\n\n"
                "bardzo przepraszam za kłopot. Sprawdziłam przesłane pliki: na wszystkich "
                "trzech widać tylko przednią stronę dowodu, a do weryfikacji potrzebujemy obu "
                "stron. Na ostatnim zdjęciu ucięty jest też prawy róg dokumentu.\n\n"
                "Proszę przesłać zdjęcie przodu i tyłu dowodu - w dobrym świetle, bez lampy "
                "błyskowej, tak aby widać było wszystkie cztery rogi. Gdy tylko pliki do nas "
                "trafią, sprawdzę je osobiście, a wypłata zostanie zrealizowana zaraz po "
                "weryfikacji.\n\n"
                "Pozdrawiam serdecznie\nKatarzyna Nowak\nOpiekun VIP",
            ),
            _note(
                "katarzyna",
                "All three uploads were rejected by the automatic check: back side missing. "
                "Gold tier - I'll review her next upload by hand so the 4,800 PLN payout "
                "isn't held up any longer.",
            ),
        ),
        status=Status.PENDING,
    ),
    _TicketSpec(
        player="366481",
        channel=Channel.WEB_CHAT,
        language="pl",
        subject="Nie dostałem darmowych spinów za pierwszą wpłatę",
        body=(
            "Cześć, w promocji było 50 darmowych spinów za pierwszą wpłatę. Wpłaciłem "
            "wczoraj 40 zł i nic nie dostałem."
        ),
        team=BONUSES,
        assignee="katarzyna",
        priority=Priority.LOW,
        topic="bonus",
        tags=("bonus", "free-spins"),
        steps=(
            _reply(
                "katarzyna",
                "Cześć Kamil! Sprawdziłam Twoje konto. Darmowe spiny z oferty powitalnej "
                "przyznajemy przy pierwszej wpłacie w wysokości co najmniej 50 zł, a Twoja "
                "wpłata wynosiła 40 zł, więc bonus niestety się nie aktywował. Ponieważ to "
                "Twoja pierwsza wpłata, dodałam Ci 20 darmowych spinów jako gest dobrej woli - "
                "znajdziesz je w zakładce „Moje bonusy”.",
            ),
            _player("Są, dzięki wielkie!"),
        ),
        status=Status.RESOLVED,
    ),
    _TicketSpec(
        player="243390",
        channel=Channel.WHATSAPP,
        language="pl",
        subject="Wypłata oczekuje od czterech dni",
        body=(
            "Dzień dobry, 4 dni temu zleciłem wypłatę 1 500 zł na konto bankowe i status "
            "ciągle jest „w realizacji”. Na stronie piszecie, że wypłaty trwają do 24 "
            "godzin. Kiedy dostanę pieniądze?"
        ),
        team=PAYMENTS,
        assignee="piotr",
        priority=Priority.HIGH,
        topic="withdrawal",
        tags=("withdrawal", "bank-transfer"),
        steps=(
            _note(
                "piotr",
                "Payout on hold: the account holder on the IBAN is 'Anna Kamińska', not the "
                "player. Possible third-party account - do not release without proof of "
                "ownership.",
            ),
            _reply(
                "piotr",
                "Dzień dobry, Panie Łukaszu, przepraszam za opóźnienie. Wypłata została "
                "wstrzymana, ponieważ rachunek podany we wniosku nie jest zarejestrowany na "
                "Pana - ze względów bezpieczeństwa wypłacamy środki wyłącznie na rachunki "
                "właściciela konta. Proszę przesłać potwierdzenie, że rachunek należy do Pana "
                "(np. zrzut ekranu z bankowości z imieniem, nazwiskiem i numerem konta), albo "
                "podać inny rachunek na Pana nazwisko. Po otrzymaniu dokumentu zrealizujemy "
                "wypłatę tego samego dnia.",
            ),
        ),
        status=Status.PENDING,
    ),
    _TicketSpec(
        player="298815",
        channel=Channel.VIBER,
        language="pl",
        subject="Proszę o zablokowanie konta",
        body=(
            "Chcę zablokować swoje konto na pół roku. W tym miesiącu przegrałem za dużo i nie "
            "chcę dostawać żadnych ofert ani maili z bonusami. Proszę to zrobić jak "
            "najszybciej, bo sam się nie powstrzymam."
        ),
        team=RESPONSIBLE_GAMBLING,
        assignee=None,
        priority=Priority.URGENT,
        topic="responsible-gambling",
        tags=("responsible-gambling", "self-exclusion"),
    ),
    _TicketSpec(
        player="327461",
        channel=Channel.EMAIL,
        language="pl",
        subject="Nie dostaję maila z resetem hasła",
        body=(
            "Dzień dobry, próbuję zresetować hasło, ale e-mail z linkiem w ogóle nie "
            "przychodzi (sprawdzałam też folder spam). Mój login to joanna_m. Proszę o pomoc."
        ),
        team=TECHNICAL,
        assignee="piotr",
        priority=Priority.NORMAL,
        topic="account",
        tags=("account", "password-reset"),
        steps=(
            _reply(
                "piotr",
                "Dzień dobry, Pani Joanno, sprawdziłem logi wysyłki - serwer Pani poczty "
                "odrzucał nasze wiadomości jako spam. Poprawiliśmy to po naszej stronie i "
                "właśnie wysłałem nowy link do zmiany hasła; jest ważny przez 30 minut. Gdyby "
                "wiadomość znów nie dotarła, proszę dać znać - ustawimy nowe hasło po "
                "weryfikacji tożsamości.",
            ),
            _player("Link doszedł, hasło zmienione. Dziękuję!"),
        ),
        status=Status.RESOLVED,
    ),
    # --- Swedish ---
    _TicketSpec(
        player="352277",
        channel=Channel.EMAIL,
        language="sv",
        subject="Mitt körkort blev inte godkänt",
        body=(
            "Hej!\n\n"
            "Jag har laddat upp mitt körkort två gånger nu men får bara beskedet att "
            "dokumentet inte godkändes. Körkortet är giltigt till 2029, så jag förstår inte "
            "vad som är fel. Jag vill gärna kunna ta ut mina vinster.\n\n"
            "Mvh\nEmma Svensson"
        ),
        team=KYC,
        assignee="sara",
        priority=Priority.NORMAL,
        topic="kyc",
        tags=("kyc", "documents"),
        steps=(
            _reply(
                "sara",
                "Hej Emma!\n\n"
                "Tack för att du hör av dig, och förlåt krånglet. Jag har tittat på dina "
                "uppladdningar: bilden är tyvärr suddig och nederkanten av körkortet är "
                "avskuren, så vi kan inte läsa personnumret. Ta gärna en ny bild där hela "
                "kortet syns, i bra ljus och utan reflexer, och ladda upp den under Mitt "
                "konto → Verifiering. Vi brukar granska nya dokument inom ett par timmar.\n\n"
                "Vänliga hälsningar\nSara Nilsson",
            ),
            _player("Nu har jag laddat upp en ny bild, hoppas att den blev bättre!"),
            _note(
                "sara",
                "New upload is sharp with all corners visible. Waiting for the second-line "
                "KYC check before approving.",
            ),
        ),
        status=Status.OPEN,
    ),
    _TicketSpec(
        player="176620",
        channel=Channel.WEB_CHAT,
        language="sv",
        subject="Uttaget står fortfarande som under behandling",
        body=(
            "Hej, jag gjorde ett uttag på 3 500 kr via Trustly i fredags och det står "
            "fortfarande ”Under behandling”. Hur lång tid brukar det ta?"
        ),
        team=PAYMENTS,
        assignee="senior",
        priority=Priority.NORMAL,
        topic="withdrawal",
        tags=("withdrawal", "trustly"),
        steps=(
            _reply(
                "senior",
                "Hej Henrik! Alla uttag granskas innan de skickas, och "
                "under helgen tar det lite längre tid. Jag har kollat ditt uttag: det "
                "godkändes i morse och pengarna är på väg till ditt bankkonto. Med Trustly "
                "brukar de vara framme inom några minuter, senast nästa bankdag.",
            ),
            _player("Toppen, nu har pengarna kommit. Tack!"),
        ),
        status=Status.RESOLVED,
    ),
    _TicketSpec(
        player="100317",
        channel=Channel.WHATSAPP,
        language="sv",
        subject="Vill bli uppringd av min VIP-värd",
        body=(
            "Hej, det är Lars. Jag har försökt nå Erik på telefon i dag utan att få svar. "
            "Kan han ringa mig så snart han kan? Det gäller inbjudan till eventet i "
            "Stockholm nästa månad och min uttagsgräns."
        ),
        team=VIP,
        assignee="senior",
        priority=Priority.HIGH,
        topic="vip",
        tags=("vip", "callback"),
    ),
    _TicketSpec(
        player="281093",
        channel=Channel.WEB_CHAT,
        language="sv",
        subject="Vill sätta en insättningsgräns och ta en paus",
        body=(
            "Hej. Jag har spelat alldeles för mycket den senaste veckan och förlorat mer än "
            "jag har råd med. Jag vill sänka min insättningsgräns till 1 000 kr i månaden "
            "och stänga av kontot i en vecka, helst direkt. Kan ni hjälpa mig med det?"
        ),
        team=RESPONSIBLE_GAMBLING,
        assignee="sara",
        priority=Priority.URGENT,
        topic="responsible-gambling",
        tags=("responsible-gambling", "deposit-limit", "cooling-off"),
        steps=(
            _reply(
                "sara",
                "Hej Johan, tack för att du hör av dig - det är ett klokt beslut. Jag har nu "
                "stängt av ditt konto i 7 dagar, från och med nu. Under den tiden kan du inte "
                "spela eller göra insättningar, och du får inga erbjudanden från oss. Din nya "
                "insättningsgräns på 1 000 kr i månaden gäller också direkt.\n\n"
                "Vill du stänga av dig från alla spelbolag med svensk licens kan du göra det "
                "på Spelpaus.se. Vill du prata med någon kan du ringa Stödlinjen på "
                "020-81 91 00 - det är kostnadsfritt och du kan vara anonym.\n\n"
                "Ta hand om dig!\nSara",
            ),
            _note(
                "sara",
                "7-day cooling-off applied and deposit limit lowered to 1,000 SEK/month "
                "(a lower limit applies at once). Marketing consent removed. RG check-in "
                "call due when the break ends - keep this ticket open until then.",
            ),
        ),
        status=Status.OPEN,
    ),
    _TicketSpec(
        player="369752",
        channel=Channel.FORM,
        language="sv",
        subject="Varför får jag ingen bonus på mina insättningar?",
        body=(
            "Hej! Min kompis som spelar på en utländsk sida får reload-bonus varje vecka. "
            "Varför får inte jag någon bonus när jag sätter in pengar?"
        ),
        team=BONUSES,
        assignee="sara",
        priority=Priority.LOW,
        topic="bonus",
        tags=("bonus",),
        steps=(
            _reply(
                "sara",
                "Hej Linnea! Bra fråga. Enligt den svenska spellagen får spelbolag med svensk "
                "licens bara erbjuda en bonus, vid det första speltillfället. Du fick vår "
                "välkomstbonus när du registrerade dig, så tyvärr kan vi inte ge fler "
                "insättningsbonusar. Ett tips är att bara spela hos bolag med svensk licens - "
                "då omfattas du av Spelpaus och Spelinspektionens tillsyn. Hör av dig om du "
                "undrar något mer!",
            ),
        ),
        status=Status.RESOLVED,
    ),
)


# --- seeding -------------------------------------------------------------------------------

TICKET_SPACING = timedelta(minutes=47)
STEP_SPACING = timedelta(minutes=4)


def demo_logins() -> list[DemoLogin]:
    return [
        DemoLogin(role=spec.role.value, email=spec.email, password=spec.password) for spec in AGENTS
    ]


async def seed_demo(runtime: Runtime) -> list[DemoLogin]:
    """Load the demo floor (once) and return the logins to print."""
    if runtime.settings.env is Environment.PROD:
        # The demo passwords are printed and published: they must never reach production.
        raise DemoRefused("demo data is never loaded when PLAYERDESK_ENV is prod", field="env")
    if not await _already_seeded(runtime):
        team_ids = await _ensure_teams(runtime)
        agent_ids = await _ensure_agents(runtime, [s for s in AGENTS if s is not ADMIN], team_ids)
        await _ensure_shifts(runtime, agent_ids)
        player_ids = await _ensure_players(runtime, agent_ids)
        now = runtime.clock.now()
        for position, spec in enumerate(TICKETS):
            # Spread the morning out: older tickets first, the newest a few minutes ago.
            opened_at = now - (len(TICKETS) - position) * TICKET_SPACING
            await _ensure_ticket(
                runtime,
                spec,
                opened_at=opened_at,
                team_ids=team_ids,
                agent_ids=agent_ids,
                player_ids=player_ids,
            )
        await seed_canned_replies(runtime, payments_team_id=team_ids[PAYMENTS])
        # The bot answers the demo casino's chat first (after the demo's own chats above,
        # which tell stories of agents at work).
        async with runtime.uow() as uow:
            await bot_admin.set_bot_channel(
                uow, actor=Actor.system(), channel=Channel.WEB_CHAT, enabled=True
            )
        # Last, because its existence tells the next run that everything above is done.
        await _ensure_agents(runtime, [ADMIN], team_ids)
    async with runtime.uow() as uow:  # the help centre's articles (skips what exists)
        await seed_knowledge_base(
            uow, actor=Actor.system(), languages=runtime.policies.players.languages
        )
    await _ensure_bot_stories(runtime)
    return demo_logins()


@dataclass(frozen=True, kw_only=True)
class _BotStory:
    name: str
    email: str
    language: str
    said: tuple[str, ...]  # the player's messages, each answered by the bot in turn


# Conversations the bot had this morning, for the supervisors' Bot page and the inbox.
BOT_STORY_SPACING = timedelta(minutes=9)
BOT_STORIES: tuple[_BotStory, ...] = (
    _BotStory(
        name="Tom Hardy",
        email="tom.hardy@example.com",
        language="en",
        said=("Hi! How long does a withdrawal take to reach my bank account?", "Yes, thanks"),
    ),
    _BotStory(
        name="Agnieszka Wróbel",
        email="agnieszka.wrobel@example.pl",
        language="pl",
        said=("Dzień dobry, chciałabym porozmawiać z konsultantem.",),
    ),
    _BotStory(
        name="Elin Sjöberg",
        email="elin.sjoberg@example.se",
        language="sv",
        said=("Jag har spelat bort hela lönen igen och kan inte sluta.",),
    ),
    _BotStory(
        name="Megan Price",
        email="megan.price@example.co.uk",
        language="en",
        said=("Which payment methods can I use to deposit?",),
    ),
)


async def _ensure_bot_stories(runtime: Runtime) -> None:
    """The bot's morning, told through the bot job's own steps (once), a minute a step."""
    async with runtime.read_uow() as uow:
        report = await bot_admin.bot_report(
            uow, actor=Actor.system(), since=runtime.clock.now() - timedelta(days=365)
        )
    if report.turns:
        return
    context = bot_service.BotContext(
        bot=await runtime.support_bot(),
        casino=None,  # the stories' players are visitors: answers from the help centre
        public_url=runtime.settings.public_url,
    )
    policies = runtime.policies
    now = runtime.clock.now()
    for position, story in enumerate(BOT_STORIES):
        clock = FrozenClock(now - (len(BOT_STORIES) - position) * BOT_STORY_SPACING)
        async with runtime.uow(clock=clock) as uow:
            ticket = await ticket_service.create_ticket(
                uow,
                actor=Actor.system(),
                new=ticket_service.NewTicket(
                    channel=Channel.WEB_CHAT,
                    subject=story.said[0],
                    body=story.said[0],
                    player=player_service.PlayerFields(
                        name=story.name, email=story.email, language=story.language
                    ),
                    tags=["bot"],
                ),
                player_policy=policies.players,
                limits=policies.messages,
                routing_policy=policies.routing,
            )
        for number, text in enumerate(story.said):
            if number:
                clock.advance(STEP_SPACING)
                async with runtime.uow(clock=clock) as uow:
                    await message_service.post_player_message(
                        uow,
                        actor=Actor.system(),
                        ticket_id=ticket.id,
                        body=text,
                        client_msg_id=None,
                        attachment_ids=[],
                        limits=policies.messages,
                        routing_policy=policies.routing,
                    )
            async with runtime.uow(clock=clock) as uow:
                batch = await bot_service.claim_turns(uow)
            for work in batch:  # as the bot job answers them (jobs.bot_turns)
                async with runtime.read_uow() as uow:
                    plan = await bot_service.plan_turn(uow, work=work, context=context)
                async with runtime.uow(clock=clock) as uow:
                    await bot_service.finish_turn(uow, work=work, plan=plan, policy=policies.bot)


async def _already_seeded(runtime: Runtime) -> bool:
    async with runtime.uow() as uow:
        return await agent_service.find_agent_by_email(uow, email=ADMIN.email) is not None


async def _ensure_teams(runtime: Runtime) -> dict[str, int]:
    """The standard floor (teams, their purposes, routing rules), then the demo's own
    descriptions of the teams."""
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    async with runtime.uow() as uow:
        teams = await agent_service.list_teams(uow, actor=Actor.system())
    team_ids = {team.name: team.id for team in teams}
    for name, description in TEAMS.items():
        if name in team_ids:
            async with runtime.uow() as uow:
                await agent_service.update_team(
                    uow, actor=Actor.system(), team_id=team_ids[name], description=description
                )
            continue
        async with runtime.uow() as uow:
            team = await agent_service.create_team(
                uow, actor=Actor.system(), name=name, description=description
            )
        team_ids[name] = team.id
    return team_ids


# Three 8-hour shifts around the clock. Only some demo agents are on the rota, so that the
# coverage view has something to show; the others (admin, supervisor, Olivia, Erik) are not
# scheduled and therefore always available, whenever the demo is opened.
DEMO_TIME_ZONE = "Europe/Warsaw"
SHIFTS: tuple[tuple[str, int, int], ...] = (
    ("Morning 06-14", 6 * 60, 14 * 60),
    ("Afternoon 14-22", 14 * 60, 22 * 60),
    ("Night 22-06", 22 * 60, 6 * 60),
)
ROTA: dict[str, str] = {
    "piotr": "Morning 06-14",
    "katarzyna": "Morning 06-14",
    "sara": "Afternoon 14-22",
    "james": "Night 22-06",
}


async def _ensure_shifts(runtime: Runtime, agent_ids: dict[str, int]) -> None:
    async with runtime.uow() as uow:
        existing = {
            shift.name for shift in await routing_admin.list_shifts(uow, actor=Actor.system())
        }
    shift_ids: dict[str, int] = {}
    for name, start, end in SHIFTS:
        if name in existing:
            continue
        async with runtime.uow() as uow:
            shift = await routing_admin.create_shift(
                uow,
                actor=Actor.system(),
                shift=routing_admin.ShiftInput(
                    name=name, start_minute=start, end_minute=end, time_zone=DEMO_TIME_ZONE
                ),
            )
        shift_ids[name] = shift.id
    first_day = runtime.clock.now().date() - timedelta(days=7)
    for key, shift_name in ROTA.items():
        if shift_name not in shift_ids or key not in agent_ids:
            continue  # already on the rota from an earlier run
        async with runtime.uow() as uow:
            await routing_admin.add_schedule_entry(
                uow,
                actor=Actor.system(),
                agent_id=agent_ids[key],
                shift_id=shift_ids[shift_name],
                starts_on=first_day,
            )


async def _ensure_agents(
    runtime: Runtime, specs: list[_AgentSpec], team_ids: dict[str, int]
) -> dict[str, int]:
    agent_ids: dict[str, int] = {}
    for spec in specs:
        async with runtime.uow() as uow:
            agent = await agent_service.find_agent_by_email(uow, email=spec.email)
        if agent is None:
            async with runtime.uow() as uow:
                agent = await agent_service.create_agent(
                    uow,
                    actor=Actor.system(),
                    email=spec.email,
                    name=spec.name,
                    role=spec.role,
                    password=spec.password,
                    languages=list(spec.languages),
                    supported_languages=runtime.policies.players.languages,
                    team_ids=[team_ids[name] for name in spec.teams],
                    max_concurrent_chats=spec.max_concurrent_chats,
                )
        agent_ids[spec.key] = agent.id
    return agent_ids


async def _ensure_players(runtime: Runtime, agent_ids: dict[str, int]) -> dict[str, int]:
    player_ids: dict[str, int] = {}
    for spec in PLAYERS:
        async with runtime.uow() as uow:
            result = await player_service.upsert_player(
                uow,
                actor=Actor.system(),
                external_id=spec.external_id,
                fields=player_service.PlayerFields(
                    name=spec.name,
                    email=spec.email,
                    phone=spec.phone,
                    language=spec.language,
                    country=spec.country,
                    vip_tier=spec.vip_tier,
                    personal_manager_id=agent_ids[spec.manager] if spec.manager else None,
                ),
                policy=runtime.policies.players,
            )
        player_ids[spec.external_id] = result.player.id
    return player_ids


def _agent_actor(key: str, agent_ids: dict[str, int]) -> Actor:
    """The agent writing a demo message, acting through the seeding process."""
    spec = _AGENTS_BY_KEY[key]
    return Actor(agent_id=agent_ids[key], role=spec.role, method=AuthMethod.SYSTEM, name=spec.name)


async def _ensure_ticket(
    runtime: Runtime,
    spec: _TicketSpec,
    *,
    opened_at: datetime,
    team_ids: dict[str, int],
    agent_ids: dict[str, int],
    player_ids: dict[str, int],
) -> None:
    system = Actor.system()
    player_id = player_ids[spec.player]
    async with runtime.uow() as uow:
        existing = await ticket_service.list_tickets(
            uow,
            actor=system,
            filters=ticket_service.TicketFilter(player_id=player_id),
            cursor=None,
            limit=100,
        )
    if any(ticket.subject == spec.subject for ticket in existing.items):
        return

    story = FrozenClock(opened_at)
    async with runtime.uow(clock=story) as uow:
        ticket = await ticket_service.create_ticket(
            uow,
            actor=system,
            new=ticket_service.NewTicket(
                channel=spec.channel,
                subject=spec.subject,
                body=spec.body,
                player_external_id=spec.player,
                priority=spec.priority,
                language=spec.language,
                topic=spec.topic,
                team_id=team_ids[spec.team],
                assignee_id=agent_ids[spec.assignee] if spec.assignee else None,
                tags=list(spec.tags),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    for step in spec.steps:
        story.advance(STEP_SPACING)
        async with runtime.uow(clock=story) as uow:
            if step.agent is None:
                await message_service.post_player_message(
                    uow,
                    actor=system,
                    ticket_id=ticket.id,
                    body=step.body,
                    client_msg_id=None,
                    attachment_ids=[],
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                )
            else:
                await agent_replies.post_agent_message(
                    uow,
                    actor=_agent_actor(step.agent, agent_ids),
                    ticket_id=ticket.id,
                    body=step.body,
                    kind=step.kind,
                    client_msg_id=None,
                    attachment_ids=[],
                    limits=runtime.policies.messages,
                    routing_policy=runtime.policies.routing,
                    mail_policy=runtime.policies.mail,
                )
    if spec.status is not Status.NEW:
        # A no-op when the conversation already left the ticket in this status.
        story.advance(STEP_SPACING)
        async with runtime.uow(clock=story) as uow:
            await ticket_service.update_ticket(
                uow,
                actor=system,
                ticket_id=ticket.id,
                changes=ticket_service.TicketChanges(status=spec.status),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )
