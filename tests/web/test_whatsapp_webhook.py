"""`GET` and `POST /webhooks/whatsapp` over real HTTP: Meta's verification, the signature,
bad and unknown notifications, a number becoming a ticket with its player, Meta's retries,
the bot answering with reply buttons the player presses, a failed status shown on the
reply, the console told when the 24-hour window has closed, and a player's image and a
refused document shown to the agent (a local Graph API server records the messages sent and
serves the media)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from structlog.testing import capture_logs

from playerdesk.bot.pipeline import Bot
from playerdesk.clock import FrozenClock
from playerdesk.db.models import ChannelIdentity, Message, OutboxItem, Player, Ticket
from playerdesk.domain.enums import AuthorKind, BotState, Channel, MessageKind
from playerdesk.domain.permissions import Actor
from playerdesk.jobs.bot_turns import answer_bot_turns
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, bot_admin
from playerdesk.settings import Settings
from tests.conftest import AgentFactory, LiveServer
from tests.kb_articles import seed_articles
from tests.whatsapp_api import (
    APP_SECRET,
    VERIFY_TOKEN,
    WA_ID,
    FakeGraphApi,
    FakeMedia,
    button_reply,
    fake_graph_api,
    fixture,
    media_message,
    signature,
    status,
    text_message,
    whatsapp_settings,
)


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    async with fake_graph_api() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, graph_api: FakeGraphApi) -> Settings:
    return whatsapp_settings(
        database_url=database_url, tmp_path=tmp_path, api_base=graph_api.base_url
    )


@pytest.fixture
async def webhook(live_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        yield client


async def deliver(
    webhook: httpx.AsyncClient, body: Any, *, signed_with: str | None = APP_SECRET
) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if signed_with is not None:
        headers["X-Hub-Signature-256"] = signature(content, secret=signed_with)
    return await webhook.post("/webhooks/whatsapp", content=content, headers=headers)


async def count(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def only_ticket(runtime: Runtime) -> Ticket:
    async with runtime.uow() as uow:
        [ticket] = (await uow.session.scalars(select(Ticket))).all()
        return ticket


async def bodies_of(runtime: Runtime, ticket_id: int, author: AuthorKind) -> list[str]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message.body)
            .where(Message.ticket_id == ticket_id, Message.author_kind == author.value)
            .order_by(Message.id)
        )
        return list(rows)


async def test_meta_verification_echoes_the_challenge_only_with_our_token(
    webhook: httpx.AsyncClient,
) -> None:
    good = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    answer = await webhook.get("/webhooks/whatsapp", params=good)
    assert (answer.status_code, answer.text) == (200, "1158201444")
    assert answer.headers["content-type"].startswith("text/plain")
    for wrong in (
        {**good, "hub.verify_token": "guess"},
        {**good, "hub.mode": "unsubscribe"},
        {"hub.challenge": "1158201444"},
    ):
        assert (await webhook.get("/webhooks/whatsapp", params=wrong)).status_code == 403


async def test_without_the_right_signature_nothing_is_taken(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    notification = text_message("Hello", message_id="wamid.SIG")
    missing = await deliver(webhook, notification, signed_with=None)
    wrong = await deliver(webhook, notification, signed_with="another-app-secret")
    content = json.dumps(notification).encode()
    tampered = await webhook.post(
        "/webhooks/whatsapp",
        content=content.replace(b"Hello", b"Hallo"),
        headers={"X-Hub-Signature-256": signature(content)},
    )
    assert (missing.status_code, wrong.status_code, tampered.status_code) == (401, 403, 403)
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert await count(runtime, Ticket) == 0
    assert await count(runtime, Player) == 0


async def test_a_malformed_notification_is_refused_and_logged_with_its_ids(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    broken = text_message("Hello", message_id="wamid.BROKEN")
    del broken["entry"][0]["changes"][0]["value"]["messages"][0]["type"]
    with capture_logs() as logs:
        response = await deliver(webhook, broken)
        not_json = await deliver(webhook, b"{not json")
    assert (response.status_code, not_json.status_code) == (400, 400)
    malformed = [entry for entry in logs if entry["event"] == "whatsapp_notification_malformed"]
    assert [entry["message_ids"] for entry in malformed] == [["wamid.BROKEN"], []]
    assert malformed[0]["entry_ids"] == ["102290129340398"]
    assert await count(runtime, Ticket) == 0


@pytest.mark.parametrize("name", ["reaction", "account_update", "status_delivered"])
async def test_what_we_do_not_take_is_acknowledged(
    webhook: httpx.AsyncClient, runtime: Runtime, name: str
) -> None:
    assert (await deliver(webhook, fixture(name))).status_code == 200
    assert await count(runtime, Ticket) == 0


async def test_a_new_number_opens_a_ticket_and_retries_join_nothing(
    webhook: httpx.AsyncClient, runtime: Runtime
) -> None:
    first = text_message("Cześć, moja wypłata jeszcze nie dotarła", message_id="wamid.A1")
    assert (await deliver(webhook, first)).status_code == 200
    ticket = await only_ticket(runtime)
    assert ticket.channel == Channel.WHATSAPP.value
    assert ticket.subject == "Cześć, moja wypłata jeszcze nie dotarła"
    async with runtime.uow() as uow:
        player = await uow.session.get(Player, ticket.player_id)
        assert player is not None and player.name == "Agnieszka Nowak"
        identities = (await uow.session.scalars(select(ChannelIdentity))).all()
        assert [(row.channel, row.address) for row in identities] == [("whatsapp", WA_ID)]

    second = text_message("Wysłałam ją we wtorek", message_id="wamid.A2")
    assert (await deliver(webhook, second)).status_code == 200
    # Meta did not hear our 200 in time and delivers the same messages again.
    assert (await deliver(webhook, second)).status_code == 200
    assert (await deliver(webhook, first)).status_code == 200
    assert await count(runtime, Ticket) == 1
    assert await bodies_of(runtime, ticket.id, AuthorKind.PLAYER) == [
        "Cześć, moja wypłata jeszcze nie dotarła",
        "Wysłałam ją we wtorek",
    ]


async def test_the_bot_answers_with_reply_buttons_and_a_press_is_its_label(
    webhook: httpx.AsyncClient, runtime: Runtime, bot: Bot, graph_api: FakeGraphApi
) -> None:
    runtime.bot = bot
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=Actor.system(), channel=Channel.WHATSAPP, enabled=True
        )
    await seed_articles(runtime)
    question = text_message("how long does a withdrawal take to arrive?", message_id="wamid.Q")
    assert (await deliver(webhook, question)).status_code == 200
    ticket = await only_ticket(runtime)
    assert ticket.bot_state == BotState.ACTIVE.value

    assert (await answer_bot_turns(runtime))["answered"] == 1
    assert (await deliver_outbox(runtime))["sent"] == 1
    [answer] = graph_api.sent
    assert (answer["to"], answer["type"]) == (WA_ID, "interactive")
    assert "How long does a withdrawal take?" in answer["interactive"]["body"]["text"]
    assert answer["interactive"]["action"]["buttons"] == [
        {"type": "reply", "reply": {"id": "helpful_yes", "title": "Yes, thanks"}},
        {"type": "reply", "reply": {"id": "helpful_no", "title": "No"}},
        {"type": "reply", "reply": {"id": "agent", "title": "Talk to a person"}},
    ]

    pressed = button_reply("helpful_yes", message_id="wamid.PRESS")
    assert (await deliver(webhook, pressed)).status_code == 200
    assert (await deliver(webhook, pressed)).status_code == 200  # a retry: taken once
    assert await bodies_of(runtime, ticket.id, AuthorKind.PLAYER) == [
        "how long does a withdrawal take to arrive?",
        "Yes, thanks",
    ]
    assert (await answer_bot_turns(runtime))["answered"] == 1
    assert (await deliver_outbox(runtime))["sent"] == 1
    assert graph_api.sent[-1]["type"] == "text"


async def test_a_failed_status_shows_on_the_reply_and_a_closed_window_in_the_console(
    webhook: httpx.AsyncClient,
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    clock: FrozenClock,
) -> None:
    agent = await make_agent()
    await deliver(webhook, text_message("Hello?", message_id="wamid.W1"))
    ticket = await only_ticket(runtime)
    async with runtime.uow() as uow:
        posted = await agent_replies.post_agent_message(
            uow,
            actor=agent.actor,
            ticket_id=ticket.id,
            body="Hi, how can I help?",
            kind=MessageKind.REPLY,
            client_msg_id=None,
            attachment_ids=[],
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
        )
    assert (await deliver_outbox(runtime))["sent"] == 1
    assert (await deliver(webhook, status("wamid.FAKE000001", "failed"))).status_code == 200
    async with runtime.uow() as uow:
        [row] = (await uow.session.scalars(select(OutboxItem))).all()
        assert row.status == "dead"

    url = f"/console/tickets/{ticket.id}/conversation"
    data = (await client.get(url, headers=agent.headers)).json()
    [_, reply] = data["messages"]
    assert reply["id"] == posted.message.id
    assert reply["delivery"]["status"] == "dead"
    assert reply["delivery"]["error"].startswith("WhatsApp 131047: Re-engagement message")
    closes_at = data["whatsapp_window_closes_at"]
    assert closes_at == (clock.now() + timedelta(hours=24)).isoformat()

    clock.advance(timedelta(hours=25))
    refused = await client.post(
        f"/api/v1/tickets/{ticket.id}/messages",
        json={"body": "Still there?", "kind": "reply"},
        headers=agent.headers,
    )
    assert refused.status_code == 422
    assert "template" in refused.text


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8


async def test_a_players_image_and_a_refused_document_reach_the_agent(
    webhook: httpx.AsyncClient,
    client: httpx.AsyncClient,
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
) -> None:
    agent = await make_agent()
    graph_api.media["1479537139650973"] = FakeMedia(data=JPEG, mime_type="image/jpeg")
    image = media_message(
        "image", media_id="1479537139650973", message_id="wamid.IMG1", caption="my deposit"
    )
    assert (await deliver(webhook, image)).status_code == 200
    assert (await deliver(webhook, image)).status_code == 200  # a retry: downloaded once
    graph_api.media["1230458876543219"] = FakeMedia(
        data=b"PK\x03\x04" + bytes(range(256)), mime_type="application/zip"
    )
    document = media_message(
        "document",
        media_id="1230458876543219",
        message_id="wamid.DOC1",
        filename="statement.zip",
        caption="the statement",
    )
    assert (await deliver(webhook, document)).status_code == 200
    assert graph_api.downloads == ["1479537139650973", "1230458876543219"]

    ticket = await only_ticket(runtime)
    url = f"/console/tickets/{ticket.id}/conversation"
    data = (await client.get(url, headers=agent.headers)).json()
    [photo, refused] = data["messages"]
    assert photo["body"] == "my deposit"
    [attachment] = photo["attachments"]
    assert (attachment["filename"], attachment["content_type"], attachment["size"]) == (
        "image-1479537139650973.jpg",
        "image/jpeg",
        len(JPEG),
    )
    download = await client.get(f"/api/v1/attachments/{attachment['id']}", headers=agent.headers)
    assert (download.status_code, download.content) == (200, JPEG)
    assert refused["attachments"] == []
    assert refused["body"] == (
        "[a file that could not be accepted: statement.zip, type not allowed (unknown type)]"
        "\n\nthe statement"
    )
