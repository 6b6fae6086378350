"""What support needs from a casino's back office, whatever platform it runs on.

The HTTP contract in docs/casino-api.yaml carries these same shapes as JSON: field names as
here, timestamps in ISO 8601 with a zone, amounts as decimal strings ("250.00").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Protocol


class AccountStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    SELF_EXCLUDED = "self_excluded"


class PaymentKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class PaymentStatus(StrEnum):
    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class BonusStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    EXPIRED = "expired"
    FORFEITED = "forfeited"


class VerificationStatus(StrEnum):
    NOT_STARTED = "not_started"
    PENDING = "pending"  # documents sent, being checked
    VERIFIED = "verified"
    REJECTED = "rejected"  # at least one document refused: see the documents


class DocumentKind(StrEnum):
    ID_FRONT = "id_front"
    ID_BACK = "id_back"
    SELFIE = "selfie"
    PROOF_OF_ADDRESS = "proof_of_address"
    PAYMENT_METHOD = "payment_method"
    SOURCE_OF_FUNDS = "source_of_funds"


class DocumentStatus(StrEnum):
    MISSING = "missing"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class LimitKind(StrEnum):
    DEPOSIT = "deposit"
    LOSS = "loss"
    WAGER = "wager"
    SESSION_MINUTES = "session_minutes"


class LimitPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True, kw_only=True)
class CasinoPlayer:
    external_id: str
    name: str
    email: str | None
    phone: str | None
    status: AccountStatus
    country: str  # ISO 3166-1 alpha-2
    language: str  # ISO 639-1
    registered_at: datetime
    vip_tier: str | None
    # The personal manager's email address: PlayerDesk maps it to an agent.
    personal_manager: str | None


@dataclass(frozen=True, kw_only=True)
class Balance:
    currency: str  # ISO 4217
    real_money: Decimal
    bonus_money: Decimal
    withdrawable: Decimal


@dataclass(frozen=True, kw_only=True)
class Payment:
    id: str
    kind: PaymentKind
    method: str  # "Visa **** 4242", "Trustly", "Skrill"...
    amount: Decimal
    currency: str
    status: PaymentStatus
    # Why it failed, was cancelled or is held ("bank declined: insufficient funds").
    reason: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class Bonus:
    id: str
    name: str
    status: BonusStatus
    currency: str
    amount: Decimal
    wagering_required: Decimal
    wagering_done: Decimal
    expires_at: datetime | None
    max_bet: Decimal | None
    max_cashout: Decimal | None
    # Games counting towards wagering, in percent ("slots": 100, "table": 10).
    game_contributions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, kw_only=True)
class Document:
    kind: DocumentKind
    status: DocumentStatus
    reason: str | None  # why it was rejected


@dataclass(frozen=True, kw_only=True)
class Verification:
    status: VerificationStatus
    documents: list[Document]


@dataclass(frozen=True, kw_only=True)
class Limit:
    kind: LimitKind
    period: LimitPeriod
    amount: Decimal
    currency: str | None  # None for session minutes
    # A raised limit takes effect only after a cooling period; lowered ones at once.
    pending_amount: Decimal | None = None
    pending_from: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ResponsibleGambling:
    limits: list[Limit]
    cooling_off_until: datetime | None
    self_excluded: bool
    self_excluded_until: datetime | None  # None with self_excluded: indefinite
    # National self-exclusion registers the player is listed in ("spelpaus", "gamstop").
    national_register_hits: list[str]


@dataclass(frozen=True, kw_only=True)
class PlayerConfirmation:
    """The player's explicit consent to a protection measure, as support recorded it."""

    # The player's own words ("Yes, please block my account for 6 months").
    statement: str
    confirmed_at: datetime
    channel: str  # where they said it: web_chat, email, phone...
    ticket_number: int | None
    agent_email: str | None  # the agent who took it (None: the bot)


class BackOfficeUnavailable(Exception):
    """The back office did not answer in time, answered an error, or broke the contract:
    support shows "account data unavailable" and goes on."""


class PlayerNotFound(Exception):
    """The back office knows no such player."""


class CasinoBackend(Protocol):
    """Every call may raise BackOfficeUnavailable; lookups by id raise PlayerNotFound."""

    async def find_player(
        self,
        *,
        external_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> CasinoPlayer | None: ...

    async def balance(self, external_id: str) -> Balance: ...

    async def payments(self, external_id: str, *, limit: int = 10) -> list[Payment]:
        """Newest first, deposits and withdrawals together."""
        ...

    async def bonuses(self, external_id: str) -> list[Bonus]: ...

    async def verification(self, external_id: str) -> Verification: ...

    async def responsible_gambling(self, external_id: str) -> ResponsibleGambling: ...

    async def send_password_reset(self, external_id: str) -> None: ...

    async def set_cooling_off(
        self, external_id: str, *, until: datetime, confirmation: PlayerConfirmation
    ) -> ResponsibleGambling: ...

    async def set_self_exclusion(
        self,
        external_id: str,
        *,
        until: datetime | None,
        confirmation: PlayerConfirmation,
    ) -> ResponsibleGambling:
        """`until` None: indefinitely."""
        ...
