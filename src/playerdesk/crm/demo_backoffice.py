"""A demo casino back office that speaks the HTTP contract of docs/casino-api.yaml.

It lets `make demo`, the tests of the HTTP client and a casino's own developers see the
connector work end to end without a real casino. Its players are the players of the demo
support floor (playerdesk.demo), and their accounts tell the same stories as the demo
tickets: the held withdrawals, the rejected ID documents, the bonus mid-wagering, the
cooling-off taken this morning. A few players exist only here, for the cases the floor
must handle but the demo tickets do not show (national self-exclusion registers, failed
deposits, an account under self-exclusion).

crm sits below the entry points, so it cannot import playerdesk.demo: the shared facts
(ids, names, emails, languages, countries, VIP tiers) are copied here, and a test keeps the
two in step.

Everything is kept in memory: a POST changes the account for the life of the process.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from playerdesk.crm.base import (
    AccountStatus,
    Balance,
    Bonus,
    BonusStatus,
    CasinoPlayer,
    Document,
    DocumentKind,
    DocumentStatus,
    Limit,
    LimitKind,
    LimitPeriod,
    Payment,
    PaymentKind,
    PaymentStatus,
    PlayerConfirmation,
    ResponsibleGambling,
    Verification,
    VerificationStatus,
)

Clock = Callable[[], datetime]

# Signed requests older or newer than this are refused, so a captured request cannot be
# replayed later.
SIGNATURE_TOLERANCE_SECONDS = 300
MAX_COOLING_OFF = timedelta(weeks=6)
MIN_SELF_EXCLUSION_MONTHS = 6
MAX_PAYMENTS_PAGE = 50
DEFAULT_PAYMENTS_PAGE = 10
MANAGER_EMAIL_DOMAIN = "demo.playerdesk.test"  # the demo floor's agents (playerdesk.demo)


@dataclass(kw_only=True)
class DemoFaults:
    """Misbehaviour to switch on while the app runs, for tests and for demos of how support
    copes when the back office is slow, down or broken. Applies to every /v1 request."""

    delay_seconds: float = 0.0
    fail_status: int | None = None
    malformed: bool = False  # answer 200 with a body that is not JSON


@dataclass(kw_only=True)
class _Account:
    player: CasinoPlayer
    balance: Balance
    payments: list[Payment]
    bonuses: list[Bonus]
    verification: Verification
    responsible_gambling: ResponsibleGambling
    password_resets_sent: int = 0
    # What support recorded when it applied a protection measure: a real back office keeps
    # this as the evidence of the player's consent.
    confirmations: list[PlayerConfirmation] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class _StoredAnswer:
    body_digest: str
    status_code: int
    content: bytes


class _ApiError(Exception):
    def __init__(self, status_code: int, error: str, *, field: str | None = None) -> None:
        super().__init__(error)
        self.status_code = status_code
        self.error = error
        self.field = field

    def payload(self) -> dict[str, str]:
        body = {"error": self.error}
        if self.field is not None:
            body["field"] = self.field
        return body


class _MalformedAnswer(Exception):
    pass


# --- seed data -----------------------------------------------------------------------------


def _money(amount: str) -> Decimal:
    return Decimal(amount)


def _manager(key: str | None) -> str | None:
    return f"{key}@{MANAGER_EMAIL_DOMAIN}" if key else None


def _player(
    external_id: str,
    name: str,
    email: str,
    *,
    language: str,
    country: str,
    registered_at: datetime,
    vip_tier: str | None = None,
    manager: str | None = None,
    phone: str | None = None,
    status: AccountStatus = AccountStatus.ACTIVE,
) -> CasinoPlayer:
    return CasinoPlayer(
        external_id=external_id,
        name=name,
        email=email,
        phone=phone,
        status=status,
        country=country,
        language=language,
        registered_at=registered_at,
        vip_tier=vip_tier,
        personal_manager=_manager(manager),
    )


def _balance(
    currency: str, real: str, bonus: str = "0.00", withdrawable: str | None = None
) -> Balance:
    return Balance(
        currency=currency,
        real_money=_money(real),
        bonus_money=_money(bonus),
        withdrawable=_money(real if withdrawable is None else withdrawable),
    )


def _payment(
    payment_id: str,
    kind: PaymentKind,
    *,
    method: str,
    amount: str,
    currency: str,
    created_at: datetime,
    status: PaymentStatus = PaymentStatus.COMPLETED,
    updated_at: datetime | None = None,
    reason: str | None = None,
) -> Payment:
    return Payment(
        id=payment_id,
        kind=kind,
        method=method,
        amount=_money(amount),
        currency=currency,
        status=status,
        reason=reason,
        created_at=created_at,
        updated_at=updated_at or created_at,
    )


def _documents(*documents: tuple[DocumentKind, DocumentStatus, str | None]) -> list[Document]:
    return [Document(kind=kind, status=status, reason=reason) for kind, status, reason in documents]


_FULLY_VERIFIED = _documents(
    (DocumentKind.ID_FRONT, DocumentStatus.APPROVED, None),
    (DocumentKind.ID_BACK, DocumentStatus.APPROVED, None),
    (DocumentKind.SELFIE, DocumentStatus.APPROVED, None),
    (DocumentKind.PROOF_OF_ADDRESS, DocumentStatus.APPROVED, None),
)
_NOTHING_SENT = _documents(
    (DocumentKind.ID_FRONT, DocumentStatus.MISSING, None),
    (DocumentKind.ID_BACK, DocumentStatus.MISSING, None),
    (DocumentKind.SELFIE, DocumentStatus.MISSING, None),
    (DocumentKind.PROOF_OF_ADDRESS, DocumentStatus.MISSING, None),
)
SLOTS_ONLY = {"slots": 100, "table": 10, "live_casino": 10, "jackpot_slots": 0}


def _verified() -> Verification:
    return Verification(status=VerificationStatus.VERIFIED, documents=list(_FULLY_VERIFIED))


def _not_started() -> Verification:
    return Verification(status=VerificationStatus.NOT_STARTED, documents=list(_NOTHING_SENT))


def _no_protection(*limits: Limit) -> ResponsibleGambling:
    return ResponsibleGambling(
        limits=list(limits),
        cooling_off_until=None,
        self_excluded=False,
        self_excluded_until=None,
        national_register_hits=[],
    )


def _deposit_limit(period: LimitPeriod, amount: str, currency: str, **pending: Any) -> Limit:
    return Limit(
        kind=LimitKind.DEPOSIT, period=period, amount=_money(amount), currency=currency, **pending
    )


def _seed_accounts(now: datetime) -> dict[str, _Account]:
    """Every account, dated relative to `now` so the stories stay fresh whenever it runs."""

    def ago(**delta: float) -> datetime:
        return now - timedelta(**delta)

    def ahead(**delta: float) -> datetime:
        return now + timedelta(**delta)

    dep, wd = PaymentKind.DEPOSIT, PaymentKind.WITHDRAWAL
    accounts: list[_Account] = [
        # --- the demo floor's players (playerdesk.demo.PLAYERS) ---
        # Asked how 35x wagering on deposit + bonus works: mid-wagering, blackjack at 10%.
        _Account(
            player=_player(
                "204117",
                "James Whitfield",
                "james.whitfield@example.com",
                language="en",
                country="GB",
                vip_tier="silver",
                registered_at=ago(days=9),
            ),
            balance=_balance("GBP", "12.40", "50.00", withdrawable="0.00"),
            payments=[
                _payment(
                    "D-2041170001",
                    dep,
                    method="Visa **** 4242",
                    amount="50.00",
                    currency="GBP",
                    created_at=ago(days=3, hours=2),
                ),
            ],
            bonuses=[
                Bonus(
                    id="B-204117-WELCOME",
                    name="Welcome bonus 100% up to £200",
                    status=BonusStatus.ACTIVE,
                    currency="GBP",
                    amount=_money("50.00"),
                    wagering_required=_money("3500.00"),
                    wagering_done=_money("1265.50"),
                    expires_at=ahead(days=27),
                    max_bet=_money("5.00"),
                    max_cashout=None,
                    game_contributions=dict(SLOTS_ONLY),
                ),
            ],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # Password resets never arrive (the address she typed at sign-up has a typo, see
        # the ticket); she wants to withdraw her balance, and has never sent documents.
        _Account(
            player=_player(
                "318842",
                "Chloe Bennett",
                "chloe.bennett@example.com",
                language="en",
                country="GB",
                registered_at=ago(days=140),
            ),
            balance=_balance("GBP", "182.50"),
            payments=[
                _payment(
                    "D-3188420002",
                    dep,
                    method="PayPal",
                    amount="40.00",
                    currency="GBP",
                    created_at=ago(days=12),
                ),
                _payment(
                    "D-3188420001",
                    dep,
                    method="PayPal",
                    amount="25.00",
                    currency="GBP",
                    created_at=ago(days=61),
                ),
            ],
            bonuses=[],
            verification=_not_started(),
            responsible_gambling=_no_protection(),
        ),
        # Formal complaint: €2,340 voided for 14 spins at €10 above the €5 bonus max bet.
        _Account(
            player=_player(
                "187305",
                "Daniel Murphy",
                "daniel.murphy@example.net",
                language="en",
                country="IE",
                vip_tier="bronze",
                registered_at=ago(days=410),
            ),
            balance=_balance("EUR", "3.20"),
            payments=[
                _payment(
                    "D-1873050007",
                    dep,
                    method="Mastercard **** 5100",
                    amount="100.00",
                    currency="EUR",
                    created_at=ago(days=3, hours=6),
                ),
                _payment(
                    "W-1873050003",
                    wd,
                    method="Bank transfer (IE29 **** 7245)",
                    amount="400.00",
                    currency="EUR",
                    created_at=ago(days=48),
                    updated_at=ago(days=47),
                ),
            ],
            bonuses=[
                Bonus(
                    id="B-187305-WEEKEND",
                    name="Weekend reload 50% up to €100",
                    status=BonusStatus.FORFEITED,
                    currency="EUR",
                    amount=_money("50.00"),
                    wagering_required=_money("5250.00"),
                    wagering_done=_money("980.00"),
                    expires_at=ahead(days=4),
                    max_bet=_money("5.00"),
                    max_cashout=None,
                    game_contributions=dict(SLOTS_ONLY),
                ),
            ],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # €100 by Visa twenty minutes ago, not credited: the balance still shows €0.40.
        _Account(
            player=_player(
                "355019",
                "Ryan Walsh",
                "ryan.walsh@example.org",
                language="en",
                country="IE",
                registered_at=ago(days=35),
            ),
            balance=_balance("EUR", "0.40"),
            payments=[
                _payment(
                    "D-3550190004",
                    dep,
                    method="Visa **** 1111",
                    amount="100.00",
                    currency="EUR",
                    status=PaymentStatus.PENDING,
                    created_at=ago(minutes=20),
                    reason="awaiting confirmation from the card acquirer",
                ),
                _payment(
                    "D-3550190003",
                    dep,
                    method="Visa **** 1111",
                    amount="50.00",
                    currency="EUR",
                    created_at=ago(days=6),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # Platinum, planning a €40,000 withdrawal; his weekly limit is €50,000.
        _Account(
            player=_player(
                "100482",
                "Michael O'Brien",
                "michael.obrien@example.com",
                language="en",
                country="GB",
                vip_tier="platinum",
                manager="senior",
                phone="+44 7700 900481",
                registered_at=ago(days=1460),
            ),
            balance=_balance("EUR", "46210.75"),
            payments=[
                _payment(
                    "D-1004820311",
                    dep,
                    method="Bank transfer (GB82 **** 5698)",
                    amount="10000.00",
                    currency="EUR",
                    created_at=ago(days=5),
                ),
                _payment(
                    "W-1004820127",
                    wd,
                    method="Bank transfer (GB82 **** 5698)",
                    amount="15000.00",
                    currency="EUR",
                    created_at=ago(days=21),
                    updated_at=ago(days=20),
                ),
            ],
            bonuses=[],
            verification=Verification(
                status=VerificationStatus.VERIFIED,
                documents=[
                    *_FULLY_VERIFIED,
                    Document(
                        kind=DocumentKind.SOURCE_OF_FUNDS,
                        status=DocumentStatus.APPROVED,
                        reason=None,
                    ),
                ],
            ),
            responsible_gambling=_no_protection(),
        ),
        # The game froze in free spins; about £60 won in the feature, not credited yet.
        _Account(
            player=_player(
                "362210",
                "Liam Hughes",
                "liam.hughes@example.com",
                language="en",
                country="GB",
                registered_at=ago(days=220),
            ),
            balance=_balance("GBP", "37.85"),
            payments=[
                _payment(
                    "D-3622100009",
                    dep,
                    method="Apple Pay",
                    amount="30.00",
                    currency="GBP",
                    created_at=ago(days=1, hours=2),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(
                _deposit_limit(LimitPeriod.WEEK, "150.00", "GBP"),
            ),
        ),
        # €2,500 withdrawal held five days for a source-of-funds check; statement uploaded.
        _Account(
            player=_player(
                "290677",
                "Priya Shah",
                "priya.shah@example.org",
                language="en",
                country="GB",
                vip_tier="silver",
                registered_at=ago(days=300),
            ),
            balance=_balance("EUR", "118.30"),
            payments=[
                _payment(
                    "W-2906770021",
                    wd,
                    method="Skrill",
                    amount="2500.00",
                    currency="EUR",
                    status=PaymentStatus.PENDING,
                    created_at=ago(days=5),
                    updated_at=ago(days=4, hours=20),
                    reason="held for a source-of-funds check (AML: deposits above €2,000)",
                ),
                _payment(
                    "D-2906770019",
                    dep,
                    method="Skrill",
                    amount="1000.00",
                    currency="EUR",
                    created_at=ago(days=9),
                ),
                _payment(
                    "D-2906770014",
                    dep,
                    method="Skrill",
                    amount="1200.00",
                    currency="EUR",
                    created_at=ago(days=23),
                ),
            ],
            bonuses=[],
            verification=Verification(
                status=VerificationStatus.PENDING,
                documents=[
                    *_FULLY_VERIFIED,
                    Document(
                        kind=DocumentKind.SOURCE_OF_FUNDS,
                        status=DocumentStatus.PENDING,
                        reason=None,
                    ),
                ],
            ),
            responsible_gambling=_no_protection(),
        ),
        # Asked whether there is an iPhone app: nothing wrong with the account.
        _Account(
            player=_player(
                "371904",
                "Grace Taylor",
                "grace.taylor@example.com",
                language="en",
                country="GB",
                registered_at=ago(days=18),
            ),
            balance=_balance("GBP", "22.00"),
            payments=[
                _payment(
                    "D-3719040001",
                    dep,
                    method="Visa **** 8812",
                    amount="20.00",
                    currency="GBP",
                    created_at=ago(days=18),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # 200 zł by BLIK an hour ago: authorised at the bank, never captured by the provider.
        _Account(
            player=_player(
                "341556",
                "Marek Wójcik",
                "marek.wojcik@example.com",
                language="pl",
                country="PL",
                registered_at=ago(days=75),
            ),
            balance=_balance("PLN", "0.00"),
            payments=[
                _payment(
                    "D-3415560006",
                    dep,
                    method="BLIK",
                    amount="200.00",
                    currency="PLN",
                    status=PaymentStatus.PROCESSING,
                    created_at=ago(hours=1),
                    updated_at=ago(minutes=50),
                    reason="authorised by the bank, not captured by the provider (PSP-55812)",
                ),
                _payment(
                    "D-3415560005",
                    dep,
                    method="BLIK",
                    amount="100.00",
                    currency="PLN",
                    created_at=ago(days=8),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # ID rejected three times (front only, corner cut off): 4,800 zł payout waits for it.
        _Account(
            player=_player(
                "150938",
                "Anna Kowalska",
                "anna.kowalska@example.net",
                language="pl",
                country="PL",
                vip_tier="gold",
                manager="katarzyna",
                registered_at=ago(days=95),
            ),
            balance=_balance("PLN", "312.00", withdrawable="0.00"),
            payments=[
                _payment(
                    "W-1509380012",
                    wd,
                    method="Bank transfer (PL61 **** 1274)",
                    amount="4800.00",
                    currency="PLN",
                    status=PaymentStatus.PENDING,
                    created_at=ago(days=3),
                    updated_at=ago(days=1),
                    reason="held until identity verification is complete",
                ),
                _payment(
                    "D-1509380010",
                    dep,
                    method="Przelewy24",
                    amount="1000.00",
                    currency="PLN",
                    created_at=ago(days=6),
                ),
            ],
            bonuses=[],
            verification=Verification(
                status=VerificationStatus.REJECTED,
                documents=_documents(
                    (
                        DocumentKind.ID_FRONT,
                        DocumentStatus.REJECTED,
                        "right corner of the document cut off",
                    ),
                    (
                        DocumentKind.ID_BACK,
                        DocumentStatus.REJECTED,
                        "back side missing: all three uploads show the front only",
                    ),
                    (DocumentKind.SELFIE, DocumentStatus.APPROVED, None),
                    (DocumentKind.PROOF_OF_ADDRESS, DocumentStatus.APPROVED, None),
                ),
            ),
            responsible_gambling=_no_protection(),
        ),
        # Deposited 40 zł, below the 50 zł the welcome spins need: 20 goodwill spins instead.
        _Account(
            player=_player(
                "366481",
                "Kamil Dąbrowski",
                "kamil.dabrowski@example.com",
                language="pl",
                country="PL",
                registered_at=ago(days=2),
            ),
            balance=_balance("PLN", "40.00", "10.00", withdrawable="0.00"),
            payments=[
                _payment(
                    "D-3664810001",
                    dep,
                    method="BLIK",
                    amount="40.00",
                    currency="PLN",
                    created_at=ago(days=1, hours=3),
                ),
            ],
            bonuses=[
                Bonus(
                    id="B-366481-GOODWILL",
                    name="20 free spins (goodwill)",
                    status=BonusStatus.ACTIVE,
                    currency="PLN",
                    amount=_money("10.00"),
                    wagering_required=_money("250.00"),
                    wagering_done=_money("0.00"),
                    expires_at=ahead(days=7),
                    max_bet=_money("20.00"),
                    max_cashout=_money("200.00"),
                    game_contributions={"slots": 100},
                ),
            ],
            verification=_not_started(),
            responsible_gambling=_no_protection(),
        ),
        # 1,500 zł withdrawal on hold: the IBAN belongs to "Anna Kamińska", not to him.
        _Account(
            player=_player(
                "243390",
                "Łukasz Kamiński",
                "lukasz.kaminski@example.org",
                language="pl",
                country="PL",
                vip_tier="silver",
                phone="+48 500 100 237",
                registered_at=ago(days=530),
            ),
            balance=_balance("PLN", "86.15"),
            payments=[
                _payment(
                    "W-2433900044",
                    wd,
                    method="Bank transfer (PL10 **** 8841)",
                    amount="1500.00",
                    currency="PLN",
                    status=PaymentStatus.PROCESSING,
                    created_at=ago(days=4),
                    updated_at=ago(days=3, hours=18),
                    reason="on hold: bank account holder 'Anna Kamińska' is not the player",
                ),
                _payment(
                    "D-2433900041",
                    dep,
                    method="Przelewy24",
                    amount="500.00",
                    currency="PLN",
                    created_at=ago(days=11),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # Lost too much this month and asks for a six-month block: deposits piling up, the
        # last ones declined by his bank.
        _Account(
            player=_player(
                "298815",
                "Michał Szymański",
                "michal.szymanski@example.com",
                language="pl",
                country="PL",
                phone="+48 600 200 418",
                registered_at=ago(days=190),
            ),
            balance=_balance("PLN", "4.60"),
            payments=[
                _payment(
                    "D-2988150031",
                    dep,
                    method="Visa **** 0457",
                    amount="500.00",
                    currency="PLN",
                    status=PaymentStatus.FAILED,
                    created_at=ago(hours=9),
                    reason="bank declined: insufficient funds",
                ),
                _payment(
                    "D-2988150030",
                    dep,
                    method="Visa **** 0457",
                    amount="1000.00",
                    currency="PLN",
                    status=PaymentStatus.FAILED,
                    created_at=ago(hours=9, minutes=12),
                    reason="bank declined: insufficient funds",
                ),
                *(
                    _payment(
                        f"D-29881500{number}",
                        dep,
                        method="BLIK",
                        amount=amount,
                        currency="PLN",
                        created_at=ago(days=days),
                    )
                    for number, amount, days in (
                        ("29", "1000.00", 1),
                        ("28", "800.00", 3),
                        ("27", "1200.00", 6),
                        ("26", "500.00", 9),
                    )
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # Reset emails were rejected as spam by her mail server; fixed, nothing else.
        _Account(
            player=_player(
                "327461",
                "Joanna Mazur",
                "joanna.mazur@example.net",
                language="pl",
                country="PL",
                registered_at=ago(days=260),
            ),
            balance=_balance("PLN", "57.90"),
            payments=[
                _payment(
                    "D-3274610003",
                    dep,
                    method="Przelewy24",
                    amount="100.00",
                    currency="PLN",
                    created_at=ago(days=14),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(),
        ),
        # Driving licence rejected twice (blurred, bottom edge cut off); a sharp one waits.
        _Account(
            player=_player(
                "352277",
                "Emma Svensson",
                "emma.svensson@example.com",
                language="sv",
                country="SE",
                registered_at=ago(days=40),
            ),
            balance=_balance("SEK", "2840.00", withdrawable="0.00"),
            payments=[
                _payment(
                    "D-3522770002",
                    dep,
                    method="Trustly",
                    amount="500.00",
                    currency="SEK",
                    created_at=ago(days=10),
                ),
            ],
            bonuses=[],
            verification=Verification(
                status=VerificationStatus.PENDING,
                documents=_documents(
                    (DocumentKind.ID_FRONT, DocumentStatus.PENDING, None),
                    (DocumentKind.SELFIE, DocumentStatus.APPROVED, None),
                    (DocumentKind.PROOF_OF_ADDRESS, DocumentStatus.MISSING, None),
                ),
            ),
            responsible_gambling=_no_protection(
                _deposit_limit(LimitPeriod.MONTH, "5000.00", "SEK"),
            ),
        ),
        # 3,500 kr by Trustly on Friday, checked by hand and paid this morning.
        _Account(
            player=_player(
                "176620",
                "Henrik Berg",
                "henrik.berg@example.org",
                language="sv",
                country="SE",
                vip_tier="gold",
                registered_at=ago(days=700),
            ),
            balance=_balance("SEK", "1210.00"),
            payments=[
                _payment(
                    "W-1766200088",
                    wd,
                    method="Trustly",
                    amount="3500.00",
                    currency="SEK",
                    created_at=ago(days=3),
                    updated_at=ago(hours=3),
                ),
                _payment(
                    "D-1766200085",
                    dep,
                    method="Trustly",
                    amount="2000.00",
                    currency="SEK",
                    created_at=ago(days=8),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=_no_protection(
                _deposit_limit(LimitPeriod.MONTH, "20000.00", "SEK"),
            ),
        ),
        # Platinum, asking about his withdrawal limit; he raised his deposit limit, which
        # takes effect only after the cooling period the law asks for.
        _Account(
            player=_player(
                "100317",
                "Lars Eriksson",
                "lars.eriksson@example.com",
                language="sv",
                country="SE",
                vip_tier="platinum",
                manager="senior",
                phone="+46 70 174 06 42",
                registered_at=ago(days=1900),
            ),
            balance=_balance("SEK", "184300.00"),
            payments=[
                _payment(
                    "D-1003170402",
                    dep,
                    method="Trustly",
                    amount="50000.00",
                    currency="SEK",
                    created_at=ago(days=2),
                ),
                _payment(
                    "W-1003170399",
                    wd,
                    method="Trustly",
                    amount="120000.00",
                    currency="SEK",
                    created_at=ago(days=16),
                    updated_at=ago(days=15),
                ),
            ],
            bonuses=[],
            verification=Verification(
                status=VerificationStatus.VERIFIED,
                documents=[
                    *_FULLY_VERIFIED,
                    Document(
                        kind=DocumentKind.SOURCE_OF_FUNDS,
                        status=DocumentStatus.APPROVED,
                        reason=None,
                    ),
                ],
            ),
            responsible_gambling=_no_protection(
                _deposit_limit(
                    LimitPeriod.MONTH,
                    "100000.00",
                    "SEK",
                    pending_amount=_money("200000.00"),
                    pending_from=ahead(days=2, hours=6),
                ),
            ),
        ),
        # Took a 7-day break this morning and lowered his deposit limit to 1,000 kr a month.
        _Account(
            player=_player(
                "281093",
                "Johan Lund",
                "johan.lund@example.net",
                language="sv",
                country="SE",
                vip_tier="bronze",
                registered_at=ago(days=330),
            ),
            balance=_balance("SEK", "35.00"),
            payments=[
                _payment(
                    f"D-28109300{number}",
                    dep,
                    method="Swish",
                    amount=amount,
                    currency="SEK",
                    created_at=ago(days=days),
                )
                for number, amount, days in (
                    ("58", "2000.00", 1),
                    ("57", "1500.00", 2),
                    ("56", "2000.00", 4),
                    ("55", "1000.00", 6),
                )
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=ResponsibleGambling(
                limits=[_deposit_limit(LimitPeriod.MONTH, "1000.00", "SEK")],
                cooling_off_until=ahead(days=7) - timedelta(hours=2),
                self_excluded=False,
                self_excluded_until=None,
                national_register_hits=[],
            ),
        ),
        # Asked why she gets no reload bonus: Swedish licences allow one, and she had it.
        _Account(
            player=_player(
                "369752",
                "Linnea Holm",
                "linnea.holm@example.com",
                language="sv",
                country="SE",
                registered_at=ago(days=120),
            ),
            balance=_balance("SEK", "412.00"),
            payments=[
                _payment(
                    "D-3697520004",
                    dep,
                    method="Trustly",
                    amount="300.00",
                    currency="SEK",
                    created_at=ago(days=4),
                ),
                _payment(
                    "D-3697520001",
                    dep,
                    method="Trustly",
                    amount="200.00",
                    currency="SEK",
                    created_at=ago(days=120),
                ),
            ],
            bonuses=[
                Bonus(
                    id="B-369752-WELCOME",
                    name="Välkomstbonus 100% + 50 free spins",
                    status=BonusStatus.COMPLETED,
                    currency="SEK",
                    amount=_money("200.00"),
                    # 35x the deposit and the bonus (200 + 200 kr), as the help centre says.
                    wagering_required=_money("14000.00"),
                    wagering_done=_money("14000.00"),
                    expires_at=None,
                    max_bet=_money("50.00"),
                    max_cashout=None,
                    game_contributions=dict(SLOTS_ONLY),
                ),
            ],
            verification=_verified(),
            responsible_gambling=_no_protection(
                _deposit_limit(LimitPeriod.WEEK, "1000.00", "SEK"),
            ),
        ),
        # --- back-office-only players: cases the demo tickets do not show ---
        # Listed in Spelpaus: a Swedish licence holder must refuse all play.
        _Account(
            player=_player(
                "401122",
                "Oskar Lindqvist",
                "oskar.lindqvist@example.se",
                language="sv",
                country="SE",
                status=AccountStatus.SELF_EXCLUDED,
                registered_at=ago(days=600),
            ),
            balance=_balance("SEK", "0.00"),
            payments=[
                _payment(
                    "D-4011220009",
                    dep,
                    method="Trustly",
                    amount="1000.00",
                    currency="SEK",
                    status=PaymentStatus.FAILED,
                    created_at=ago(days=1),
                    reason="refused: player is registered in Spelpaus",
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=ResponsibleGambling(
                limits=[_deposit_limit(LimitPeriod.MONTH, "3000.00", "SEK")],
                cooling_off_until=None,
                self_excluded=False,
                self_excluded_until=None,
                national_register_hits=["spelpaus"],
            ),
        ),
        # Registered with GAMSTOP after he opened the account: balance waits to be paid out.
        _Account(
            player=_player(
                "401377",
                "Gareth Evans",
                "gareth.evans@example.co.uk",
                language="en",
                country="GB",
                status=AccountStatus.SELF_EXCLUDED,
                phone="+44 7700 900812",
                registered_at=ago(days=880),
            ),
            balance=_balance("GBP", "64.20"),
            payments=[
                _payment(
                    "W-4013770031",
                    wd,
                    method="Visa **** 3391",
                    amount="64.20",
                    currency="GBP",
                    status=PaymentStatus.PENDING,
                    created_at=ago(hours=5),
                    reason="closing balance paid out after a GAMSTOP match",
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=ResponsibleGambling(
                limits=[],
                cooling_off_until=None,
                self_excluded=False,
                self_excluded_until=None,
                national_register_hits=["gamstop"],
            ),
        ),
        # Self-excluded with the casino for a year, four months ago: any contact from him
        # must not be met with offers.
        _Account(
            player=_player(
                "401509",
                "Paweł Lewandowski",
                "pawel.lewandowski@example.pl",
                language="pl",
                country="PL",
                status=AccountStatus.SELF_EXCLUDED,
                registered_at=ago(days=1100),
            ),
            balance=_balance("PLN", "0.00"),
            payments=[
                _payment(
                    "W-4015090120",
                    wd,
                    method="Bank transfer (PL27 **** 0193)",
                    amount="230.55",
                    currency="PLN",
                    created_at=ago(days=121),
                    updated_at=ago(days=120),
                ),
            ],
            bonuses=[],
            verification=_verified(),
            responsible_gambling=ResponsibleGambling(
                limits=[],
                cooling_off_until=None,
                self_excluded=True,
                self_excluded_until=ahead(days=245),
                national_register_hits=[],
            ),
        ),
        # New account, every deposit failing for a different reason, documents refused:
        # withdrawals are blocked until it is verified, and the account is suspended.
        _Account(
            player=_player(
                "401846",
                "Connor Doyle",
                "connor.doyle@example.ie",
                language="en",
                country="IE",
                status=AccountStatus.SUSPENDED,
                registered_at=ago(days=6),
            ),
            balance=_balance("EUR", "45.00", withdrawable="0.00"),
            payments=[
                _payment(
                    "D-4018460005",
                    dep,
                    method="Visa **** 9010",
                    amount="200.00",
                    currency="EUR",
                    status=PaymentStatus.FAILED,
                    created_at=ago(hours=30),
                    reason="3-D Secure authentication failed",
                ),
                _payment(
                    "D-4018460004",
                    dep,
                    method="Mastercard **** 2231",
                    amount="200.00",
                    currency="EUR",
                    status=PaymentStatus.FAILED,
                    created_at=ago(hours=31),
                    reason="card issuer blocks gambling transactions",
                ),
                _payment(
                    "D-4018460003",
                    dep,
                    method="Visa **** 9010",
                    amount="500.00",
                    currency="EUR",
                    status=PaymentStatus.FAILED,
                    created_at=ago(days=2),
                    reason="bank declined: insufficient funds",
                ),
                _payment(
                    "D-4018460002",
                    dep,
                    method="Paysafecard",
                    amount="50.00",
                    currency="EUR",
                    status=PaymentStatus.CANCELLED,
                    created_at=ago(days=4),
                    reason="cancelled by the player",
                ),
                _payment(
                    "D-4018460001",
                    dep,
                    method="Visa **** 9010",
                    amount="50.00",
                    currency="EUR",
                    created_at=ago(days=5),
                ),
            ],
            bonuses=[],
            verification=Verification(
                status=VerificationStatus.REJECTED,
                documents=_documents(
                    (DocumentKind.ID_FRONT, DocumentStatus.APPROVED, None),
                    (DocumentKind.ID_BACK, DocumentStatus.APPROVED, None),
                    (
                        DocumentKind.SELFIE,
                        DocumentStatus.REJECTED,
                        "face not visible: the photo is too dark",
                    ),
                    (
                        DocumentKind.PROOF_OF_ADDRESS,
                        DocumentStatus.REJECTED,
                        "utility bill older than 3 months",
                    ),
                    (
                        DocumentKind.PAYMENT_METHOD,
                        DocumentStatus.REJECTED,
                        "card photo shows another person's name",
                    ),
                ),
            ),
            responsible_gambling=_no_protection(
                _deposit_limit(LimitPeriod.DAY, "100.00", "EUR"),
                Limit(
                    kind=LimitKind.SESSION_MINUTES,
                    period=LimitPeriod.DAY,
                    amount=_money("120"),
                    currency=None,
                ),
            ),
        ),
    ]
    return {account.player.external_id: account for account in accounts}


# --- JSON ----------------------------------------------------------------------------------


def _jsonable(value: object) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return f"{value:f}"  # fixed point: never "1E+3"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    return value


def _json_response(payload: object, status_code: int = 200) -> JSONResponse:
    return JSONResponse(_jsonable(payload), status_code=status_code)


def _parse_timestamp(raw: object, field_name: str) -> datetime:
    if not isinstance(raw, str):
        raise _ApiError(422, "invalid_timestamp", field=field_name)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise _ApiError(422, "invalid_timestamp", field=field_name) from None
    if parsed.tzinfo is None:
        # Without an offset the instant is ambiguous: a ban would end at the wrong hour.
        raise _ApiError(422, "timestamp_without_offset", field=field_name)
    return parsed.astimezone(UTC)


def _optional_string(body: dict[str, Any], key: str, field_name: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise _ApiError(422, "invalid_value", field=field_name)
    return value


def _parse_confirmation(raw: object) -> PlayerConfirmation:
    if not isinstance(raw, dict):
        raise _ApiError(422, "confirmation_required", field="confirmation")
    statement = raw.get("statement")
    if not isinstance(statement, str) or not statement.strip():
        # A protection measure is applied only on the player's own, recorded words.
        raise _ApiError(422, "confirmation_statement_required", field="confirmation.statement")
    channel = raw.get("channel")
    if not isinstance(channel, str) or not channel.strip():
        raise _ApiError(422, "confirmation_channel_required", field="confirmation.channel")
    ticket_number = raw.get("ticket_number")
    if ticket_number is not None and (
        not isinstance(ticket_number, int) or isinstance(ticket_number, bool)
    ):
        raise _ApiError(422, "invalid_value", field="confirmation.ticket_number")
    return PlayerConfirmation(
        statement=statement.strip(),
        confirmed_at=_parse_timestamp(raw.get("confirmed_at"), "confirmation.confirmed_at"),
        channel=channel,
        ticket_number=ticket_number,
        agent_email=_optional_string(raw, "agent_email", "confirmation.agent_email"),
    )


def _add_months(moment: datetime, months: int) -> datetime:
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    # 31 August + 6 months lands on 28/29 February, not in March.
    for day in range(moment.day, 27, -1):
        try:
            return moment.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    return moment.replace(year=year, month=month, day=min(moment.day, 28))


def _normalise_phone(phone: str) -> str:
    return "".join(character for character in phone if character.isdigit())


# --- the app -------------------------------------------------------------------------------


def create_demo_backoffice(
    *,
    bearer_token: str | None,
    hmac_secret: str | None,
    clock: Clock | None = None,
    faults: DemoFaults | None = None,
) -> FastAPI:
    """The demo back office, authenticating with a bearer token, HMAC signatures or both."""
    if not bearer_token and not hmac_secret:
        # An open back office would teach the wrong lesson: the contract always authenticates.
        raise ValueError("the demo back office needs a bearer token, an HMAC secret or both")
    now: Clock = clock or (lambda: datetime.now(UTC))
    active_faults = faults or DemoFaults()
    accounts = _seed_accounts(now().astimezone(UTC).replace(microsecond=0))
    answered: dict[tuple[str, str], _StoredAnswer] = {}

    async def apply_faults() -> None:
        if active_faults.delay_seconds > 0:
            await asyncio.sleep(active_faults.delay_seconds)
        if active_faults.fail_status is not None:
            raise _ApiError(active_faults.fail_status, "injected_fault")
        if active_faults.malformed:
            raise _MalformedAnswer

    def bearer_matches(request: Request) -> bool:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if not bearer_token or scheme.lower() != "bearer" or not token:
            return False
        return hmac.compare_digest(token.encode(), bearer_token.encode())

    def signature_matches(request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("x-playerdesk-timestamp", "")
        signature = request.headers.get("x-playerdesk-signature", "")
        if not hmac_secret or not timestamp.isdigit() or not signature.startswith("sha256="):
            return False
        if abs(now().timestamp() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
            return False
        raw_path = request.scope.get("raw_path") or request.url.path.encode()
        target = raw_path.decode("latin-1")
        if request.url.query:
            target = f"{target}?{request.url.query}"
        message = f"{timestamp}\n{request.method}\n{target}\n".encode() + body
        expected = hmac.new(hmac_secret.encode(), message, hashlib.sha256).hexdigest()
        return hmac.compare_digest(signature.removeprefix("sha256=").encode(), expected.encode())

    async def authenticate(request: Request) -> None:
        await apply_faults()
        body = await request.body()
        if not (bearer_matches(request) or signature_matches(request, body)):
            raise _ApiError(401, "unauthorized")

    def account_of(external_id: str) -> _Account:
        account = accounts.get(external_id)
        if account is None:
            raise _ApiError(404, "player_not_found")
        return account

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise _ApiError(400, "invalid_json") from None
        if not isinstance(body, dict):
            raise _ApiError(400, "invalid_json")
        return body

    async def once(request: Request, action: Callable[[], JSONResponse]) -> Response:
        """Run `action` once per Idempotency-Key: a client retrying after a timeout must not
        send two reset emails or apply a ban twice."""
        key = request.headers.get("idempotency-key")
        if not key:
            return action()
        body_digest = hashlib.sha256(await request.body()).hexdigest()
        slot = (request.url.path, key)
        stored = answered.get(slot)
        if stored is not None:
            if stored.body_digest != body_digest:
                raise _ApiError(422, "idempotency_key_reused", field="Idempotency-Key")
            return Response(
                stored.content, status_code=stored.status_code, media_type="application/json"
            )
        response = action()
        if response.status_code < 400:
            answered[slot] = _StoredAnswer(
                body_digest=body_digest,
                status_code=response.status_code,
                content=bytes(response.body),
            )
        return response

    router = APIRouter(prefix="/v1", dependencies=[Depends(authenticate)])

    @router.get("/players")
    async def find_player(request: Request) -> Response:
        criteria = {
            key: request.query_params[key]
            for key in ("external_id", "email", "phone")
            if request.query_params.get(key)
        }
        if len(criteria) != 1:
            raise _ApiError(400, "exactly_one_of_external_id_email_phone", field="query")
        (key, wanted), *_ = criteria.items()
        for account in accounts.values():
            player = account.player
            if (
                (key == "external_id" and player.external_id == wanted)
                or (key == "email" and (player.email or "").lower() == wanted.strip().lower())
                or (
                    key == "phone"
                    and player.phone is not None
                    and _normalise_phone(player.phone) == _normalise_phone(wanted)
                    and _normalise_phone(wanted) != ""
                )
            ):
                return _json_response(player)
        raise _ApiError(404, "player_not_found")

    @router.get("/players/{external_id}/balance")
    async def balance(external_id: str) -> Response:
        return _json_response(account_of(external_id).balance)

    @router.get("/players/{external_id}/payments")
    async def payments(external_id: str, request: Request) -> Response:
        account = account_of(external_id)
        raw_limit = request.query_params.get("limit", str(DEFAULT_PAYMENTS_PAGE))
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_PAYMENTS_PAGE:
            raise _ApiError(400, "invalid_limit", field="limit")
        newest_first = sorted(account.payments, key=lambda p: p.created_at, reverse=True)
        return _json_response({"payments": newest_first[: int(raw_limit)]})

    @router.get("/players/{external_id}/bonuses")
    async def bonuses(external_id: str) -> Response:
        return _json_response({"bonuses": account_of(external_id).bonuses})

    @router.get("/players/{external_id}/verification")
    async def verification(external_id: str) -> Response:
        return _json_response(account_of(external_id).verification)

    @router.get("/players/{external_id}/responsible-gambling")
    async def responsible_gambling(external_id: str) -> Response:
        return _json_response(account_of(external_id).responsible_gambling)

    @router.post("/players/{external_id}/password-reset")
    async def password_reset(external_id: str, request: Request) -> Response:
        account = account_of(external_id)
        await json_body(request)

        def send() -> JSONResponse:
            account.password_resets_sent += 1
            return _json_response({"sent": True}, status_code=202)

        return await once(request, send)

    @router.post("/players/{external_id}/cooling-off")
    async def cooling_off(external_id: str, request: Request) -> Response:
        account = account_of(external_id)
        body = await json_body(request)
        until = _parse_timestamp(body.get("until"), "until")
        confirmation = _parse_confirmation(body.get("confirmation"))
        moment = now()
        if until <= moment:
            raise _ApiError(422, "until_in_the_past", field="until")
        if until > moment + MAX_COOLING_OFF:
            # Longer breaks are self-exclusion, which has its own rules and minimum.
            raise _ApiError(422, "cooling_off_longer_than_6_weeks", field="until")

        def apply() -> JSONResponse:
            account.responsible_gambling = dataclasses.replace(
                account.responsible_gambling, cooling_off_until=until
            )
            account.confirmations.append(confirmation)
            return _json_response(account.responsible_gambling)

        return await once(request, apply)

    @router.post("/players/{external_id}/self-exclusion")
    async def self_exclusion(external_id: str, request: Request) -> Response:
        account = account_of(external_id)
        body = await json_body(request)
        if "until" not in body:
            raise _ApiError(422, "until_required", field="until")
        until = None if body["until"] is None else _parse_timestamp(body["until"], "until")
        confirmation = _parse_confirmation(body.get("confirmation"))
        if until is not None and until < _add_months(now(), MIN_SELF_EXCLUSION_MONTHS):
            raise _ApiError(422, "self_exclusion_shorter_than_6_months", field="until")
        current = account.responsible_gambling
        if current.self_excluded and (
            current.self_excluded_until is None
            or (until is not None and until < current.self_excluded_until)
        ):
            # Support may extend a self-exclusion, never shorten it.
            raise _ApiError(422, "self_exclusion_cannot_be_shortened", field="until")

        def apply() -> JSONResponse:
            account.responsible_gambling = dataclasses.replace(
                current, self_excluded=True, self_excluded_until=until
            )
            account.player = dataclasses.replace(account.player, status=AccountStatus.SELF_EXCLUDED)
            # Bonus offers end with the exclusion; the real money stays the player's.
            account.bonuses = [
                dataclasses.replace(bonus, status=BonusStatus.FORFEITED)
                if bonus.status is BonusStatus.ACTIVE
                else bonus
                for bonus in account.bonuses
            ]
            account.confirmations.append(confirmation)
            return _json_response(account.responsible_gambling)

        return await once(request, apply)

    app = FastAPI(
        title="PlayerDesk demo casino back office",
        description="Implements docs/casino-api.yaml with demo data.",
        # The contract's own document is docs/casino-api.yaml; a generated one would be
        # poorer (the handlers read raw requests to check signatures).
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )

    async def api_error(_request: Request, exc: Exception) -> Response:
        assert isinstance(exc, _ApiError)
        return JSONResponse(exc.payload(), status_code=exc.status_code)

    async def malformed_answer(_request: Request, _exc: Exception) -> Response:
        return Response(b'{"external_id": "2041', media_type="application/json")

    app.add_exception_handler(_ApiError, api_error)
    app.add_exception_handler(_MalformedAnswer, malformed_answer)
    app.include_router(router)
    return app
