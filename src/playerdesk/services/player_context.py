"""The player beside a conversation: who they are (our records), their casino account (the
back office) and their earlier tickets.

The page that shows this must never wait long nor fail because of the casino: our own data is
read and the view audited in one short transaction, committed before the back office is
asked; the back office's answers are gathered concurrently under one deadline, and anything
that goes wrong there (down, slow, broken answers, an unknown player, no casino account, no
back office configured) becomes a state of the result, logged with ids only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

import structlog
from sqlalchemy import select

from playerdesk.crm.base import (
    AccountStatus,
    BackOfficeUnavailable,
    Balance,
    Bonus,
    BonusStatus,
    CasinoBackend,
    CasinoPlayer,
    Payment,
    PlayerNotFound,
    ResponsibleGambling,
    Verification,
)
from playerdesk.crm.http import ContractViolation
from playerdesk.db.models import Agent, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import NotFound
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit

log = structlog.get_logger(__name__)

T = TypeVar("T")

# The longest the page waits for the whole back-office part (each call also has the
# adapter's own timeout); the web layer derives it from the configured timeout.
DEFAULT_DEADLINE_SECONDS = 3.0
# The sidebar shows a few recent payments and tickets, not a history.
PAYMENTS_SHOWN = 5
EARLIER_TICKETS_SHOWN = 10


class AccountState(StrEnum):
    AVAILABLE = "available"  # every part of the account answered
    PARTIAL = "partial"  # some parts answered; the others are unavailable
    UNAVAILABLE = "unavailable"  # the back office is down, too slow or broke its contract
    NOT_FOUND = "not_found"  # the back office knows no player with this id
    NOT_LINKED = "not_linked"  # no casino account linked (an anonymous chat visitor)
    NOT_CONFIGURED = "not_configured"  # no back office connected to PlayerDesk


class AccountPart(StrEnum):
    PROFILE = "profile"
    BALANCE = "balance"
    PAYMENTS = "payments"
    BONUSES = "bonuses"
    VERIFICATION = "verification"
    RESPONSIBLE_GAMBLING = "responsible_gambling"


class ProtectionAlert(StrEnum):
    """What an agent must see before anything else: a player who may not be offered play."""

    SELF_EXCLUDED = "self_excluded"
    COOLING_OFF = "cooling_off"
    NATIONAL_REGISTER = "national_register"


@dataclass(frozen=True, kw_only=True)
class PlayerIdentity:
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


@dataclass(frozen=True, kw_only=True)
class EarlierTicket:
    id: int
    number: int
    subject: str
    status: str
    channel: str
    updated_at: datetime


@dataclass(frozen=True, kw_only=True)
class BonusView:
    bonus: Bonus
    # Wagering done as a fraction of what is required, 0 to 1 (1 when nothing is required).
    wagering_progress: float


@dataclass(frozen=True, kw_only=True)
class CasinoAccount:
    """The back office's answers; a part is None when it could not be had."""

    state: AccountState
    unavailable_parts: list[AccountPart]
    profile: CasinoPlayer | None = None
    balance: Balance | None = None
    payments: list[Payment] | None = None
    bonuses: list[BonusView] | None = None
    verification: Verification | None = None
    responsible_gambling: ResponsibleGambling | None = None
    cooling_off_active: bool = False


@dataclass(frozen=True, kw_only=True)
class PlayerContext:
    ticket_id: int
    player: PlayerIdentity
    account: CasinoAccount
    alerts: list[ProtectionAlert]
    earlier_tickets: list[EarlierTicket]
    more_earlier_tickets: bool
    checked_at: datetime


# --- our own records ---------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _OwnRecords:
    player: PlayerIdentity
    earlier_tickets: list[EarlierTicket]
    more_earlier_tickets: bool


