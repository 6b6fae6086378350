"""Delivery receipts from messengers: WhatsApp's `delivered` / `read` statuses and Viber's
`delivered` / `seen` callbacks raise the conversation's receipt watermarks (the same the
widget's receipts move) to the reply the outbox row carried, read implying delivered, never
lowered, idempotent; the console hears them as it hears the widget's. Real persistence, the
providers' APIs played by local HTTP servers, the bodies their webhooks really send."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect

from playerdesk.adapters import viber, whatsapp
from playerdesk.db.models import Message, OutboxItem, Ticket
from playerdesk.domain.enums import AuthorKind
from playerdesk.domain.events import ReadReceipt
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import auth, outbound
from tests import messenger_fixtures
from tests.conftest import AgentFactory, AgentLogin, LiveServer, QueryCounter, RecordingBus
from tests.outbox_steps import agent_replies, outbox_rows
from tests.viber_api import FakeViber, event_callback, sign, text_callback
from tests.whatsapp_api import (
    FakeGraphApi,
    status,
    text_message,
)

# The local WhatsApp and Viber APIs, and settings that point the desk at both.
graph_api = messenger_fixtures.graph_api
viber_api = messenger_fixtures.viber_api
settings = messenger_fixtures.settings


def raw(body: dict[str, object]) -> bytes:
    return json.dumps(body).encode()


async def ticket_of(runtime: Runtime, ticket_id: int) -> Ticket:
    async with runtime.read_uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        return ticket


async def watermarks(runtime: Runtime, ticket_id: int) -> tuple[int | None, int | None]:
    ticket = await ticket_of(runtime, ticket_id)
    return ticket.player_delivered_up_to, ticket.player_read_up_to


async def agent_message_ids(runtime: Runtime, ticket_id: int) -> list[int]:
    async with runtime.read_uow() as uow:
        rows = await uow.session.scalars(
            select(Message.id)
            .where(Message.ticket_id == ticket_id, Message.author_kind == AuthorKind.AGENT.value)
            .order_by(Message.id)
        )
        return list(rows)


async def provider_ids(runtime: Runtime) -> list[str]:
    rows = await outbox_rows(runtime)
    assert all(row.provider_message_id for row in rows)
    return [str(row.provider_message_id) for row in rows]


def receipts(bus: RecordingBus) -> list[tuple[int, str, int | None, int | None]]:
    return [
        (event.ticket_id, event.side, event.delivered_up_to, event.read_up_to)
        for event in bus.published
        if isinstance(event, ReadReceipt)
    ]


async def two_replies(
    runtime: Runtime, agent: AgentLogin, ticket_id: int
) -> tuple[list[int], list[str]]:
    await agent_replies(runtime, agent, ticket_id, "Let me check that for you.")
    await agent_replies(runtime, agent, ticket_id, "It was sent today; allow 1-3 banking days.")
    assert (await deliver_outbox(runtime))["sent"] == 2
    return await agent_message_ids(runtime, ticket_id), await provider_ids(runtime)


# --- WhatsApp ----------------------------------------------------------------------------


async def whatsapp_status(runtime: Runtime, wamid: str, state: str) -> str:
    taken = await whatsapp.take_notification(runtime, raw=raw(status(wamid, state)))
    [outcome] = taken.outcomes
    return outcome


async def test_whatsapp_statuses_move_the_watermarks_up_only(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi, bus: RecordingBus
) -> None:
    agent = await make_agent()
    taken = await whatsapp.take_notification(
        runtime, raw=raw(text_message("Where is my withdrawal?", message_id="wamid.IN1"))
    )
    [ticket_id] = taken.ticket_ids
    (first, second), (first_wamid, second_wamid) = await two_replies(runtime, agent, ticket_id)
    assert await watermarks(runtime, ticket_id) == (None, None)

    # `sent` says nothing new: the row already is.
    assert await whatsapp_status(runtime, first_wamid, "sent") == "status_logged"
    assert await watermarks(runtime, ticket_id) == (None, None)

    assert await whatsapp_status(runtime, first_wamid, "delivered") == "status_delivered"
    assert await watermarks(runtime, ticket_id) == (first, None)
    assert await whatsapp_status(runtime, second_wamid, "delivered") == "status_delivered"
    assert await watermarks(runtime, ticket_id) == (second, None)

    # Meta's statuses can arrive out of order: an older one never lowers a watermark.
    assert await whatsapp_status(runtime, first_wamid, "read") == "status_read"
    assert await watermarks(runtime, ticket_id) == (second, first)
    assert await whatsapp_status(runtime, first_wamid, "delivered") == "status_unchanged"
    assert await whatsapp_status(runtime, first_wamid, "read") == "status_unchanged"  # a retry
    assert await watermarks(runtime, ticket_id) == (second, first)

    assert await whatsapp_status(runtime, second_wamid, "read") == "status_read"
    assert await watermarks(runtime, ticket_id) == (second, second)

    # Each move, and only a move, told the console.
    assert receipts(bus) == [
        (ticket_id, "player", first, None),
        (ticket_id, "player", second, None),
        (ticket_id, "player", second, first),
        (ticket_id, "player", second, second),
    ]
    # Receipts change nothing about the delivery itself.
    assert [row.status for row in await outbox_rows(runtime)] == ["sent", "sent"]


async def test_a_read_status_implies_delivered(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi, bus: RecordingBus
) -> None:
    agent = await make_agent()
    taken = await whatsapp.take_notification(
        runtime, raw=raw(text_message("Hello?", message_id="wamid.IN1"))
    )
    [ticket_id] = taken.ticket_ids
    (_, second), (_, second_wamid) = await two_replies(runtime, agent, ticket_id)
    # Meta may skip `delivered` and send `read` alone.
    assert await whatsapp_status(runtime, second_wamid, "read") == "status_read"
    assert await watermarks(runtime, ticket_id) == (second, second)
    assert receipts(bus) == [(ticket_id, "player", second, second)]


async def test_statuses_of_messages_we_never_sent_change_nothing(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi, bus: RecordingBus
) -> None:
    agent = await make_agent()
    taken = await whatsapp.take_notification(
        runtime, raw=raw(text_message("Hello?", message_id="wamid.IN1"))
    )
    [ticket_id] = taken.ticket_ids
    await two_replies(runtime, agent, ticket_id)
    for state in ("delivered", "read"):
        # Not ours, and not a prefix or a part of one of ours either.
        for wamid in ("wamid.NOT-OURS", "wamid.FAKE00000", "FAKE000001"):
            assert await whatsapp_status(runtime, wamid, state) == "status_unknown"
    assert await watermarks(runtime, ticket_id) == (None, None)
    assert receipts(bus) == []


async def test_a_receipt_on_a_later_conversation_leaves_the_earlier_alone(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    """The watermark moved is the one of the conversation the reply was on."""
    agent = await make_agent()
    taken = await whatsapp.take_notification(
        runtime, raw=raw(text_message("Hello?", message_id="wamid.IN1"))
    )
    [ticket_id] = taken.ticket_ids
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.status = "closed"
        await uow.commit()
    again = await whatsapp.take_notification(
        runtime, raw=raw(text_message("Me again", message_id="wamid.IN2"))
    )
    [later_id] = again.ticket_ids
    assert later_id != ticket_id
    await agent_replies(runtime, agent, later_id, "Welcome back!")
    assert (await deliver_outbox(runtime))["sent"] == 2
    earlier_wamid, later_wamid = await provider_ids(runtime)
    [later_reply] = await agent_message_ids(runtime, later_id)

    assert await whatsapp_status(runtime, later_wamid, "read") == "status_read"
    assert await watermarks(runtime, later_id) == (later_reply, later_reply)
    assert await watermarks(runtime, ticket_id) == (None, None)
    assert await whatsapp_status(runtime, earlier_wamid, "delivered") == "status_delivered"
    assert (await watermarks(runtime, ticket_id))[0] is not None


# --- Viber -------------------------------------------------------------------------------


async def viber_receipt(runtime: Runtime, event: str, token: str | int) -> str:
    taken = await viber.take_callback(
        runtime, raw=raw(event_callback(event, message_token=int(token)))
    )
    return taken.event


async def test_viber_delivered_and_seen_move_the_watermarks_up_only(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber, bus: RecordingBus
) -> None:
    agent = await make_agent()
    taken = await viber.take_callback(runtime, raw=raw(text_callback("Where is my bonus?")))
    assert taken.ticket_id is not None
    ticket_id = taken.ticket_id
    (first, second), (first_token, second_token) = await two_replies(runtime, agent, ticket_id)

    assert await viber_receipt(runtime, "delivered", first_token) == "delivered_delivered"
    assert await watermarks(runtime, ticket_id) == (first, None)
    assert await viber_receipt(runtime, "delivered", second_token) == "delivered_delivered"
    assert await viber_receipt(runtime, "delivered", second_token) == "delivered_unchanged"
    assert await viber_receipt(runtime, "seen", first_token) == "seen_read"
    assert await watermarks(runtime, ticket_id) == (second, first)
    assert await viber_receipt(runtime, "delivered", first_token) == "delivered_unchanged"
    assert await viber_receipt(runtime, "seen", second_token) == "seen_read"
    assert await viber_receipt(runtime, "seen", first_token) == "seen_unchanged"
    assert await watermarks(runtime, ticket_id) == (second, second)
    assert await viber_receipt(runtime, "seen", 4912661846655238145) == "seen_unknown"
    assert await watermarks(runtime, ticket_id) == (second, second)
    assert receipts(bus) == [
        (ticket_id, "player", first, None),
        (ticket_id, "player", second, None),
        (ticket_id, "player", second, first),
        (ticket_id, "player", second, second),
    ]


async def test_a_receipt_for_any_part_of_a_long_viber_reply_is_the_replys(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    taken = await viber.take_callback(runtime, raw=raw(text_callback("Tell me everything")))
    assert taken.ticket_id is not None
    await agent_replies(runtime, agent, taken.ticket_id, "Rule one applies. " * 400)
    assert (await deliver_outbox(runtime))["sent"] == 1
    [tokens] = await provider_ids(runtime)
    first_part, second_part = tokens.split(",")
    [reply] = await agent_message_ids(runtime, taken.ticket_id)
    assert await viber_receipt(runtime, "seen", second_part) == "seen_read"
    assert await watermarks(runtime, taken.ticket_id) == (reply, reply)
    assert await viber_receipt(runtime, "delivered", first_part) == "delivered_unchanged"


async def test_a_failed_reply_is_still_dead_lettered_and_receipts_leave_it_dead(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    taken = await viber.take_callback(runtime, raw=raw(text_callback("Hello?")))
    assert taken.ticket_id is not None
    await agent_replies(runtime, agent, taken.ticket_id, "Hi!")
    assert (await deliver_outbox(runtime))["sent"] == 1
    [token] = await provider_ids(runtime)
    failed = event_callback("failed", message_token=int(token), desc="offline too long")
    assert (await viber.take_callback(runtime, raw=raw(failed))).event == "failed_failed"
    assert (await viber.take_callback(runtime, raw=raw(failed))).event == "failed_unchanged"
    [row] = await outbox_rows(runtime)
    assert (row.status, row.last_error) == ("dead", "Viber could not deliver it: offline too long")
    assert await watermarks(runtime, taken.ticket_id) == (None, None)


async def test_the_service_moves_nothing_for_a_row_without_a_message(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber, bus: RecordingBus
) -> None:
    """A row whose reply was deleted (message_id set to NULL) is recognised but moves
    nothing."""
    agent = await make_agent()
    taken = await viber.take_callback(runtime, raw=raw(text_callback("Hello?")))
    assert taken.ticket_id is not None
    await agent_replies(runtime, agent, taken.ticket_id, "Hi!")
    assert (await deliver_outbox(runtime))["sent"] == 1
    async with runtime.uow() as uow:
        row = await uow.session.scalar(select(OutboxItem))
        assert row is not None
        row.message_id = None
        token = str(row.provider_message_id)
        await uow.commit()
    async with runtime.uow() as uow:
        recorded = await outbound.record_provider_status(
            uow, channel="viber", provider_message_id=token, status="seen", error=None
        )
    assert recorded == "unchanged"
    assert await watermarks(runtime, taken.ticket_id) == (None, None)
    # The same id on another channel is not this row.
    async with runtime.uow() as uow:
        recorded = await outbound.record_provider_status(
            uow, channel="whatsapp", provider_message_id=token, status="read", error=None
        )
    assert recorded == "unknown"
    assert receipts(bus) == []


async def test_a_receipt_is_two_statements(
    runtime: Runtime,
    make_agent: AgentFactory,
    viber_api: FakeViber,
    count_queries: QueryCounter,
) -> None:
    """Every reply gets two or three reports: finding the row and moving the watermark, one
    statement each (none when it does not move)."""
    agent = await make_agent()
    taken = await viber.take_callback(runtime, raw=raw(text_callback("Hello?")))
    assert taken.ticket_id is not None
    await agent_replies(runtime, agent, taken.ticket_id, "Hi!")
    assert (await deliver_outbox(runtime))["sent"] == 1
    [token] = await provider_ids(runtime)
    for state, expected in (("delivered", "delivered"), ("seen", "read"), ("seen", "unchanged")):
        count_queries.reset()
        async with runtime.uow() as uow:
            recorded = await outbound.record_provider_status(
                uow, channel="viber", provider_message_id=token, status=state, error=None
            )
        assert recorded == expected
        assert count_queries.count == 2, count_queries.statements


# --- the console -------------------------------------------------------------------------

PASSWORD = "correct horse battery"


async def receive(socket: ClientConnection, wanted: str, *, within: float = 5) -> dict[str, Any]:
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == wanted:
                return dict(frame)


async def test_the_console_shows_a_messenger_conversations_receipts_live(
    runtime: Runtime,
    make_agent: AgentFactory,
    viber_api: FakeViber,
    live_server: LiveServer,
) -> None:
    agent = await make_agent(password=PASSWORD)
    taken = await viber.take_callback(runtime, raw=raw(text_callback("Where is my bonus?")))
    assert taken.ticket_id is not None
    ticket_id = taken.ticket_id
    (first, second), (first_token, second_token) = await two_replies(runtime, agent, ticket_id)
    await viber_receipt(runtime, "delivered", first_token)

    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        # Opening the conversation: both watermarks, for the marks under the replies.
        response = await http.get(
            f"/console/tickets/{ticket_id}/conversation", headers=agent.headers
        )
        assert response.status_code == 200, response.text
        ticket = response.json()["ticket"]
        assert (ticket["player_delivered_up_to"], ticket["player_read_up_to"]) == (first, None)

        async with runtime.uow() as uow:
            login = await auth.login(
                uow,
                email=agent.email,
                password=PASSWORD,
                ip="127.0.0.1",
                user_agent=None,
                policy=runtime.policies.login,
            )
        async with connect(
            f"{live_server.ws_url}/ws/console",
            additional_headers={"Cookie": f"pd_session={login.session_token}"},
            origin=live_server.base_url,  # type: ignore[arg-type]
        ) as console:
            await console.send(json.dumps({"type": "hello"}))
            await receive(console, "welcome")
            await console.send(json.dumps({"type": "watch", "ticket_id": ticket_id}))
            await receive(console, "watching")

            # Viber's `seen` reaches the webhook; the watching console hears it at once.
            body = raw(event_callback("seen", message_token=int(second_token)))
            answer = await http.post(
                "/webhooks/viber",
                content=body,
                headers={"X-Viber-Content-Signature": sign(body)},
            )
            assert answer.status_code == 200
            assert await receive(console, "receipt") == {
                "type": "receipt",
                "ticket_id": ticket_id,
                "side": "player",
                "delivered_up_to": second,
                "read_up_to": second,
            }
