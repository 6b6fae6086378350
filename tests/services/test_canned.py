"""Canned replies and macros on real persistence: writing them (checks, permissions, team
scope, one per shortcut and language), finding them with the language fallback, filling them
for a ticket from the demo back office over real HTTP (and without it), and sending them:
a macro's reply and actions in one transaction, never a text with a placeholder left."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from playerdesk.crm.http import HttpCasinoBackend
from playerdesk.db.models import AuditEntry, CannedReply, Message, Ticket
from playerdesk.demo_canned import REPLIES, seed_canned_replies
from playerdesk.domain.enums import AgentRole, Channel, MessageKind, Priority, TicketStatus
from playerdesk.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from playerdesk.domain.permissions import Actor
from playerdesk.domain.placeholders import PlaceholderError
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies
from playerdesk.services import agents as agent_service
from playerdesk.services import canned as service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.canned import CannedQuery, CannedReplyInput
from playerdesk.services.players import PlayerFields
from tests.casino_backoffice import DemoCasino, closed_port_url, http_backend
from tests.conftest import START, AgentFactory, AgentLogin, RecordingBus

HELD_WITHDRAWAL = "290677"  # Priya Shah: €2,500 by Skrill, pending a source-of-funds check
MID_WAGERING = "204117"  # James Whitfield: welcome bonus, £1,265.50 of £3,500 wagered
DOCUMENTS_REJECTED = "401846"  # Connor Doyle: selfie, address and card photo refused

WITHDRAWAL_TEMPLATE = (
    "Hi {{player.first_name}}, your withdrawal of {{withdrawal.last.amount}} by "
    "{{withdrawal.last.method}} is {{withdrawal.last.status}}. {{agent.first_name}}"
)


def languages(runtime: Runtime) -> service.CannedLanguages:
    return service.CannedLanguages(
        supported=runtime.policies.players.languages,
        default=runtime.policies.players.default_language,
    )


def policies(runtime: Runtime) -> service.SendPolicies:
    return service.SendPolicies(
        limits=runtime.policies.messages,
        routing=runtime.policies.routing,
        mail=runtime.policies.mail,
        languages=languages(runtime),
    )


def reply_input(**overrides: Any) -> CannedReplyInput:
    values: dict[str, Any] = {
        "shortcut": "withdrawal-pending",
        "language": "en",
        "title": "Withdrawal pending",
        "body": WITHDRAWAL_TEMPLATE,
    }
    values.update(overrides)
    return CannedReplyInput(**values)


async def create(runtime: Runtime, actor: Actor, **overrides: Any) -> CannedReply:
    async with runtime.uow() as uow:
        return await service.create_canned_reply(
            uow, actor=actor, reply=reply_input(**overrides), languages=languages(runtime)
        )


async def open_ticket(
    runtime: Runtime,
    *,
    external_id: str | None = HELD_WITHDRAWAL,
    name: str = "Priya Shah",
    language: str = "en",
    team_id: int | None = None,
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.EMAIL,
                subject="Where is my withdrawal?",
                body="I asked for my money five days ago.",
                player_external_id=external_id,
                player=PlayerFields(
                    name=name, email=f"{external_id or 'visitor'}@example.test", language=language
                ),
                language=language,
                team_id=team_id,
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def make_team(runtime: Runtime, name: str) -> int:
    async with runtime.uow() as uow:
        team = await agent_service.create_team(uow, actor=Actor.system(), name=name)
    return team.id


async def preview(
    runtime: Runtime, actor: Actor, ticket: Ticket, backend: Any, **which: Any
) -> service.CannedPreview:
    async with runtime.uow() as uow:
        return await service.preview_canned_reply(
            uow,
            actor=actor,
            ticket_id=ticket.id,
            backend=backend,
            default_language=runtime.policies.players.default_language,
            **which,
        )


async def apply(
    runtime: Runtime,
    actor: Actor,
    ticket: Ticket,
    reply: CannedReply,
    *,
    body: str | None,
    backend: Any = None,
    client_msg_id: str | None = None,
) -> service.AppliedCannedReply:
    async with runtime.uow() as uow:
        return await service.apply_canned_reply(
            uow,
            actor=actor,
            ticket_id=ticket.id,
            canned_id=reply.id,
            body=body,
            client_msg_id=client_msg_id,
            backend=backend,
            policies=policies(runtime),
        )


async def stored(runtime: Runtime, canned_id: int) -> CannedReply:
    async with runtime.uow() as uow:
        row = await uow.session.get(CannedReply, canned_id)
        assert row is not None
        return row


async def replies_on(runtime: Runtime, ticket: Ticket) -> list[Message]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message)
            .where(Message.ticket_id == ticket.id, Message.author_kind == "agent")
            .order_by(Message.id)
        )
        return list(rows.all())


async def audit_actions(runtime: Runtime) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        return list(rows.all())


@pytest.fixture
async def supervisor(make_agent: AgentFactory) -> AgentLogin:
    return await make_agent(AgentRole.SUPERVISOR)


# Writing replies and macros --------------------------------------------------------------


async def test_create_normalises_the_shortcut_and_audits(
    runtime: Runtime, supervisor: AgentLogin
) -> None:
    row = await create(runtime, supervisor.actor, shortcut=" /Withdrawal-Pending ", title="  A  b ")
    assert (row.shortcut, row.title, row.usage_count, row.is_macro) == (
        "withdrawal-pending",
        "A b",
        0,
        False,
    )
    assert row.created_by_agent_id == supervisor.id
    assert row.created_at == START
    assert "canned_reply.created" in await audit_actions(runtime)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"shortcut": "withdrawal pending"}, "shortcut"),
        ({"shortcut": "Ąbc"}, "shortcut"),
        ({"shortcut": "-leading"}, "shortcut"),
        ({"shortcut": "a" * 51}, "shortcut"),
        ({"shortcut": "/"}, "shortcut"),
        ({"language": "de"}, "language"),
        ({"title": "   "}, "title"),
        ({"body": "  "}, "body"),
        ({"body": "Hi {{player.nickname}}"}, "body"),
        ({"body": "Hi {{player.first_name"}, "body"),
        ({"body": "x" * 5001}, "body"),
        ({"team_id": 999}, "team_id"),
        ({"move_to_team_id": 999}, "move_to_team_id"),
        ({"set_status": TicketStatus.NEW}, "set_status"),
        ({"set_status": TicketStatus.CLOSED}, "set_status"),
        ({"add_tags": ["two words"]}, "add_tags"),
    ],
)
async def test_a_reply_is_checked_when_saved(
    runtime: Runtime, supervisor: AgentLogin, overrides: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await create(runtime, supervisor.actor, **overrides)
    assert caught.value.field == field
    async with runtime.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(CannedReply)) == 0


async def test_one_reply_per_shortcut_and_language(
    runtime: Runtime, supervisor: AgentLogin
) -> None:
    await create(runtime, supervisor.actor)
    with pytest.raises(Conflict) as caught:
        await create(runtime, supervisor.actor, shortcut="/withdrawal-pending")
    assert caught.value.field == "shortcut"
    polish = await create(runtime, supervisor.actor, language="pl", body="Cześć!")
    assert polish.language == "pl"
    other = await create(runtime, supervisor.actor, shortcut="other")
    async with runtime.uow() as uow:
        with pytest.raises(Conflict):
            await service.update_canned_reply(
                uow,
                actor=supervisor.actor,
                canned_id=other.id,
                reply=reply_input(),
                languages=languages(runtime),
            )


async def test_update_replaces_the_reply_keeps_its_usage_and_audits_what_changed(
    runtime: Runtime, supervisor: AgentLogin
) -> None:
    team = await make_team(runtime, "Payments")
    row = await create(runtime, supervisor.actor)
    async with runtime.uow() as uow:
        updated = await service.update_canned_reply(
            uow,
            actor=supervisor.actor,
            canned_id=row.id,
            reply=reply_input(
                title="Pending withdrawal",
                set_status=TicketStatus.PENDING,
                add_tags=["Withdrawal", "withdrawal", "kyc"],
                move_to_team_id=team,
            ),
            languages=languages(runtime),
        )
    assert updated.is_macro
    assert updated.add_tags == ["withdrawal", "kyc"]
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "canned_reply.updated")
        )
    assert entry is not None
    assert entry.details["changed"] == ["add_tags", "move_to_team_id", "set_status", "title"]


async def test_delete(runtime: Runtime, supervisor: AgentLogin) -> None:
    row = await create(runtime, supervisor.actor)
    async with runtime.uow() as uow:
        await service.delete_canned_reply(uow, actor=supervisor.actor, canned_id=row.id)
    async with runtime.uow() as uow:
        assert await uow.session.get(CannedReply, row.id) is None
        with pytest.raises(NotFound):
            await service.delete_canned_reply(uow, actor=supervisor.actor, canned_id=row.id)
    assert "canned_reply.deleted" in await audit_actions(runtime)


@pytest.mark.parametrize("role", [AgentRole.AGENT, AgentRole.SENIOR])
async def test_only_supervisors_and_admins_manage_replies(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, role: AgentRole
) -> None:
    agent = await make_agent(role)
    with pytest.raises(PermissionDenied):
        await create(runtime, agent.actor)
    row = await create(runtime, supervisor.actor)
    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied):
            await service.update_canned_reply(
                uow,
                actor=agent.actor,
                canned_id=row.id,
                reply=reply_input(title="Mine now"),
                languages=languages(runtime),
            )
        with pytest.raises(PermissionDenied):
            await service.delete_canned_reply(uow, actor=agent.actor, canned_id=row.id)
    assert (await stored(runtime, row.id)).title == "Withdrawal pending"


# Finding them -------------------------------------------------------------------------------


async def listing(runtime: Runtime, actor: Actor, **query: Any) -> list[tuple[str, str]]:
    async with runtime.uow() as uow:
        rows = await service.list_canned_replies(
            uow,
            actor=actor,
            query=CannedQuery(**query),
            default_language=runtime.policies.players.default_language,
        )
    return [(row.shortcut, row.language) for row in rows]


async def test_the_composer_gets_one_reply_per_shortcut_in_the_ticket_language_or_the_default(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin
) -> None:
    agent = await make_agent()
    for shortcut, language in [
        ("greeting", "en"),
        ("greeting", "pl"),
        ("greeting", "sv"),
        ("withdrawal-pending", "en"),
        ("withdrawal-pending", "pl"),
        ("wagering", "en"),
        ("polish-only", "pl"),
    ]:
        await create(runtime, supervisor.actor, shortcut=shortcut, language=language, body="Hi")
    assert await listing(runtime, agent.actor, language="sv") == [
        ("greeting", "sv"),
        ("wagering", "en"),
        ("withdrawal-pending", "en"),
    ]
    assert await listing(runtime, agent.actor, language="pl", prefix="/w") == [
        ("wagering", "en"),
        ("withdrawal-pending", "pl"),
    ]
    assert await listing(runtime, agent.actor, language="pl", prefix="withdrawal-p") == [
        ("withdrawal-pending", "pl"),
    ]
    assert await listing(runtime, agent.actor, language="pl", prefix="%") == []
    assert len(await listing(runtime, agent.actor)) == 7
    assert await listing(runtime, agent.actor, text="POLISH") == [("polish-only", "pl")]


async def test_team_replies_are_offered_to_the_team_and_on_its_tickets(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin
) -> None:
    payments = await make_team(runtime, "Payments")
    member = await make_agent(team_ids=[payments])
    outsider = await make_agent()
    await create(runtime, supervisor.actor, shortcut="for-everyone")
    scoped = await create(runtime, supervisor.actor, shortcut="payments-only", team_id=payments)
    await create(runtime, supervisor.actor, shortcut="switched-off", is_active=False)

    assert await listing(runtime, member.actor, language="en") == [
        ("for-everyone", "en"),
        ("payments-only", "en"),
    ]
    assert await listing(runtime, outsider.actor, language="en") == [("for-everyone", "en")]
    # Managers see everything, switched off or scoped.
    assert len(await listing(runtime, supervisor.actor)) == 3
    assert await listing(runtime, supervisor.actor, active_only=True, language="en") == [
        ("for-everyone", "en"),
        ("payments-only", "en"),
    ]

    payments_ticket = await open_ticket(runtime, team_id=payments)
    assert ("payments-only", "en") in await listing(
        runtime, outsider.actor, language="en", ticket_id=payments_ticket.id
    )
    other_ticket = await open_ticket(runtime, external_id="P-2")
    with pytest.raises(NotFound):
        await preview(runtime, outsider.actor, other_ticket, None, canned_id=scoped.id)
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await service.get_canned_reply(uow, actor=outsider.actor, canned_id=scoped.id)


# Filling them for a ticket ----------------------------------------------------------------


async def test_preview_fills_from_the_ticket_and_the_demo_back_office_over_http(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    await create(runtime, supervisor.actor)
    ticket = await open_ticket(runtime)

    shown = await preview(runtime, agent.actor, ticket, backend, shortcut="/withdrawal-pending")

    assert shown.text == (
        "Hi Priya, your withdrawal of €2,500.00 by Skrill is pending review. Agent"
    )
    assert shown.unfilled == []
    assert not shown.account_unavailable
    assert shown.placeholders == [
        "player.first_name",
        "withdrawal.last.amount",
        "withdrawal.last.method",
        "withdrawal.last.status",
        "agent.first_name",
    ]
    # Reading the player's account for a reply is a personal-data read.
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "player.viewed")
        )
    assert entry is not None
    assert entry.actor_agent_id == agent.id
    assert entry.details["via"] == "canned_reply"
    assert entry.details["account"] is True


async def test_preview_of_bonus_and_documents(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    reply = await create(
        runtime,
        supervisor.actor,
        shortcut="status",
        body="Left: {{bonus.active.wagering_left}} ({{bonus.active.wagering_progress}}). "
        "Send: {{kyc.missing_documents}}.",
    )
    wagering = await open_ticket(runtime, external_id=MID_WAGERING, name="James Whitfield")
    shown = await preview(runtime, agent.actor, wagering, backend, canned_id=reply.id)
    # James is fully verified: nothing to ask for, so that placeholder stays for the agent.
    assert shown.text == "Left: £2,234.50 (36%). Send: {{kyc.missing_documents}}."
    assert shown.unfilled == ["kyc.missing_documents"]
    assert not shown.account_unavailable

    rejected = await open_ticket(runtime, external_id=DOCUMENTS_REJECTED, name="Connor Doyle")
    shown = await preview(runtime, agent.actor, rejected, backend, canned_id=reply.id)
    assert shown.text.endswith(
        "Send: a selfie holding your ID, proof of address and proof of payment method."
    )


async def test_preview_in_the_ticket_language_falls_back_to_the_default(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    await create(runtime, supervisor.actor, shortcut="hello", body="Hello {{player.first_name}}")
    await create(
        runtime,
        supervisor.actor,
        shortcut="hello",
        language="pl",
        body="Dzień dobry {{player.first_name}}",
    )
    polish = await open_ticket(runtime, external_id="P-1", name="Anna Kowalska", language="pl")
    swedish = await open_ticket(runtime, external_id="P-2", name="Emma Svensson", language="sv")
    assert (await preview(runtime, agent.actor, polish, backend, shortcut="hello")).text == (
        "Dzień dobry Anna"
    )
    shown = await preview(runtime, agent.actor, swedish, backend, shortcut="hello")
    assert (shown.text, shown.reply.language, shown.language) == ("Hello Emma", "en", "sv")


@pytest.mark.parametrize("down", ["closed port", "5xx", "no back office"])
async def test_preview_without_the_back_office_leaves_its_placeholders_for_the_agent(
    runtime: Runtime,
    make_agent: AgentFactory,
    supervisor: AgentLogin,
    casino: DemoCasino,
    down: str,
) -> None:
    agent = await make_agent()
    await create(runtime, supervisor.actor)
    ticket = await open_ticket(runtime)
    if down == "5xx":
        casino.faults.fail_status = 503
    url = closed_port_url() if down == "closed port" else casino.base_url
    async with http_backend(url) as broken:
        shown = await preview(
            runtime,
            agent.actor,
            ticket,
            None if down == "no back office" else broken,
            shortcut="withdrawal-pending",
        )
    assert shown.text == (
        "Hi Priya, your withdrawal of {{withdrawal.last.amount}} by {{withdrawal.last.method}} "
        "is {{withdrawal.last.status}}. Agent"
    )
    assert shown.unfilled == [
        "withdrawal.last.amount",
        "withdrawal.last.method",
        "withdrawal.last.status",
    ]
    assert shown.account_unavailable


async def test_a_player_without_a_casino_account_has_no_account_values(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    await create(runtime, supervisor.actor)
    ticket = await open_ticket(runtime, external_id=None)
    shown = await preview(runtime, agent.actor, ticket, backend, shortcut="withdrawal-pending")
    assert "withdrawal.last.status" in shown.unfilled
    assert shown.text.startswith("Hi Priya,")


async def test_preview_holds_no_transaction_while_the_back_office_answers(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, backend: HttpCasinoBackend
) -> None:
    """While the back office is asked, another unit of work can write (on SQLite, a held
    write transaction would make it wait)."""
    agent = await make_agent()
    await create(runtime, supervisor.actor)
    ticket = await open_ticket(runtime)
    written: list[int] = []

    class Watching:
        def __getattr__(self, name: str) -> Any:
            call = getattr(backend, name)

            async def watched(*args: Any, **kwargs: Any) -> Any:
                async with runtime.uow() as uow:
                    row = await uow.session.get(Ticket, ticket.id)
                    assert row is not None
                    row.subject = "Changed while the back office was asked"
                    await uow.commit()
                    written.append(row.id)
                return await call(*args, **kwargs)

            return watched

    shown = await preview(runtime, agent.actor, ticket, Watching(), shortcut="withdrawal-pending")
    assert written == [ticket.id]
    assert shown.unfilled == []


# Sending them -------------------------------------------------------------------------------


async def test_sending_a_reply_posts_it_as_the_agent_and_counts_its_use(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, bus: RecordingBus
) -> None:
    agent = await make_agent()
    reply = await create(runtime, supervisor.actor, body="Hello {{player.first_name}}!")
    ticket = await open_ticket(runtime)
    bus.published.clear()

    sent = await apply(runtime, agent.actor, ticket, reply, body="Hello Priya! Edited.")

    assert sent.created
    assert sent.message.body == "Hello Priya! Edited."
    assert sent.message.author_agent_id == agent.id
    assert sent.message.kind == MessageKind.REPLY.value
    assert sent.ticket.status == TicketStatus.OPEN.value  # a first reply takes it into work
    assert sent.actions == []
    assert [message.body for message in await replies_on(runtime, ticket)] == [
        "Hello Priya! Edited."
    ]
    row = await stored(runtime, reply.id)
    assert (row.usage_count, row.last_used_at) == (1, START)
    assert "message.posted" in bus.types()
    assert "canned_reply.sent" in await audit_actions(runtime)


async def test_a_replayed_send_is_not_sent_or_counted_twice(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin
) -> None:
    agent = await make_agent()
    reply = await create(runtime, supervisor.actor, body="Thanks!", set_priority=Priority.LOW)
    ticket = await open_ticket(runtime)
    first = await apply(runtime, agent.actor, ticket, reply, body="Thanks!", client_msg_id="c-1")
    again = await apply(runtime, agent.actor, ticket, reply, body="Thanks!", client_msg_id="c-1")
    assert first.created and not again.created
    assert again.message.id == first.message.id
    assert len(await replies_on(runtime, ticket)) == 1
    assert (await stored(runtime, reply.id)).usage_count == 1


async def test_a_macro_sends_its_reply_and_applies_its_actions_in_one_transaction(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, bus: RecordingBus
) -> None:
    agent = await make_agent()
    macro = await create(
        runtime,
        supervisor.actor,
        shortcut="close-thanks",
        body="Thank you, {{player.first_name}}. Have a good day!",
        set_status=TicketStatus.RESOLVED,
        set_priority=Priority.LOW,
        add_tags=["resolved-by-macro", "thanks"],
    )
    ticket = await open_ticket(runtime)
    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            changes=ticket_service.TicketChanges(tags=["withdrawal"]),
            supported_languages=runtime.policies.players.languages,
            routing_policy=runtime.policies.routing,
        )
    bus.published.clear()

    sent = await apply(runtime, agent.actor, ticket, macro, body=None)

    assert sent.message.body == "Thank you, Priya. Have a good day!"
    assert sent.actions == ["set_status", "set_priority", "add_tags"]
    async with runtime.uow() as uow:
        after = await ticket_service.get_ticket(uow, actor=agent.actor, ticket_id=ticket.id)
    assert after.status == TicketStatus.RESOLVED.value
    assert after.priority == Priority.LOW.value
    assert [tag.name for tag in after.tags] == ["resolved-by-macro", "thanks", "withdrawal"]
    assert after.resolved_at == START
    assert {"message.posted", "ticket.updated"} <= set(bus.types())
    assert (await stored(runtime, macro.id)).usage_count == 1


async def test_a_macro_moving_the_ticket_hands_it_over_to_the_team(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin
) -> None:
    payments = await make_team(runtime, "Payments")
    agent = await make_agent()
    macro = await create(
        runtime,
        supervisor.actor,
        shortcut="to-payments",
        body="I am passing this to our payments team.",
        move_to_team_id=payments,
        add_tags=["payments"],
    )
    ticket = await open_ticket(runtime)
    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            changes=ticket_service.TicketChanges(assignee_id=agent.id),
            supported_languages=runtime.policies.players.languages,
            routing_policy=runtime.policies.routing,
        )
    sent = await apply(runtime, agent.actor, ticket, macro, body=None)
    assert (sent.ticket.team_id, sent.ticket.assignee_id) == (payments, None)
    assert sent.actions == ["add_tags", "move_to_team_id"]


async def test_a_macro_whose_action_fails_sends_nothing(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, bus: RecordingBus
) -> None:
    agent = await make_agent()
    macro = await create(
        runtime,
        supervisor.actor,
        shortcut="wait-for-player",
        body="Could you send us a screenshot?",
        set_status=TicketStatus.PENDING,
        add_tags=["screenshot"],
    )
    ticket = await open_ticket(runtime)
    async with runtime.uow() as uow:
        await ticket_service.update_ticket(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            changes=ticket_service.TicketChanges(status=TicketStatus.RESOLVED),
            supported_languages=runtime.policies.players.languages,
            routing_policy=runtime.policies.routing,
        )
    bus.published.clear()

    # A resolved ticket cannot go to pending: the reply goes nowhere either.
    with pytest.raises(InvalidTransition) as caught:
        await apply(runtime, agent.actor, ticket, macro, body=None)
    assert caught.value.field == "set_status"
    assert await replies_on(runtime, ticket) == []
    assert (await stored(runtime, macro.id)).usage_count == 0
    async with runtime.uow() as uow:
        after = await ticket_service.get_ticket(uow, actor=agent.actor, ticket_id=ticket.id)
    assert after.status == TicketStatus.RESOLVED.value
    assert after.tags == []
    assert bus.published == []


@pytest.mark.parametrize(
    "body",
    [
        "Your balance is {{balance.real}}.",
        "Your balance is {{ balance.real }}.",
        "Hello {{player.nickname}}",
        "Hello {{",
    ],
)
async def test_a_text_with_a_placeholder_left_is_refused(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, body: str
) -> None:
    agent = await make_agent()
    reply = await create(runtime, supervisor.actor, body="Your balance is {{balance.real}}.")
    ticket = await open_ticket(runtime)
    with pytest.raises(PlaceholderError) as caught:
        await apply(runtime, agent.actor, ticket, reply, body=body)
    assert caught.value.field == "body"
    assert await replies_on(runtime, ticket) == []
    assert (await stored(runtime, reply.id)).usage_count == 0


async def test_sending_without_a_text_when_the_back_office_is_down_is_refused(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin
) -> None:
    agent = await make_agent()
    reply = await create(runtime, supervisor.actor)
    ticket = await open_ticket(runtime)
    async with http_backend(closed_port_url()) as broken:
        with pytest.raises(PlaceholderError) as caught:
            await apply(runtime, agent.actor, ticket, reply, body=None, backend=broken)
    assert "{{withdrawal.last.status}}" in caught.value.detail
    assert await replies_on(runtime, ticket) == []


async def test_sending_with_the_back_office_fills_it_in(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin, backend: HttpCasinoBackend
) -> None:
    agent = await make_agent()
    reply = await create(runtime, supervisor.actor)
    ticket = await open_ticket(runtime)
    sent = await apply(runtime, agent.actor, ticket, reply, body=None, backend=backend)
    assert "€2,500.00 by Skrill is pending review" in sent.message.body


async def test_a_switched_off_reply_is_not_sent(
    runtime: Runtime, make_agent: AgentFactory, supervisor: AgentLogin
) -> None:
    agent = await make_agent()
    reply = await create(runtime, supervisor.actor, body="Hi", is_active=False)
    ticket = await open_ticket(runtime)
    with pytest.raises(NotFound):
        await apply(runtime, agent.actor, ticket, reply, body="Hi")
    with pytest.raises(NotFound):
        await apply(runtime, supervisor.actor, ticket, reply, body="Hi")
    assert await replies_on(runtime, ticket) == []


async def test_the_refactored_agent_message_path_still_commits(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime)
    async with runtime.uow() as uow:
        await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            body="Plain reply",
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    assert [message.body for message in await replies_on(runtime, ticket)] == ["Plain reply"]


# The demo's replies ---------------------------------------------------------------------------


async def test_the_demo_replies_in_three_languages_are_valid_and_seeded_once(
    runtime: Runtime, make_agent: AgentFactory, backend: HttpCasinoBackend
) -> None:
    payments = await make_team(runtime, "Payments")
    created = await seed_canned_replies(runtime, payments_team_id=payments)
    assert created == len(REPLIES) * 3
    assert 8 <= len(REPLIES) <= 12
    assert await seed_canned_replies(runtime, payments_team_id=payments) == 0

    agent = await make_agent()
    async with runtime.uow() as uow:
        rows = list((await uow.session.scalars(select(CannedReply))).all())
    by_shortcut: dict[str, set[str]] = {}
    for row in rows:
        by_shortcut.setdefault(row.shortcut, set()).add(row.language)
    assert all(found == {"en", "pl", "sv"} for found in by_shortcut.values())
    macros = {row.shortcut for row in rows if row.is_macro}
    assert {"close-thanks", "escalate-payments"} <= macros
    escalate = next(row for row in rows if row.shortcut == "escalate-payments")
    assert escalate.move_to_team_id == payments

    # Filled in for a player whose account has the data, nothing is left for the agent.
    ticket = await open_ticket(runtime)
    for shortcut in ("greeting", "withdrawal-pending", "compliance-review", "balance"):
        shown = await preview(runtime, agent.actor, ticket, backend, shortcut=shortcut)
        assert shown.unfilled == [], shortcut
    wagering = await open_ticket(runtime, external_id=MID_WAGERING, name="James Whitfield")
    shown = await preview(runtime, agent.actor, wagering, backend, shortcut="bonus-wagering")
    assert shown.unfilled == []
    assert "Welcome bonus 100% up to £200" in shown.text
    rejected = await open_ticket(runtime, external_id=DOCUMENTS_REJECTED, name="Connor Doyle")
    shown = await preview(runtime, agent.actor, rejected, backend, shortcut="documents-missing")
    assert shown.unfilled == []
