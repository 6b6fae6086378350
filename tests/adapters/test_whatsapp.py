"""The WhatsApp adapter: recorded real-shaped notifications parsed strictly, replies
delivered by the outbox job to a local Graph API server over real HTTP (text, reply
buttons, refusals dead-lettered, outages retried), statuses that report a failure after the
send, the 24-hour customer-service window, images and documents downloaded into the
attachment store (or noted when refused), notes for what the desk cannot show, and
approved templates listed, refused and sent through the outbox."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.adapters.whatsapp import (
    GraphTemplate,
    InboundButton,
    InboundIgnored,
    InboundMedia,
    InboundStatus,
    InboundText,
    MalformedNotification,
    WhatsAppApi,
    message_bodies,
    parse_notification,
    reply_buttons,
    take_notification,
    template_catalog,
    template_of,
    whatsapp_sender,
)
from playerdesk.clock import FrozenClock
from playerdesk.db.models import Attachment, ChannelIdentity, Message, Ticket
from playerdesk.domain.enums import AuthorKind, Channel, MessageKind
from playerdesk.domain.errors import NotFound, Unavailable, ValidationFailed
from playerdesk.domain.mail import OutboxStatus
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import outbound
from playerdesk.services import whatsapp_templates as template_service
from playerdesk.services.messengers import MessengerOutcome
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings
from tests.casino_backoffice import closed_port_url
from tests.conftest import AgentFactory, AgentLogin
from tests.outbox_steps import agent_replies, outbox_rows
from tests.whatsapp_api import (
    ACCESS_TOKEN,
    PHONE_NUMBER_ID,
    WA_ID,
    FakeGraphApi,
    FakeMedia,
    fake_graph_api,
    fixture,
    media_message,
    status,
    template,
    text_message,
    whatsapp_settings,
)


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    async with fake_graph_api() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, graph_api: FakeGraphApi) -> Settings:
    # A small attachment limit, so that files over it stay small in the tests.
    return whatsapp_settings(
        database_url=database_url,
        tmp_path=tmp_path,
        api_base=graph_api.base_url,
        attachment_max_bytes=LIMIT,
    )


LIMIT = 64 * 1024
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + b"statement " * 300
ZIP = b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(256))
IMAGE_ID = "1479537139650973"
DOCUMENT_ID = "1230458876543219"


def raw(notification: dict[str, object]) -> bytes:
    return json.dumps(notification).encode()


# --- parsing -------------------------------------------------------------------------


def test_a_text_message_names_its_sender_and_key() -> None:
    [inbound] = parse_notification(raw(fixture("text_message")))
    assert isinstance(inbound, InboundText)
    assert inbound.text == "Cześć, moja wypłata jeszcze nie dotarła"
    assert inbound.key == "whatsapp:wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQTdDRDBGQjg3RjI1QjQ4QzZCQQA="
    assert inbound.sender.channel is Channel.WHATSAPP
    assert (inbound.sender.address, inbound.sender.name) == (WA_ID, "Agnieszka Nowak")


def test_a_pressed_reply_button_carries_its_id() -> None:
    [inbound] = parse_notification(raw(fixture("button_reply")))
    assert isinstance(inbound, InboundButton)
    assert inbound.button_id == "helpful_yes"
    assert inbound.sender.address == WA_ID


def test_statuses_carry_the_message_id_and_the_error() -> None:
    [failed] = parse_notification(raw(fixture("status_failed")))
    assert isinstance(failed, InboundStatus)
    assert failed.status == "failed"
    assert failed.error == (
        "WhatsApp 131047: Re-engagement message: Message failed to send because more than "
        "24 hours have passed since the customer last replied to this number."
    )
    [delivered] = parse_notification(raw(fixture("status_delivered")))
    assert isinstance(delivered, InboundStatus)
    assert (delivered.status, delivered.error) == ("delivered", None)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("reaction", "message_reaction"), ("account_update", "field_account_update")],
)
def test_what_we_do_not_take_is_recognised(name: str, kind: str) -> None:
    [inbound] = parse_notification(raw(fixture(name)))
    assert isinstance(inbound, InboundIgnored)
    assert inbound.kind == kind


def test_images_and_documents_name_their_media_and_keep_the_caption() -> None:
    [image] = parse_notification(raw(fixture("image")))
    assert isinstance(image, InboundMedia)
    assert (image.kind, image.media_id, image.caption) == ("image", IMAGE_ID, "my deposit")
    assert image.filename == f"image-{IMAGE_ID}.jpg"  # WhatsApp sends an image without a name
    assert image.key == "whatsapp:wamid.HBgLNDg2MDEyMzQ1NjcVAgASGBQzQUNEOTBFMEI1RUY1NkQ0NkFFQQA="
    assert image.sender.address == WA_ID
    [document] = parse_notification(raw(fixture("document")))
    assert isinstance(document, InboundMedia)
    assert (document.kind, document.media_id) == ("document", DOCUMENT_ID)
    assert (document.filename, document.caption) == ("wyciag-pazdziernik.pdf", "wyciąg z banku")


@pytest.mark.parametrize(
    ("name", "note"),
    [
        (
            "audio",
            "[a voice message, which the desk cannot play: ask the player to write it instead]",
        ),
        (
            "video",
            "[a video, which the desk does not take: ask the player for a screenshot or to "
            "describe it]\n\nekran wypłaty",
        ),
        ("sticker", "[a sticker]"),
        (
            "location",
            "[a location: Kasyno Centrum, ul. Marszałkowska 1, Warszawa (52.229676, 21.012229)]",
        ),
        ("contacts", "[a contact card: Jan Kowalski (+48 601 111 222)]"),
        (
            "unsupported",
            "[a message of a kind WhatsApp does not pass on to the desk: ask the player to send "
            "it another way]",
        ),
    ],
)
def test_what_the_desk_cannot_show_becomes_a_note_for_the_agent(name: str, note: str) -> None:
    [inbound] = parse_notification(raw(fixture(name)))
    assert isinstance(inbound, InboundText)
    assert (inbound.kind, inbound.text) == (name, note)


def test_a_pressed_template_quick_reply_is_its_label() -> None:
    [inbound] = parse_notification(raw(fixture("template_button")))
    assert isinstance(inbound, InboundText)
    assert (inbound.kind, inbound.text) == ("button", "Tak, proszę")


def test_another_phone_number_of_the_account_is_not_ours() -> None:
    [inbound] = parse_notification(raw(fixture("text_message")), phone_number_id="999")
    assert isinstance(inbound, InboundIgnored)
    assert parse_notification(raw(fixture("text_message")), phone_number_id=PHONE_NUMBER_ID)


def test_malformed_notifications_are_refused_with_their_ids() -> None:
    with pytest.raises(MalformedNotification) as caught:
        parse_notification(b"not json")
    assert (caught.value.entry_ids, caught.value.message_ids) == ([], [])
    broken = fixture("text_message")
    message = broken["entry"][0]["changes"][0]["value"]["messages"][0]
    message["timestamp"] = 1793609600  # a number where WhatsApp sends a string
    with pytest.raises(MalformedNotification) as caught:
        parse_notification(raw(broken))
    assert caught.value.entry_ids == ["102290129340398"]
    assert caught.value.message_ids == [message["id"]]
    with pytest.raises(MalformedNotification):
        parse_notification(b'{"object": "whatsapp_business_account"}')


# --- rendering -----------------------------------------------------------------------


def test_quick_replies_become_at_most_three_short_reply_buttons() -> None:
    buttons = reply_buttons(
        [
            {"id": "helpful_yes", "label": "Yes, thanks"},
            {"id": "", "label": "no id"},
            {"id": "agent", "label": "Talk to a person, please"},
            {"id": "helpful_no", "label": "No"},
            {"id": "fourth", "label": "One too many"},
        ]
    )
    assert buttons == [
        {"type": "reply", "reply": {"id": "helpful_yes", "title": "Yes, thanks"}},
        {"type": "reply", "reply": {"id": "agent", "title": "Talk to a person, p…"}},
        {"type": "reply", "reply": {"id": "helpful_no", "title": "No"}},
    ]
    assert all(len(button["reply"]["title"]) <= 20 for button in buttons)


def test_a_long_text_with_buttons_keeps_the_interactive_body_short() -> None:
    text = " ".join(f"word{number}" for number in range(1500))  # ~10 000 characters
    bodies = message_bodies(
        to=WA_ID, text=text, quick_replies=[{"id": "agent", "label": "Talk to a person"}]
    )
    assert [body["type"] for body in bodies[:-1]] == ["text"] * (len(bodies) - 1)
    assert all(len(body["text"]["body"]) <= 4096 for body in bodies[:-1])
    last = bodies[-1]["interactive"]
    assert last["type"] == "button" and len(last["body"]["text"]) <= 1024
    words = [body["text"]["body"] for body in bodies[:-1]] + [last["body"]["text"]]
    assert " ".join(words) == text


# --- delivering through the outbox ----------------------------------------------------


async def player_writes(runtime: Runtime, text: str, *, message_id: str = "wamid.IN1") -> int:
    taken = await take_notification(runtime, raw=raw(text_message(text, message_id=message_id)))
    [ticket_id] = taken.ticket_ids
    return ticket_id


async def test_an_agent_reply_reaches_the_players_chat(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "My withdrawal has not arrived")
    await agent_replies(runtime, agent, ticket_id, "It was sent today; allow 1-3 banking days.")
    await agent_replies(runtime, agent, ticket_id, "VIP, be quick", kind=MessageKind.NOTE)
    [row] = await outbox_rows(runtime)  # the internal note never goes out
    assert (row.channel, row.recipient, row.status) == ("whatsapp", WA_ID, "pending")

    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert graph_api.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "text",
            "text": {"preview_url": False, "body": "It was sent today; allow 1-3 banking days."},
        }
    ]
    [row] = await outbox_rows(runtime)
    assert (row.status, row.provider_message_id) == (OutboxStatus.SENT.value, "wamid.FAKE000001")


async def test_a_failed_status_dead_letters_the_reply_and_delivered_does_not(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi, how can I help?")
    assert (await deliver_outbox(runtime))["sent"] == 1

    delivered = await take_notification(runtime, raw=raw(status("wamid.FAKE000001", "delivered")))
    # `delivered` moves the conversation's receipts (tests/services/test_messenger_receipts.py).
    assert delivered.outcomes == ["status_delivered"]
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.SENT.value

    failed = await take_notification(runtime, raw=raw(status("wamid.FAKE000001", "failed")))
    assert failed.outcomes == ["status_failed"]
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.DEAD.value
    assert row.last_error is not None and row.last_error.startswith("WhatsApp 131047")
    unknown = await take_notification(runtime, raw=raw(status("wamid.NOT-OURS", "failed")))
    assert unknown.outcomes == ["status_unknown"]


async def test_a_refused_message_is_dead_lettered_and_an_undeliverable_number_marked(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    graph_api.failures = [(400, 131026, "Message undeliverable")]
    await agent_replies(runtime, agent, ticket_id, "First answer")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 1}
    [row] = await outbox_rows(runtime)
    assert row.last_error == "WhatsApp 400/131026: Message undeliverable"
    async with runtime.uow() as uow:
        identity = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "whatsapp")
        )
        assert identity is not None and identity.delivery_failed_at is not None


@pytest.mark.parametrize(
    ("failure"),
    [(500, 1, "An unknown error occurred"), (429, 130429, "Rate limit hit")],
)
async def test_an_outage_or_rate_limit_is_retried(
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    clock: FrozenClock,
    failure: tuple[int, int, str],
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    graph_api.failures = [failure]
    await agent_replies(runtime, agent, ticket_id, "We are on it.")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 1, "dead": 0}
    clock.advance(timedelta(seconds=runtime.settings.outbox_retry_seconds + 1))
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert [body["text"]["body"] for body in graph_api.sent] == ["We are on it."] * 2


async def test_an_unreachable_api_is_temporary_and_the_token_is_never_in_the_error() -> None:
    sender = whatsapp_sender(
        WhatsAppApi(
            base_url=closed_port_url(), access_token=ACCESS_TOKEN, phone_number_id=PHONE_NUMBER_ID
        )
    )
    delivery = Delivery(
        id=1,
        channel="whatsapp",
        recipient=WA_ID,
        idempotency_key="whatsapp:message:1",
        payload={"chat_id": WA_ID, "text": "Hello", "quick_replies": []},
        attempts=1,
        resumed=False,
    )
    with pytest.raises(DeliveryFailed) as caught:
        await sender(delivery)
    assert caught.value.permanent is False
    assert ACCESS_TOKEN not in str(caught.value)


async def test_a_wrong_token_waits_for_the_admin(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    sender = whatsapp_sender(
        WhatsAppApi(
            base_url=graph_api.base_url, access_token="wrong", phone_number_id=PHONE_NUMBER_ID
        )
    )
    assert await deliver_outbox(runtime, senders={"whatsapp": sender}) == {
        "sent": 0,
        "retry": 1,
        "dead": 0,
    }


# --- the 24-hour customer-service window ------------------------------------------------


async def test_an_agent_reply_outside_the_24_hour_window_is_refused(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None
        closes_at = await outbound.whatsapp_window_closes_at(uow, ticket=ticket)
    assert closes_at == clock.now() + timedelta(hours=24)

    clock.advance(timedelta(hours=23, minutes=59))
    await agent_replies(runtime, agent, ticket_id, "Still in time")
    clock.advance(timedelta(minutes=2))
    with pytest.raises(ValidationFailed) as caught:
        await agent_replies(runtime, agent, ticket_id, "Too late")
    assert caught.value.field == "body"
    assert "template" in str(caught.value)
    assert len(await outbox_rows(runtime)) == 1  # the refused reply was not stored or queued

    # The player writes again: the window opens for another 24 hours.
    await player_writes(runtime, "Are you there?", message_id="wamid.IN2")
    await agent_replies(runtime, agent, ticket_id, "Yes, here")
    assert len(await outbox_rows(runtime)) == 2


async def test_a_message_and_its_retry_open_one_ticket(runtime: Runtime) -> None:
    notification = raw(text_message("Where is my bonus?", message_id="wamid.RETRY"))
    first = await take_notification(runtime, raw=notification)
    again = await take_notification(runtime, raw=notification)
    assert first.outcomes == [MessengerOutcome.CREATED.value]
    assert again.outcomes == [MessengerOutcome.DUPLICATE.value]
    async with runtime.uow() as uow:
        tickets = list((await uow.session.scalars(select(Ticket))).all())
    assert [(ticket.channel, ticket.subject) for ticket in tickets] == [
        ("whatsapp", "Where is my bonus?")
    ]


# --- media ---------------------------------------------------------------------------


async def messages_with_files(runtime: Runtime) -> list[tuple[Message, list[Attachment]]]:
    async with runtime.uow() as uow:
        rows = (await uow.session.scalars(select(Message).order_by(Message.id))).all()
        found = []
        for message in rows:
            attachments = (
                await uow.session.scalars(
                    select(Attachment).where(Attachment.message_id == message.id)
                )
            ).all()
            found.append((message, list(attachments)))
        return found


async def test_an_image_is_downloaded_stored_and_attached_once(
    runtime: Runtime, graph_api: FakeGraphApi
) -> None:
    graph_api.media[IMAGE_ID] = FakeMedia(data=JPEG, mime_type="image/jpeg")
    notification = raw(
        media_message(
            "image", media_id=IMAGE_ID, message_id="wamid.IMG", caption="Mój dowód wpłaty"
        )
    )
    taken = await take_notification(runtime, raw=notification)
    assert taken.outcomes == [MessengerOutcome.CREATED.value]
    # Meta delivers it again: recognised before anything is downloaded again.
    again = await take_notification(runtime, raw=notification)
    assert again.outcomes == [MessengerOutcome.DUPLICATE.value]
    assert graph_api.downloads == [IMAGE_ID]

    [(message, [attachment])] = await messages_with_files(runtime)
    assert (message.author_kind, message.body) == (AuthorKind.PLAYER.value, "Mój dowód wpłaty")
    assert message.client_msg_id == "whatsapp:wamid.IMG"
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        f"image-{IMAGE_ID}.jpg",
        "image/jpeg",
        len(JPEG),
    )
    assert attachment.ticket_id == taken.ticket_ids[0]
    assert await runtime.attachments.get(attachment.sha256) == JPEG


async def test_a_document_without_caption_keeps_its_name_and_names_the_ticket(
    runtime: Runtime, graph_api: FakeGraphApi
) -> None:
    graph_api.media[DOCUMENT_ID] = FakeMedia(data=PDF, mime_type="application/pdf")
    notification = media_message(
        "document", media_id=DOCUMENT_ID, message_id="wamid.DOC", filename="statement.pdf"
    )
    taken = await take_notification(runtime, raw=raw(notification))
    [(message, [attachment])] = await messages_with_files(runtime)
    assert message.body == ""
    assert (attachment.filename, attachment.content_type) == ("statement.pdf", "application/pdf")
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, taken.ticket_ids[0])
        assert ticket is not None and ticket.subject == "statement.pdf"


async def test_a_file_declared_over_the_limit_is_a_note_and_never_downloaded(
    runtime: Runtime, graph_api: FakeGraphApi
) -> None:
    graph_api.media[DOCUMENT_ID] = FakeMedia(
        data=PDF, mime_type="application/pdf", declared_size=15 * 1024 * 1024
    )
    notification = media_message(
        "document", media_id=DOCUMENT_ID, message_id="wamid.BIG", caption="all my scans"
    )
    taken = await take_notification(runtime, raw=raw(notification))
    assert taken.outcomes == [MessengerOutcome.CREATED.value]
    assert graph_api.downloads == []
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body == (
        "[a file that could not be accepted: wyciag-pazdziernik.pdf, too large "
        "(15.0 MB; the limit is 0.1 MB)]\n\nall my scans"
    )


async def test_a_file_larger_than_it_said_is_read_no_further_than_the_limit(
    runtime: Runtime, graph_api: FakeGraphApi
) -> None:
    huge = PDF + b"x" * (LIMIT * 4)
    graph_api.media[DOCUMENT_ID] = FakeMedia(
        data=huge, mime_type="application/pdf", declared_size=1000
    )
    await take_notification(
        runtime, raw=raw(media_message("document", media_id=DOCUMENT_ID, message_id="wamid.LIE"))
    )
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body.startswith(
        "[a file that could not be accepted: wyciag-pazdziernik.pdf, too large"
    )
    async with runtime.uow() as uow:
        assert (await uow.session.scalars(select(Attachment))).all() == []


async def test_a_type_the_desk_does_not_take_is_a_note(
    runtime: Runtime, graph_api: FakeGraphApi
) -> None:
    graph_api.media[DOCUMENT_ID] = FakeMedia(data=ZIP, mime_type="application/zip")
    notification = media_message(
        "document", media_id=DOCUMENT_ID, message_id="wamid.ZIP", filename="statement.zip"
    )
    await take_notification(runtime, raw=raw(notification))
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body == (
        "[a file that could not be accepted: statement.zip, type not allowed (unknown type)]"
    )


async def test_media_the_api_cannot_serve_is_a_note_asking_for_it_again(
    runtime: Runtime, graph_api: FakeGraphApi
) -> None:
    # No such media at Meta (expired, or never ours).
    with capture_logs() as logs:
        await take_notification(
            runtime,
            raw=raw(media_message("image", media_id="999", message_id="wamid.GONE", caption="?")),
        )
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body == (
        "[a file that could not be downloaded from the messenger: image-999.jpg; ask the "
        "player to send it again]\n\n?"
    )
    [failed] = [entry for entry in logs if entry["event"] == "whatsapp_media_download_failed"]
    assert failed["error"].startswith("WhatsApp 400/100: Unsupported get request.")
    assert ACCESS_TOKEN not in str(logs)


async def test_an_unreachable_api_leaves_a_note_too(
    settings: Settings, clock: FrozenClock, runtime: Runtime
) -> None:
    runtime.settings = settings.model_copy(update={"whatsapp_api_base": closed_port_url()})
    await take_notification(
        runtime, raw=raw(media_message("image", media_id=IMAGE_ID, message_id="wamid.DOWN"))
    )
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body.startswith("[a file that could not be downloaded from the messenger")


async def test_a_location_opens_a_ticket_with_its_note(runtime: Runtime) -> None:
    taken = await take_notification(runtime, raw=raw(fixture("location")))
    assert taken.outcomes == [MessengerOutcome.CREATED.value]
    [(message, _)] = await messages_with_files(runtime)
    assert message.body.startswith("[a location: Kasyno Centrum")


# --- template messages -----------------------------------------------------------------


def test_templates_the_desk_cannot_fill_are_marked() -> None:
    listed = {
        (item["name"], item["language"]): template_of(GraphTemplate.model_validate(item))
        for item in fixture("message_templates")["data"]
    }
    update = listed[("ticket_update", "pl")]
    assert (update.unsupported, update.parameters, update.named) == (None, ["1", "2"], False)
    assert update.examples == ("Agnieszko", "1042")
    assert update.render(["Agnieszko", "1042"]) == (
        "Twoje zgłoszenie\n\n"
        "Dzień dobry Agnieszko, odpowiedzieliśmy na Twoje zgłoszenie nr 1042.\n\n"
        "Obsługa klienta\n\n[Tak, proszę] [Nie, dziękuję]"
    )
    named = listed[("account_review", "en_US")]
    assert (named.named, named.parameters) == (True, ["first_name", "topic"])
    assert named.components(["Anna", "bonus"]) == [
        {
            "type": "body",
            "parameters": [
                {"type": "text", "text": "Anna", "parameter_name": "first_name"},
                {"type": "text", "text": "bonus", "parameter_name": "topic"},
            ],
        }
    ]
    assert listed[("bonus_offer", "pl")].unsupported == (
        "its header is a image, which the desk cannot attach"
    )
    assert listed[("login_code", "en_US")].unsupported == (
        "an authentication template carries a one-time code"
    )
    assert not listed[("withdrawal_paused", "pl")].approved


async def whatsapp_ticket(runtime: Runtime, *, text: str = "Cześć") -> int:
    return await player_writes(runtime, text)


async def test_the_templates_are_listed_and_kept_for_a_minute(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi, clock: FrozenClock
) -> None:
    graph_api.templates = fixture("message_templates")["data"]
    graph_api.template_page_size = 2  # three pages
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    catalog = template_catalog(runtime)
    async with runtime.read_uow() as uow:
        choice = await template_service.list_templates(
            uow, actor=agent.actor, ticket_id=ticket_id, catalog=catalog
        )
    assert graph_api.template_pages == 3
    # Sendable only (not the paused, image-header or code templates), those in the
    # conversation's language first (WhatsApp does not tell the player's: the default).
    assert [(item.name, item.language) for item in choice.templates] == [
        ("account_review", "en_US"),
        ("ticket_update", "en_US"),
        ("ticket_update", "pl"),
    ]
    assert (choice.language, choice.configured) == ("en", True)
    assert choice.window_closes_at == clock.now() + timedelta(hours=24)

    clock.advance(timedelta(seconds=59))
    async with runtime.read_uow() as uow:
        await template_service.list_templates(
            uow, actor=agent.actor, ticket_id=ticket_id, catalog=template_catalog(runtime)
        )
    assert graph_api.template_pages == 3  # kept
    clock.advance(timedelta(seconds=2))
    async with runtime.read_uow() as uow:
        await template_service.list_templates(
            uow, actor=agent.actor, ticket_id=ticket_id, catalog=template_catalog(runtime)
        )
    assert graph_api.template_pages == 6  # listed again


async def send(
    runtime: Runtime,
    agent: AgentLogin,
    ticket_id: int,
    name: str,
    language: str,
    parameters: list[str],
    client_msg_id: str | None = None,
) -> template_service.PostedMessage:
    async with runtime.uow() as uow:
        return await template_service.send_template(
            uow,
            actor=agent.actor,
            ticket_id=ticket_id,
            name=name,
            language=language,
            parameters=parameters,
            client_msg_id=client_msg_id,
            catalog=template_catalog(runtime),
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


async def test_a_template_outside_the_window_reaches_the_graph_api(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi, clock: FrozenClock
) -> None:
    graph_api.templates = fixture("message_templates")["data"]
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    clock.advance(timedelta(hours=30))
    with pytest.raises(ValidationFailed):
        await agent_replies(runtime, agent, ticket_id, "Are you still there?")

    posted = await send(
        runtime, agent, ticket_id, "ticket_update", "pl", [" Agnieszko ", "1042"], "tpl-1"
    )
    assert posted.created
    # The conversation shows what the player sees.
    assert posted.message.body == (
        "Twoje zgłoszenie\n\n"
        "Dzień dobry Agnieszko, odpowiedzieliśmy na Twoje zgłoszenie nr 1042.\n\n"
        "Obsługa klienta\n\n[Tak, proszę] [Nie, dziękuję]"
    )
    assert (posted.message.author_kind, posted.message.kind) == ("agent", "reply")
    replay = await send(
        runtime, agent, ticket_id, "ticket_update", "pl", ["Agnieszko", "1042"], "tpl-1"
    )
    assert (replay.created, replay.message.id) == (False, posted.message.id)
    [row] = await outbox_rows(runtime)
    assert (row.channel, row.recipient, row.message_id) == ("whatsapp", WA_ID, posted.message.id)

    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert graph_api.sent == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "template",
            "template": {
                "name": "ticket_update",
                "language": {"code": "pl"},
                "components": [
                    {
                        "type": "body",
                        "parameters": [
                            {"type": "text", "text": "Agnieszko"},
                            {"type": "text", "text": "1042"},
                        ],
                    }
                ],
            },
        }
    ]
    [row] = await outbox_rows(runtime)
    assert (row.status, row.provider_message_id) == ("sent", "wamid.FAKE000001")
    # A template does not open the window: only the player's message does.
    with pytest.raises(ValidationFailed):
        await agent_replies(runtime, agent, ticket_id, "Hello again")


async def test_a_named_template_sends_its_parameters_by_name(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    graph_api.templates = fixture("message_templates")["data"]
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    await send(runtime, agent, ticket_id, "account_review", "en_US", ["Anna", "your withdrawal"])
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    [body] = graph_api.sent
    assert body["template"]["components"][0]["parameters"][1] == {
        "type": "text",
        "text": "your withdrawal",
        "parameter_name": "topic",
    }


@pytest.mark.parametrize(
    ("name", "language", "parameters", "field", "says"),
    [
        ("withdrawal_paused", "pl", ["W-1"], "name", "is paused, not approved"),
        ("no_such_template", "pl", [], "name", "no template named no_such_template"),
        ("ticket_update", "de", ["Anna", "1"], "language", "no version in de (it has: en_US, pl)"),
        ("bonus_offer", "pl", ["Anna"], "name", "cannot be sent from the desk"),
        ("ticket_update", "pl", ["Anna"], "parameters", "takes 2 parameter(s) ({{1}}, {{2}}); 1"),
        ("ticket_update", "pl", ["Anna", "  "], "parameters.1", "a value for {{2}}"),
        ("ticket_update", "pl", ["Anna\nNowak", "1"], "parameters.0", "no line breaks"),
        ("ticket_update", "pl", ["Anna      Nowak", "1"], "parameters.0", "four spaces"),
    ],
)
async def test_what_cannot_be_sent_is_refused_naming_the_field(
    runtime: Runtime,
    make_agent: AgentFactory,
    graph_api: FakeGraphApi,
    name: str,
    language: str,
    parameters: list[str],
    field: str,
    says: str,
) -> None:
    graph_api.templates = fixture("message_templates")["data"]
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    with pytest.raises(ValidationFailed) as caught:
        await send(runtime, agent, ticket_id, name, language, parameters)
    assert caught.value.field == field
    assert says in str(caught.value)
    assert await outbox_rows(runtime) == []
    async with runtime.read_uow() as uow:
        agents_messages = await uow.session.scalars(
            select(Message).where(Message.author_kind == AuthorKind.AGENT.value)
        )
        assert agents_messages.all() == []


async def test_a_card_number_in_a_parameter_is_masked_before_it_leaves(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi
) -> None:
    graph_api.templates = [template("ticket_update")]
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    posted = await send(
        runtime, agent, ticket_id, "ticket_update", "pl", ["4111 1111 1111 1111", "7"]
    )
    assert "4111 1111 1111 1111" not in posted.message.body
    await deliver_outbox(runtime)
    assert "4111 1111 1111 1111" not in str(graph_api.sent)


async def test_an_unknown_ticket_an_unreachable_list_and_no_account_are_refused(
    runtime: Runtime, make_agent: AgentFactory, graph_api: FakeGraphApi, settings: Settings
) -> None:
    agent = await make_agent()
    ticket_id = await whatsapp_ticket(runtime)
    # The Graph API refuses the listing (a wrong account id or token): 503, try again.
    graph_api.template_failure = (400, 100, "Unsupported get request.")
    with pytest.raises(Unavailable):
        await send(runtime, agent, ticket_id, "ticket_update", "pl", ["Anna", "1"])
    assert await outbox_rows(runtime) == []

    graph_api.template_failure = None
    async with runtime.uow() as uow:
        with pytest.raises(NotFound):
            await template_service.list_templates(
                uow, actor=agent.actor, ticket_id=999, catalog=template_catalog(runtime)
            )

    # No business account configured: nothing to list, and sending says why.
    runtime.settings = settings.model_copy(update={"whatsapp_business_account_id": None})
    assert template_catalog(runtime) is None
    async with runtime.read_uow() as uow:
        choice = await template_service.list_templates(
            uow, actor=agent.actor, ticket_id=ticket_id, catalog=None
        )
    assert (choice.configured, choice.templates) == (False, [])
    with pytest.raises(ValidationFailed) as caught:
        await send(runtime, agent, ticket_id, "ticket_update", "pl", ["Anna", "1"])
    assert caught.value.field == "name"
    assert "PLAYERDESK_WHATSAPP_BUSINESS_ACCOUNT_ID" in str(caught.value)
