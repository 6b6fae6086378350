"""The player context beside a conversation, against the demo back office over real HTTP
(uvicorn on a loopback port): the account as it is, and every way the back office can fail
without the page failing."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import structlog
from sqlalchemy import select

from playerdesk.clock import FrozenClock
from playerdesk.crm.base import (
    Balance,
    Bonus,
    BonusStatus,
    CasinoPlayer,
    DocumentKind,
    DocumentStatus,
    Payment,
    PaymentKind,
    PaymentStatus,
    ResponsibleGambling,
    Verification,
    VerificationStatus,
)
from playerdesk.crm.http import HttpCasinoBackend
from playerdesk.db.models import AuditEntry, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain import permissions
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.errors import NotFound, PermissionDenied
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.runtime import Runtime
from playerdesk.services import player_context as service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.player_context import (
    AccountPart,
    AccountState,
    PlayerContext,
    ProtectionAlert,
)
from playerdesk.services.players import PlayerFields
from tests.casino_backoffice import DemoCasino, closed_port_url, http_backend
from tests.conftest import START, AgentFactory

MID_WAGERING = "204117"  # James Whitfield: a welcome bonus a third wagered
HELD_WITHDRAWAL = "290677"  # Priya Shah: €2,500 held for a source-of-funds check
COOLING_OFF = "281093"  # Johan Lund: a 7-day break taken this morning
SELF_EXCLUDED = "401509"  # Paweł Lewandowski: self-excluded with the casino
SPELPAUS = "401122"  # Oskar Lindqvist: listed in the Swedish national register
DOCUMENTS_REJECTED = "401846"  # Connor Doyle: selfie, address and card photo refused
UNKNOWN = "999999"

PERSONAL_DATA = ("James", "Whitfield", "james.whitfield@example.com", "Priya", "Shah")


async def open_ticket(
    runtime: Runtime,
    *,
    external_id: str | None,
    subject: str = "Where is my withdrawal?",
    name: str = "James Whitfield",
    manager_id: int | None = None,
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.WEB_CHAT if external_id else Channel.EMAIL,
                subject=subject,
                body="Hello, I need help.",
                player_external_id=external_id,
                player=PlayerFields(
                    name=name,
                    email=None if external_id else "visitor@example.test",
                    language="en",
                    country="GB",
                    vip_tier="silver",
                    personal_manager_id=manager_id,
                ),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def view(
    runtime: Runtime,
    actor: Actor,
    ticket: Ticket,
    backend: Any,
    *,
    deadline_seconds: float = 5.0,
) -> PlayerContext:
    async with runtime.uow() as uow:
        return await service.view_player_context(
            uow,
            actor=actor,
            ticket_id=ticket.id,
            backend=backend,
            deadline_seconds=deadline_seconds,
        )


async def viewed_rows(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        query = select(AuditEntry).where(AuditEntry.action == "player.viewed")
        return list((await uow.session.scalars(query.order_by(AuditEntry.id))).all())


# The account as the back office tells it --------------------------------------------------


async def test_the_whole_account_with_our_records_and_an_audit_entry(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    manager = await make_agent(AgentRole.SENIOR)
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING, manager_id=manager.id)

    context = await view(runtime, agent.actor, ticket, backend)

    assert context.ticket_id == ticket.id
    player = context.player
    assert (player.external_id, player.name, player.language, player.country) == (
        MID_WAGERING,
        "James Whitfield",
        "en",
        "GB",
    )
    assert (player.vip_tier, player.personal_manager_name) == ("silver", "Senior 1")

    account = context.account
    assert account.state is AccountState.AVAILABLE
    assert account.unavailable_parts == []
    assert account.profile is not None and account.profile.external_id == MID_WAGERING
    assert account.balance is not None
    assert (account.balance.currency, account.balance.real_money) == ("GBP", Decimal("12.40"))
    assert account.payments is not None and account.payments[0].kind is PaymentKind.DEPOSIT
    assert account.bonuses is not None
    [bonus] = account.bonuses
    assert bonus.bonus.status is BonusStatus.ACTIVE
    assert bonus.wagering_progress == pytest.approx(1265.50 / 3500)
    assert bonus.bonus.max_bet == Decimal("5.00")
    assert bonus.bonus.expires_at is not None and bonus.bonus.expires_at > START
    assert account.verification is not None
    assert account.verification.status is VerificationStatus.VERIFIED
    assert account.responsible_gambling is not None
    assert context.alerts == []
    assert context.checked_at == START

    [entry] = await viewed_rows(runtime)
    assert (entry.actor_agent_id, entry.entity_type, entry.entity_id) == (
        agent.id,
        "player",
        str(player.id),
    )
    assert entry.details == {"ticket_id": ticket.id, "casino_account": True}


async def test_a_held_withdrawal_shows_with_its_reason_and_the_pending_document(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=HELD_WITHDRAWAL, name="Priya Shah")

    account = (await view(runtime, agent.actor, ticket, backend)).account

    assert account.payments is not None
    newest = account.payments[0]
    assert (newest.kind, newest.status, newest.amount) == (
        PaymentKind.WITHDRAWAL,
        PaymentStatus.PENDING,
        Decimal("2500.00"),
    )
    assert newest.reason is not None and "source-of-funds" in newest.reason
    # Newest first, and no more than the sidebar shows.
    assert [p.created_at for p in account.payments] == sorted(
        (p.created_at for p in account.payments), reverse=True
    )
    assert len(account.payments) <= service.PAYMENTS_SHOWN
    assert account.verification is not None
    assert account.verification.status is VerificationStatus.PENDING
    waiting = [d for d in account.verification.documents if d.status is not DocumentStatus.APPROVED]
    assert [(d.kind, d.status) for d in waiting] == [
        (DocumentKind.SOURCE_OF_FUNDS, DocumentStatus.PENDING)
    ]


async def test_rejected_documents_come_with_why(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=DOCUMENTS_REJECTED, name="Connor Doyle")

    account = (await view(runtime, agent.actor, ticket, backend)).account

    assert account.verification is not None
    assert account.verification.status is VerificationStatus.REJECTED
    rejected = {
        d.kind: d.reason
        for d in account.verification.documents
        if d.status is DocumentStatus.REJECTED
    }
    assert set(rejected) == {
        DocumentKind.SELFIE,
        DocumentKind.PROOF_OF_ADDRESS,
        DocumentKind.PAYMENT_METHOD,
    }
    assert rejected[DocumentKind.SELFIE] == "face not visible: the photo is too dark"
    assert account.payments is not None
    assert {p.status for p in account.payments} >= {PaymentStatus.FAILED, PaymentStatus.CANCELLED}


@pytest.mark.parametrize(
    ("external_id", "alerts"),
    [
        pytest.param(COOLING_OFF, [ProtectionAlert.COOLING_OFF], id="cooling-off"),
        pytest.param(SELF_EXCLUDED, [ProtectionAlert.SELF_EXCLUDED], id="self-excluded"),
        # The account is closed to play because of the register, not a casino exclusion.
        pytest.param(SPELPAUS, [ProtectionAlert.NATIONAL_REGISTER], id="spelpaus"),
        pytest.param(MID_WAGERING, [], id="none"),
    ],
)
async def test_protection_flags_are_raised_as_alerts(
    runtime: Runtime,
    make_agent: AgentFactory,
    backend: HttpCasinoBackend,
    external_id: str,
    alerts: list[ProtectionAlert],
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=external_id)

    context = await view(runtime, agent.actor, ticket, backend)

    assert context.alerts == alerts
    protection = context.account.responsible_gambling
    assert protection is not None
    assert context.account.cooling_off_active is (ProtectionAlert.COOLING_OFF in alerts)
    if external_id == SPELPAUS:
        assert protection.national_register_hits == ["spelpaus"]


async def test_a_cooling_off_that_has_ended_is_no_alert(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend, clock: FrozenClock
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=COOLING_OFF)
    clock.advance(timedelta(days=8))

    context = await view(runtime, agent.actor, ticket, backend)

    assert context.alerts == []
    assert context.account.responsible_gambling is not None
    assert context.account.responsible_gambling.cooling_off_until is not None


# States that are not an account ------------------------------------------------------------


async def test_a_player_the_casino_does_not_know(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=UNKNOWN)
    with structlog.testing.capture_logs() as logs:
        context = await view(runtime, agent.actor, ticket, backend)
    assert context.account.state is AccountState.NOT_FOUND
    assert context.account.balance is None and context.alerts == []
    assert any(entry["event"] == "player_context.account_not_found" for entry in logs)
    # The breaker counts a clear "no such player" as the back office working.
    assert backend.breaker.state == "closed"


async def test_an_anonymous_visitor_is_not_linked_and_the_back_office_is_not_asked(
    runtime: Runtime, make_agent: AgentFactory, casino: DemoCasino
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=None, name="Visitor")
    counting = CountingBackend(http_backend(casino.base_url))
    try:
        context = await view(runtime, agent.actor, ticket, counting)
    finally:
        await counting.inner.close()
    assert context.account.state is AccountState.NOT_LINKED
    assert counting.calls == []
    assert context.player.external_id is None and context.player.name == "Visitor"
    [entry] = await viewed_rows(runtime)
    assert entry.details == {"ticket_id": ticket.id, "casino_account": False}


async def test_without_a_back_office_our_own_records_still_show(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    context = await view(runtime, agent.actor, ticket, None)
    assert context.account.state is AccountState.NOT_CONFIGURED
    assert context.player.name == "James Whitfield"
    assert len(await viewed_rows(runtime)) == 1


# The back office failing -------------------------------------------------------------------


def assert_unavailable(context: PlayerContext) -> None:
    account = context.account
    assert account.state is AccountState.UNAVAILABLE
    assert set(account.unavailable_parts) == set(AccountPart)
    assert account.profile is None and account.balance is None and account.payments is None
    assert context.alerts == []
    # Our own records are there all the same.
    assert context.player.name == "James Whitfield"


def assert_logged_with_ids_only(logs: list[dict[str, Any]], *, ticket: Ticket) -> None:
    ours = [entry for entry in logs if entry["event"].startswith("player_context.")]
    assert any(entry["event"] == "player_context.account_unavailable" for entry in ours)
    for entry in ours:
        assert entry["ticket_id"] == ticket.id and entry["player_id"] == ticket.player_id
    for entry in logs:
        text = repr(entry)
        assert not any(value in text for value in PERSONAL_DATA), text


async def test_back_office_down_connection_refused(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    with structlog.testing.capture_logs() as logs:
        async with http_backend(closed_port_url()) as down:
            context = await view(runtime, agent.actor, ticket, down)
    assert_unavailable(context)
    assert_logged_with_ids_only(logs, ticket=ticket)
    # The view was audited even though the account could not be shown.
    assert len(await viewed_rows(runtime)) == 1


@pytest.mark.parametrize(
    ("adapter_timeout", "deadline"),
    [
        pytest.param(0.2, 5.0, id="each-call-times-out"),
        pytest.param(10.0, 0.3, id="the-total-deadline-passes"),
    ],
)
async def test_back_office_too_slow(
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    adapter_timeout: float,
    deadline: float,
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    casino.faults.delay_seconds = 1.5
    with structlog.testing.capture_logs() as logs:
        async with http_backend(casino.base_url, timeout_seconds=adapter_timeout) as slow:
            context = await view(runtime, agent.actor, ticket, slow, deadline_seconds=deadline)
    assert_unavailable(context)
    assert_logged_with_ids_only(logs, ticket=ticket)


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param({"fail_status": 503}, id="5xx"),
        pytest.param({"fail_status": 500}, id="500"),
        pytest.param({"malformed": True}, id="malformed-json"),
    ],
)
async def test_back_office_errors(
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    backend: HttpCasinoBackend,
    fault: dict[str, Any],
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    for name, value in fault.items():
        setattr(casino.faults, name, value)
    with structlog.testing.capture_logs() as logs:
        context = await view(runtime, agent.actor, ticket, backend)
    assert_unavailable(context)
    assert_logged_with_ids_only(logs, ticket=ticket)


async def test_answers_off_the_contract_are_unavailable(
    runtime: Runtime, make_agent: AgentFactory, casino: DemoCasino, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    casino.breaker.everything = True
    with structlog.testing.capture_logs() as logs:
        context = await view(runtime, agent.actor, ticket, backend)
    assert_unavailable(context)
    assert any(entry["event"] == "casino_api.contract_violation" for entry in logs)
    assert_logged_with_ids_only(logs, ticket=ticket)


async def test_one_broken_part_leaves_the_rest_showing(
    runtime: Runtime, make_agent: AgentFactory, casino: DemoCasino, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    casino.breaker.suffixes = {"/bonuses"}
    casino.breaker.body = {"bonuses": [{"id": "B-1", "wagering_done": "lots"}]}

    context = await view(runtime, agent.actor, ticket, backend)

    account = context.account
    assert account.state is AccountState.PARTIAL
    assert account.unavailable_parts == [AccountPart.BONUSES]
    assert account.bonuses is None
    assert account.balance is not None and account.balance.real_money == Decimal("12.40")
    assert account.profile is not None and account.verification is not None


async def test_an_open_circuit_answers_unavailable_at_once(
    runtime: Runtime, make_agent: AgentFactory, casino: DemoCasino
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    casino.faults.fail_status = 503
    async with http_backend(casino.base_url, breaker_failures=3) as breaking:
        first = await view(runtime, agent.actor, ticket, breaking)
        assert breaking.breaker.state == "open"
        casino.faults.fail_status = None  # back again, but the circuit is open for a while
        counting = CountingBackend(breaking)
        second = await view(runtime, agent.actor, ticket, counting)
    assert_unavailable(first)
    assert_unavailable(second)
    assert len(counting.calls) == len(AccountPart)


# How the back office is asked ---------------------------------------------------------------


async def test_the_back_office_is_asked_concurrently_with_no_transaction_open(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    """Each call waits at a barrier until all six have started: asked one after another, the
    first would wait past the deadline. And while they wait, the use case's transaction is
    committed: on SQLite another writer gets the lock at once."""
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    async with runtime.uow() as uow:
        barrier = BarrierBackend(backend, parties=len(AccountPart), uow=uow, runtime=runtime)
        context = await service.view_player_context(
            uow, actor=agent.actor, ticket_id=ticket.id, backend=barrier, deadline_seconds=5.0
        )
    assert context.account.state is AccountState.AVAILABLE
    assert barrier.in_transaction == [False] * len(AccountPart)
    assert barrier.wrote == len(AccountPart)


# Permissions and our own records ------------------------------------------------------------


async def test_without_accounts_read_nothing_is_read_or_audited(
    runtime: Runtime,
    make_agent: AgentFactory,
    casino: DemoCasino,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    limited = permissions.ROLE_PERMISSIONS[AgentRole.AGENT] - {Permission.ACCOUNTS_READ}
    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, AgentRole.AGENT, limited)
    counting = CountingBackend(http_backend(casino.base_url))
    try:
        with pytest.raises(PermissionDenied):
            await view(runtime, agent.actor, ticket, counting)
    finally:
        await counting.inner.close()
    assert counting.calls == []
    assert await viewed_rows(runtime) == []


async def test_an_unknown_ticket_is_not_found(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await service.view_player_context(
                uow, actor=agent.actor, ticket_id=424242, backend=backend
            )
    assert await viewed_rows(runtime) == []


async def test_earlier_tickets_newest_first_bounded_and_only_this_players(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    shown = service.EARLIER_TICKETS_SHOWN
    earlier = [
        await open_ticket(runtime, external_id=MID_WAGERING, subject=f"Question {number}")
        for number in range(shown + 1)
    ]
    await open_ticket(runtime, external_id=HELD_WITHDRAWAL, subject="Someone else's")
    current = await open_ticket(runtime, external_id=MID_WAGERING, subject="Now")

    context = await view(runtime, agent.actor, current, None)

    assert [t.subject for t in context.earlier_tickets] == [
        f"Question {number}" for number in range(shown, 0, -1)
    ]
    assert context.more_earlier_tickets is True
    first = context.earlier_tickets[0]
    newest = earlier[-1]
    assert (first.id, first.number, first.status, first.channel) == (
        newest.id,
        newest.number,
        newest.status,
        newest.channel,
    )
    assert first.updated_at == newest.updated_at

    alone = await view(runtime, agent.actor, earlier[0], None)
    assert len(alone.earlier_tickets) == shown
    assert all(t.id != earlier[0].id for t in alone.earlier_tickets)


async def test_a_first_ticket_has_no_earlier_ones(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, external_id=MID_WAGERING)
    context = await view(runtime, agent.actor, ticket, None)
    assert context.earlier_tickets == [] and context.more_earlier_tickets is False


def test_wagering_progress_is_a_fraction_within_bounds() -> None:
    def bonus(required: str, done: str) -> Bonus:
        return Bonus(
            id="b",
            name="b",
            status=BonusStatus.ACTIVE,
            currency="EUR",
            amount=Decimal("10"),
            wagering_required=Decimal(required),
            wagering_done=Decimal(done),
            expires_at=None,
            max_bet=None,
            max_cashout=None,
        )

    assert service.wagering_progress(bonus("3500.00", "1750.00")) == 0.5
    assert service.wagering_progress(bonus("0.00", "0.00")) == 1.0
    assert service.wagering_progress(bonus("100.00", "250.00")) == 1.0


# Test doubles around the real HTTP backend ---------------------------------------------------


class CountingBackend:
    """Delegates to a real backend and records which reads were made."""

    def __init__(self, inner: HttpCasinoBackend) -> None:
        self.inner = inner
        self.calls: list[str] = []

    async def find_player(self, **lookup: str | None) -> CasinoPlayer | None:
        self.calls.append("find_player")
        return await self.inner.find_player(**lookup)

    async def balance(self, external_id: str) -> Balance:
        self.calls.append("balance")
        return await self.inner.balance(external_id)

    async def payments(self, external_id: str, *, limit: int = 10) -> list[Payment]:
        self.calls.append("payments")
        return await self.inner.payments(external_id, limit=limit)

    async def bonuses(self, external_id: str) -> list[Bonus]:
        self.calls.append("bonuses")
        return await self.inner.bonuses(external_id)

    async def verification(self, external_id: str) -> Verification:
        self.calls.append("verification")
        return await self.inner.verification(external_id)

    async def responsible_gambling(self, external_id: str) -> ResponsibleGambling:
        self.calls.append("responsible_gambling")
        return await self.inner.responsible_gambling(external_id)


class BarrierBackend(CountingBackend):
    """Every read first notes whether the use case's transaction is open, writes in a
    transaction of its own, and waits until all `parties` reads have started."""

    def __init__(
        self, inner: HttpCasinoBackend, *, parties: int, uow: UnitOfWork, runtime: Runtime
    ) -> None:
        super().__init__(inner)
        self.parties = parties
        self.started = 0
        self.all_started = asyncio.Event()
        self.uow = uow
        self.runtime = runtime
        self.in_transaction: list[bool] = []
        self.wrote = 0

    async def _arrive(self) -> None:
        self.in_transaction.append(self.uow.session.in_transaction())
        async with self.runtime.uow() as other:
            other.session.add(
                AuditEntry(
                    at=datetime.now().astimezone(),
                    actor_agent_id=None,
                    actor_method="system",
                    actor_token_id=None,
                    ip=None,
                    action="test.write",
                    entity_type="test",
                    entity_id=None,
                    details={},
                )
            )
            await other.commit()
        self.wrote += 1
        self.started += 1
        if self.started == self.parties:
            self.all_started.set()
        await self.all_started.wait()

    async def find_player(self, **lookup: str | None) -> CasinoPlayer | None:
        await self._arrive()
        return await super().find_player(**lookup)

    async def balance(self, external_id: str) -> Balance:
        await self._arrive()
        return await super().balance(external_id)

    async def payments(self, external_id: str, *, limit: int = 10) -> list[Payment]:
        await self._arrive()
        return await super().payments(external_id, limit=limit)

    async def bonuses(self, external_id: str) -> list[Bonus]:
        await self._arrive()
        return await super().bonuses(external_id)

    async def verification(self, external_id: str) -> Verification:
        await self._arrive()
        return await super().verification(external_id)

    async def responsible_gambling(self, external_id: str) -> ResponsibleGambling:
        await self._arrive()
        return await super().responsible_gambling(external_id)
