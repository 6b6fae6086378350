"""Quick replies under bot messages reach the widget live, in its history and on catch-up."""

from __future__ import annotations

import json

from websockets.asyncio.client import connect

from playerdesk.db.models import Ticket
from playerdesk.domain.enums import AuthorKind, MessageKind
from playerdesk.domain.events import QuickReply
from playerdesk.runtime import Runtime
from playerdesk.services import messages as message_service
from tests.conftest import LiveServer
from tests.web.test_live_chat import receive, widget_session


async def post_bot_message(
    runtime: Runtime, *, ticket_id: int, body: str, quick_replies: list[tuple[str, str]]
) -> int:
    """A bot message with buttons, posted the way the bot job posts one; its id."""
    async with runtime.uow() as uow:
        ticket = await uow.session.get_one(Ticket, ticket_id, with_for_update=True)
        posted = await message_service.add_message(
            uow,
            ticket=ticket,
            author_kind=AuthorKind.BOT,
            author=None,
            kind=MessageKind.REPLY,
            body=body,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            quick_replies=[QuickReply(id=key, label=label) for key, label in quick_replies],
        )
        await uow.commit()
    return int(posted.message.id)


async def test_quick_replies_are_in_the_live_history_and_catch_up_frames(
    live_server: LiveServer, runtime: Runtime
) -> None:
    session = await widget_session(live_server)
    url = f"{live_server.ws_url}/ws/widget?token={session['token']}"
    buttons = [{"id": "deposit", "label": "Wpłata"}, {"id": "withdrawal", "label": "Wypłata"}]
    async with connect(url) as widget:
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        await receive(widget, "welcome")
        await widget.send(
            json.dumps({"type": "message.send", "client_msg_id": "m-1", "body": "Pomocy"})
        )
        ack = await receive(widget, "message.ack")
        assert ack["message"]["quick_replies"] == []
        ticket_id, player_message_id = ack["message"]["ticket_id"], ack["message"]["id"]

        live_id = await post_bot_message(
            runtime,
            ticket_id=ticket_id,
            body="W czym mogę pomóc?",
            quick_replies=[(item["id"], item["label"]) for item in buttons],
        )
        live = (await receive(widget, "message.new"))["message"]
        if live["author"] == "player":  # the player's own message comes back on the stream too
            live = (await receive(widget, "message.new"))["message"]
        assert (live["id"], live["author"], live["quick_replies"]) == (live_id, "bot", buttons)

    # Away while the bot asks again: the catch-up carries the new buttons, once.
    caught_up_id = await post_bot_message(
        runtime, ticket_id=ticket_id, body="Czy to pomogło?", quick_replies=[("yes", "Tak")]
    )
    async with connect(url) as widget:
        await widget.send(json.dumps({"type": "hello", "last_seen_id": live_id}))
        welcome = await receive(widget, "welcome")
    assert [(item["id"], item["quick_replies"]) for item in welcome["messages"]] == [
        (caught_up_id, [{"id": "yes", "label": "Tak"}])
    ]

    # A new page view gets the whole history, each message with its own buttons (or none).
    async with connect(url) as widget:
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        history = (await receive(widget, "welcome"))["messages"]
    assert [(item["id"], item["author"], item["quick_replies"]) for item in history] == [
        (player_message_id, "player", []),
        (live_id, "bot", buttons),
        (caught_up_id, "bot", [{"id": "yes", "label": "Tak"}]),
    ]
