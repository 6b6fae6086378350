"""The player beside a conversation: our records, the casino account and earlier tickets.

Amounts are decimal strings ("250.00"), as in the back office's contract."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, Field

from playerdesk.crm.base import (
    AccountStatus,
    BonusStatus,
    DocumentKind,
    DocumentStatus,
    LimitKind,
    LimitPeriod,
    PaymentKind,
    PaymentStatus,
    VerificationStatus,
)
from playerdesk.services.player_context import (
    AccountPart,
    AccountState,
    BonusView,
    CasinoAccount,
    PlayerContext,
    ProtectionAlert,
)
from playerdesk.web.schemas.common import ResponseModel


class PlayerIdentityOut(ResponseModel):
    """What PlayerDesk itself knows of the player."""

    id: int
    external_id: str | None
    name: str | None
    email: str | None
    phone: str | None
    language: str
    country: str | None
    vip_tier: str | None
    personal_manager_id: int | None
    personal_manager_name: str | None


class CasinoProfileOut(ResponseModel):
    external_id: str
    name: str
    email: str | None
    phone: str | None
    status: AccountStatus
    country: str
    language: str
    registered_at: datetime
    vip_tier: str | None
    personal_manager: str | None = Field(description="the personal manager's email address")


class BalanceOut(ResponseModel):
    currency: str
    real_money: Decimal
    bonus_money: Decimal
    withdrawable: Decimal


class PaymentOut(ResponseModel):
    id: str
    kind: PaymentKind
    method: str
    amount: Decimal
    currency: str
    status: PaymentStatus
    reason: str | None
    created_at: datetime
    updated_at: datetime


class BonusOut(ResponseModel):
    id: str
    name: str
    status: BonusStatus
    currency: str
    amount: Decimal
    wagering_required: Decimal
    wagering_done: Decimal
    wagering_progress: float = Field(ge=0, le=1, description="wagering done / required, 0 to 1")
    expires_at: datetime | None
    max_bet: Decimal | None
    max_cashout: Decimal | None
    game_contributions: dict[str, int]

    @classmethod
    def of(cls, view: BonusView) -> BonusOut:
        bonus = view.bonus
        return cls(
            id=bonus.id,
            name=bonus.name,
            status=bonus.status,
            currency=bonus.currency,
            amount=bonus.amount,
            wagering_required=bonus.wagering_required,
            wagering_done=bonus.wagering_done,
            wagering_progress=view.wagering_progress,
            expires_at=bonus.expires_at,
            max_bet=bonus.max_bet,
            max_cashout=bonus.max_cashout,
            game_contributions=dict(bonus.game_contributions),
        )


class DocumentOut(ResponseModel):
    kind: DocumentKind
    status: DocumentStatus
    reason: str | None


class VerificationOut(ResponseModel):
    status: VerificationStatus
    documents: list[DocumentOut]


class LimitOut(ResponseModel):
    kind: LimitKind
    period: LimitPeriod
    amount: Decimal
    currency: str | None
    pending_amount: Decimal | None
    pending_from: datetime | None


class ResponsibleGamblingOut(ResponseModel):
    limits: list[LimitOut]
    cooling_off_until: datetime | None
    cooling_off_active: bool
    self_excluded: bool
    self_excluded_until: datetime | None
    national_register_hits: list[str]


class CasinoAccountOut(BaseModel):
    state: AccountState = Field(
        description="available; partial (see unavailable_parts); unavailable (the back office "
        "is down, too slow or broke its contract); not_found; not_linked (no casino id); "
        "not_configured (no back office connected)"
    )
    unavailable_parts: list[AccountPart]
    profile: CasinoProfileOut | None
    balance: BalanceOut | None
    payments: list[PaymentOut] | None = Field(description="newest first")
    bonuses: list[BonusOut] | None = Field(description="active first")
    verification: VerificationOut | None
    responsible_gambling: ResponsibleGamblingOut | None

    @classmethod
    def of(cls, account: CasinoAccount) -> CasinoAccountOut:
        protection = account.responsible_gambling
        return cls(
            state=account.state,
            unavailable_parts=account.unavailable_parts,
            profile=None
            if account.profile is None
            else CasinoProfileOut.model_validate(account.profile),
            balance=None if account.balance is None else BalanceOut.model_validate(account.balance),
            payments=None
            if account.payments is None
            else [PaymentOut.model_validate(payment) for payment in account.payments],
            bonuses=None
            if account.bonuses is None
            else [BonusOut.of(view) for view in account.bonuses],
            verification=None
            if account.verification is None
            else VerificationOut.model_validate(account.verification),
            responsible_gambling=None
            if protection is None
            else ResponsibleGamblingOut(
                limits=[LimitOut.model_validate(limit) for limit in protection.limits],
                cooling_off_until=protection.cooling_off_until,
                cooling_off_active=account.cooling_off_active,
                self_excluded=protection.self_excluded,
                self_excluded_until=protection.self_excluded_until,
                national_register_hits=protection.national_register_hits,
            ),
        )


class EarlierTicketOut(ResponseModel):
    id: int
    number: int
    subject: str
    status: str
    channel: str
    updated_at: datetime


class PlayerContextOut(BaseModel):
    ticket_id: int
    player: PlayerIdentityOut
    account: CasinoAccountOut
    alerts: list[ProtectionAlert] = Field(
        description="protection flags to show first: self_excluded, cooling_off, national_register"
    )
    earlier_tickets: list[EarlierTicketOut] = Field(description="newest first")
    more_earlier_tickets: bool
    checked_at: datetime

    @classmethod
    def of(cls, context: PlayerContext) -> PlayerContextOut:
        return cls(
            ticket_id=context.ticket_id,
            player=PlayerIdentityOut.model_validate(context.player),
            account=CasinoAccountOut.of(context.account),
            alerts=context.alerts,
            earlier_tickets=[
                EarlierTicketOut.model_validate(ticket) for ticket in context.earlier_tickets
            ],
            more_earlier_tickets=context.more_earlier_tickets,
            checked_at=context.checked_at,
        )