async def _own_records(uow: UnitOfWork, *, ticket_id: int) -> _OwnRecords:
    row = (
        await uow.session.execute(
            select(Player, Agent.name)
            .join(Ticket, Ticket.player_id == Player.id)
            .outerjoin(Agent, Agent.id == Player.personal_manager_id)
            .where(Ticket.id == ticket_id)
        )
    ).one_or_none()
    if row is None:
        raise NotFound("no such ticket", field="ticket_id")
    player, manager_name = row
    tickets = (
        await uow.session.scalars(
            select(Ticket)
            .where(Ticket.player_id == player.id, Ticket.id != ticket_id)
            .order_by(Ticket.id.desc())
            .limit(EARLIER_TICKETS_SHOWN + 1)
        )
    ).all()
    return _OwnRecords(
        player=PlayerIdentity(
            id=player.id,
            external_id=player.external_id,
            name=player.name,
            email=player.email,
            phone=player.phone,
            language=player.language,
            country=player.country,
            vip_tier=player.vip_tier,
            personal_manager_id=player.personal_manager_id,
            personal_manager_name=manager_name,
        ),
        earlier_tickets=[
            EarlierTicket(
                id=ticket.id,
                number=ticket.number,
                subject=ticket.subject,
                status=ticket.status,
                channel=ticket.channel,
                updated_at=ticket.updated_at,
            )
            for ticket in tickets[:EARLIER_TICKETS_SHOWN]
        ],
        more_earlier_tickets=len(tickets) > EARLIER_TICKETS_SHOWN,
    )


# --- the back office ---------------------------------------------------------------------


class _Outcome(StrEnum):
    GOT = "got"
    FAILED = "failed"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class _Part(Generic[T]):
    outcome: _Outcome
    value: T | None = None


def wagering_progress(bonus: Bonus) -> float:
    if bonus.wagering_required <= 0:
        return 1.0
    fraction = bonus.wagering_done / bonus.wagering_required
    return float(min(Decimal(1), max(Decimal(0), fraction)))


def _bonus_order(view: BonusView) -> tuple[int, str]:
    # Active bonuses first: they are what a player asks about.
    return (0 if view.bonus.status is BonusStatus.ACTIVE else 1, view.bonus.id)


async def _fetch_account(
    backend: CasinoBackend,
    *,
    external_id: str,
    deadline_seconds: float,
    now: datetime,
    log_ids: dict[str, object],
) -> CasinoAccount:
    deadline = asyncio.get_running_loop().time() + deadline_seconds

    async def part(name: AccountPart, call: Callable[[], Awaitable[T]]) -> _Part[T]:
        try:
            async with asyncio.timeout_at(deadline):
                return _Part(_Outcome.GOT, await call())
        except PlayerNotFound:
            return _Part(_Outcome.NOT_FOUND)
        except TimeoutError:
            problem = "deadline passed"
        except (BackOfficeUnavailable, ContractViolation) as error:
            # The adapter has logged what went wrong (fields, statuses: never values).
            problem = type(error).__name__
        except Exception as error:  # a back office of another make must not break the page
            problem = f"unexpected {type(error).__name__}"
        log.warning(
            "player_context.account_part_unavailable", part=name.value, problem=problem, **log_ids
        )
        return _Part(_Outcome.FAILED)

    async def profile() -> CasinoPlayer:
        found = await backend.find_player(external_id=external_id)
        if found is None:
            raise PlayerNotFound()
        return found

    (
        got_profile,
        got_balance,
        got_payments,
        got_bonuses,
        got_verification,
        got_protection,
    ) = await asyncio.gather(
        part(AccountPart.PROFILE, profile),
        part(AccountPart.BALANCE, lambda: backend.balance(external_id)),
        part(AccountPart.PAYMENTS, lambda: backend.payments(external_id, limit=PAYMENTS_SHOWN)),
        part(AccountPart.BONUSES, lambda: backend.bonuses(external_id)),
        part(AccountPart.VERIFICATION, lambda: backend.verification(external_id)),
        part(AccountPart.RESPONSIBLE_GAMBLING, lambda: backend.responsible_gambling(external_id)),
    )
    outcomes: dict[AccountPart, _Outcome] = {
        AccountPart.PROFILE: got_profile.outcome,
        AccountPart.BALANCE: got_balance.outcome,
        AccountPart.PAYMENTS: got_payments.outcome,
        AccountPart.BONUSES: got_bonuses.outcome,
        AccountPart.VERIFICATION: got_verification.outcome,
        AccountPart.RESPONSIBLE_GAMBLING: got_protection.outcome,
    }
    if _Outcome.NOT_FOUND in outcomes.values():
        log.info("player_context.account_not_found", **log_ids)
        return CasinoAccount(state=AccountState.NOT_FOUND, unavailable_parts=[])
    failed = [name for name, outcome in outcomes.items() if outcome is _Outcome.FAILED]
    if len(failed) == len(outcomes):
        return CasinoAccount(state=AccountState.UNAVAILABLE, unavailable_parts=failed)
    protection = got_protection.value
    bonuses = got_bonuses.value
    return CasinoAccount(
        state=AccountState.PARTIAL if failed else AccountState.AVAILABLE,
        unavailable_parts=failed,
        profile=got_profile.value,
        balance=got_balance.value,
        payments=None if got_payments.value is None else got_payments.value[:PAYMENTS_SHOWN],
        bonuses=None
        if bonuses is None
        else sorted(
            (
                BonusView(bonus=bonus, wagering_progress=wagering_progress(bonus))
                for bonus in bonuses
            ),
            key=_bonus_order,
        ),
        verification=got_verification.value,
        responsible_gambling=protection,
        cooling_off_active=protection is not None
        and protection.cooling_off_until is not None
        and protection.cooling_off_until > now,
    )


def protection_alerts(account: CasinoAccount) -> list[ProtectionAlert]:
    """The flags to show first. A back office marks an account "self_excluded" both for the
    casino's own exclusion and for a national register hit: the register is named as such."""
    alerts: list[ProtectionAlert] = []
    protection = account.responsible_gambling
    profile = account.profile
    if (protection is not None and protection.self_excluded) or (
        profile is not None
        and profile.status is AccountStatus.SELF_EXCLUDED
        and not (protection is not None and protection.national_register_hits)
    ):
        alerts.append(ProtectionAlert.SELF_EXCLUDED)
    if account.cooling_off_active:
        alerts.append(ProtectionAlert.COOLING_OFF)
    if protection is not None and protection.national_register_hits:
        alerts.append(ProtectionAlert.NATIONAL_REGISTER)
    return alerts


# --- the use case ------------------------------------------------------------------------


async def view_player_context(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    backend: CasinoBackend | None,
    deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
) -> PlayerContext:
    """Everything an agent needs about the player of a ticket; an audited personal-data read.

    Raises only for the caller's own mistakes (no permission, no such ticket): whatever the
    back office does is a state of `account`.
    """
    actor.require(Permission.ACCOUNTS_READ)
    actor.require(Permission.PLAYERS_READ)
    if deadline_seconds <= 0:
        raise ValueError("deadline_seconds must be positive")
    records = await _own_records(uow, ticket_id=ticket_id)
    player = records.player
    ask_back_office = backend is not None and player.external_id is not None
    audit.record(
        uow,
        actor=actor,
        action="player.viewed",
        entity_type="player",
        entity_id=player.id,
        details={"ticket_id": ticket_id, "casino_account": ask_back_office},
    )
    # Committed before the back office is asked: no transaction (nor, on SQLite, the write
    # lock) is held while we wait for another system.
    await uow.commit()
    now = uow.clock.now()

    log_ids: dict[str, object] = {"ticket_id": ticket_id, "player_id": player.id}
    if backend is None:
        account = CasinoAccount(state=AccountState.NOT_CONFIGURED, unavailable_parts=[])
    elif player.external_id is None:
        account = CasinoAccount(state=AccountState.NOT_LINKED, unavailable_parts=[])
    else:
        account = await _fetch_account(
            backend,
            external_id=player.external_id,
            deadline_seconds=deadline_seconds,
            now=now,
            log_ids=log_ids,
        )
        if account.state is AccountState.UNAVAILABLE:
            log.warning("player_context.account_unavailable", **log_ids)
    return PlayerContext(
        ticket_id=ticket_id,
        player=player,
        account=account,
        alerts=protection_alerts(account),
        earlier_tickets=records.earlier_tickets,
        more_earlier_tickets=records.more_earlier_tickets,
        checked_at=now,
    )
