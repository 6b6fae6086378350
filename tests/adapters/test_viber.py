"""The Viber adapter: recorded real-shaped callbacks parsed strictly, the signature check,
pictures, videos and files downloaded from a local media server into the attachment store
(or a note saying why not), contacts, locations, stickers and links as notes, deep links in
conversation_started answered with a welcome message, and replies delivered by the outbox
job to a local REST API server over real HTTP (split to Viber's limit, quick replies as a
keyboard, refused receivers dead-lettered, outages retried, a later `failed` callback shown
on the reply)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from playerdesk.adapters.email_out import DeliveryFailed
from playerdesk.adapters.viber import (
    MalformedCallback,
    ViberApi,
    ViberConversationStarted,
    ViberDeliveryEvent,
    ViberEnvelope,
    ViberMessageEvent,
    ViberSubscribed,
    ViberUnsubscribed,
    message_note,
    parse_callback,
    reply_keyboard,
    sender_of,
    signature_matches,
    take_callback,
    viber_sender,
)
from playerdesk.clock import FrozenClock
from playerdesk.db.models import Attachment, ChannelIdentity, Message, Player, Ticket
from playerdesk.domain.enums import AuthorKind, Channel, MessageKind
from playerdesk.domain.mail import OutboxStatus
from playerdesk.i18n import translations
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import player_links
from playerdesk.services.attachments import AttachmentPolicy
from playerdesk.services.messengers import MessengerOutcome
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings
from tests.casino_backoffice import closed_port_url
from tests.conftest import AgentFactory
from tests.outbox_steps import agent_replies, outbox_rows
from tests.viber_api import (
    LINK_SECRET,
    TOKEN,
    USER,
    FakeViber,
    event_callback,
    fake_viber,
    fixture,
    media_callback,
    sign,
    text_callback,
    viber_settings,
)


@pytest.fixture
async def viber_api() -> AsyncIterator[FakeViber]:
    async with fake_viber() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, viber_api: FakeViber) -> Settings:
    return viber_settings(database_url=database_url, tmp_path=tmp_path, api_base=viber_api.base_url)


def raw(callback: dict[str, object]) -> bytes:
    return json.dumps(callback).encode()


# --- parsing and the signature --------------------------------------------------------


def test_a_text_message_names_its_sender_and_language() -> None:
    callback = parse_callback(raw(fixture("text_message")))
    assert isinstance(callback, ViberMessageEvent)
    assert callback.message_token == 5741311803571721087
    assert callback.message.type == "text"
    assert callback.message.text == "Cześć, moja wypłata jeszcze nie dotarła"
    sender = sender_of(callback.sender)
    assert sender.channel is Channel.VIBER
    assert (sender.address, sender.name, sender.language_tag) == (USER, "Agnieszka Nowak", "pl")


@pytest.mark.parametrize(
    ("name", "shape"),
    [
        ("subscribed", ViberSubscribed),
        ("unsubscribed", ViberUnsubscribed),
        ("conversation_started", ViberConversationStarted),
        ("delivered", ViberDeliveryEvent),
        ("seen", ViberDeliveryEvent),
        ("failed", ViberDeliveryEvent),
        ("webhook", ViberEnvelope),
        ("client_status", ViberEnvelope),  # an event we do not know: its envelope only
        ("picture_message", ViberMessageEvent),
        ("file_message", ViberMessageEvent),
        ("video_message", ViberMessageEvent),
        ("contact_message", ViberMessageEvent),
        ("location_message", ViberMessageEvent),
        ("sticker_message", ViberMessageEvent),
        ("url_message", ViberMessageEvent),
        ("conversation_started_deep_link", ViberConversationStarted),
    ],
)
def test_each_event_is_read_in_its_shape(name: str, shape: type[ViberEnvelope]) -> None:
    assert type(parse_callback(raw(fixture(name)))) is shape


def test_media_messages_name_their_url_size_and_file() -> None:
    picture = parse_callback(raw(fixture("picture_message")))
    document = parse_callback(raw(fixture("file_message")))
    video = parse_callback(raw(fixture("video_message")))
    assert isinstance(picture, ViberMessageEvent)
    assert isinstance(document, ViberMessageEvent)
    assert isinstance(video, ViberMessageEvent)
    assert (picture.message.media, picture.message.declared_size, picture.message.file_name) == (
        "https://dl-media.viber.com/5/share/2/long/vibes/example.jpg",
        182331,
        "screenshot.jpg",
    )
    assert (document.message.declared_size, document.message.file_name) == (48211, "statement.pdf")
    assert (video.message.declared_size, video.message.file_name) == (5242880, None)
    # Viber's documentation names the size `file_size`; either is read.
    renamed = fixture("file_message")
    renamed["message"]["file_size"] = renamed["message"].pop("size")
    parsed = parse_callback(raw(renamed))
    assert isinstance(parsed, ViberMessageEvent) and parsed.message.declared_size == 48211


def test_a_deep_link_is_the_context_of_conversation_started() -> None:
    started = parse_callback(raw(fixture("conversation_started_deep_link")))
    assert isinstance(started, ViberConversationStarted)
    assert (started.context, started.subscribed) == ("REPLACED-BY-THE-TEST", False)
    plain = parse_callback(raw(fixture("conversation_started")))
    assert isinstance(plain, ViberConversationStarted) and plain.context == ""


@pytest.mark.parametrize(
    ("name", "note"),
    [
        ("contact_message", "[a contact card: Jan Kowalski, +48601234567]"),
        ("location_message", "[a location: 52.229676, 21.012229]"),
        ("sticker_message", "[a sticker]"),
        ("url_message", "[a link: https://casino.example/promotions/weekly-reload]"),
    ],
)
def test_what_is_neither_text_nor_a_file_is_a_note(name: str, note: str) -> None:
    callback = parse_callback(raw(fixture(name)))
    assert isinstance(callback, ViberMessageEvent)
    assert message_note(callback.message) == note


def test_notes_keep_to_one_clean_line() -> None:
    callback = fixture("contact_message")
    callback["message"]["contact"] = {"name": "Jan\n\u202eKowalski\t", "phone_number": None}
    parsed = parse_callback(raw(callback))
    assert isinstance(parsed, ViberMessageEvent)
    assert message_note(parsed.message) == "[a contact card: Jan Kowalski]"
    located = fixture("location_message")
    located["message"]["location"]["address"] = "Plac Defilad 1,\nWarszawa"
    parsed = parse_callback(raw(located))
    assert isinstance(parsed, ViberMessageEvent)
    assert message_note(parsed.message) == (
        "[a location: 52.229676, 21.012229; Plac Defilad 1, Warszawa]"
    )
    unknown = fixture("url_message")
    unknown["message"] = {"type": "rich_media\x00" + "x" * 100}
    parsed = parse_callback(raw(unknown))
    assert isinstance(parsed, ViberMessageEvent)
    assert message_note(parsed.message) == (
        "[a Viber message the desk cannot show: rich_media " + "x" * 29 + "]"
    )


@pytest.mark.parametrize(
    ("body", "message_token"),
    [
        (b"not json at all", None),
        (b"[1, 2]", None),
        (b'{"event": "message", "timestamp": "soon", "message_token": 7}', 7),
        # a message without its sender
        (
            b'{"event": "message", "timestamp": 1, "message_token": 8, '
            b'"message": {"type": "text", "text": "hi"}}',
            8,
        ),
        # a user id that is a number, not Viber's string
        (b'{"event": "unsubscribed", "timestamp": 1, "message_token": 9, "user_id": 12}', 9),
        (b'{"event": "failed", "timestamp": 1, "user_id": "u"}', None),  # no message_token
        (b'{"timestamp": 1, "message_token": 10}', 10),  # no event
    ],
)
def test_malformed_callbacks_are_refused_with_their_message_token(
    body: bytes, message_token: int | None
) -> None:
    with pytest.raises(MalformedCallback) as caught:
        parse_callback(body)
    assert caught.value.message_token == message_token


def test_the_signature_is_the_bodys_hmac_with_the_auth_token(settings: Settings) -> None:
    body = raw(fixture("text_message"))
    assert signature_matches(settings, raw=body, presented=sign(body))
    assert signature_matches(settings, raw=body, presented=sign(body).upper())
    assert not signature_matches(settings, raw=body + b" ", presented=sign(body))
    assert not signature_matches(settings, raw=body, presented=sign(body, token="other"))
    assert not signature_matches(settings, raw=body, presented=None)
    assert not signature_matches(settings, raw=body, presented="")
    unconfigured = settings.model_copy(update={"viber_auth_token": None})
    assert not signature_matches(unconfigured, raw=body, presented=sign(body))


# --- rendering -----------------------------------------------------------------------


def test_quick_replies_become_a_reply_keyboard() -> None:
    keyboard = reply_keyboard(
        [
            {"id": "helpful_yes", "label": "Yes, thanks"},
            {"id": "not an id", "label": "an id with spaces cannot come back as one"},
            {"id": "agent", "label": "Talk to a person"},
            {"id": "nolabel", "label": ""},
        ]
    )
    assert keyboard == {
        "Type": "keyboard",
        "DefaultHeight": False,
        "Buttons": [
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": "helpful_yes",
                "Text": "Yes, thanks",
            },
            {
                "Columns": 6,
                "Rows": 1,
                "ActionType": "reply",
                "ActionBody": "agent",
                "Text": "Talk to a person",
            },
        ],
    }
    assert reply_keyboard([]) is None


# --- taking callbacks ------------------------------------------------------------------


async def player_writes(runtime: Runtime, text: str, *, message_token: int | None = None) -> int:
    taken = await take_callback(runtime, raw=raw(text_callback(text, message_token=message_token)))
    assert taken.ticket_id is not None
    return taken.ticket_id


async def messages_of(runtime: Runtime, ticket_id: int) -> list[Message]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(Message).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
        return list(rows)


async def identity(runtime: Runtime) -> ChannelIdentity:
    async with runtime.uow() as uow:
        found = await uow.session.scalar(
            select(ChannelIdentity).where(ChannelIdentity.channel == "viber")
        )
        assert found is not None
        return found


async def test_a_message_and_its_retry_open_one_ticket(runtime: Runtime) -> None:
    callback = raw(text_callback("Where is my bonus?", message_token=70))
    first = await take_callback(runtime, raw=callback)
    again = await take_callback(runtime, raw=callback)
    assert first.outcome is MessengerOutcome.CREATED
    assert again.outcome is MessengerOutcome.DUPLICATE
    async with runtime.uow() as uow:
        tickets = list((await uow.session.scalars(select(Ticket))).all())
    assert [(ticket.channel, ticket.subject) for ticket in tickets] == [
        ("viber", "Where is my bonus?")
    ]
    [message] = await messages_of(runtime, tickets[0].id)
    assert message.client_msg_id == "viber:70"


async def test_a_word_that_is_no_offered_button_is_the_players_message(runtime: Runtime) -> None:
    ticket_id = await player_writes(runtime, "Hello")
    taken = await take_callback(runtime, raw=raw(text_callback("helpful_yes")))
    assert (taken.event, taken.outcome) == ("message", MessengerOutcome.APPENDED)
    assert [message.body for message in await messages_of(runtime, ticket_id)] == [
        "Hello",
        "helpful_yes",
    ]


@pytest.mark.parametrize("name", ["conversation_started", "delivered", "seen", "client_status"])
async def test_events_without_a_message_for_the_desk_change_nothing(
    runtime: Runtime, name: str
) -> None:
    taken = await take_callback(runtime, raw=raw(fixture(name)))
    assert taken.outcome is MessengerOutcome.IGNORED
    async with runtime.uow() as uow:
        assert list((await uow.session.scalars(select(Ticket))).all()) == []


async def test_unsubscribing_marks_the_chat_unreachable_and_subscribing_clears_it(
    runtime: Runtime,
) -> None:
    await player_writes(runtime, "Hello")
    await take_callback(runtime, raw=raw(fixture("unsubscribed")))
    marked = await identity(runtime)
    assert marked.delivery_failed_at is not None
    assert marked.delivery_failure == "Viber: the player unsubscribed from the bot"

    await take_callback(runtime, raw=raw(fixture("subscribed")))
    assert (await identity(runtime)).delivery_failed_at is None

    await take_callback(runtime, raw=raw(fixture("unsubscribed")))
    # Writing again also makes the chat reachable (as on Telegram).
    await player_writes(runtime, "I am back")
    assert (await identity(runtime)).delivery_failed_at is None


# --- pictures, videos and files ---------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 8
PDF = b"%PDF-1.7\n" + b"statement " * 300
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


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


def small_attachment_limit(runtime: Runtime, max_bytes: int) -> None:
    policy = runtime.policies.attachments
    runtime.policies = dataclasses.replace(
        runtime.policies,
        attachments=AttachmentPolicy(max_bytes=max_bytes, allowed_types=policy.allowed_types),
    )


async def test_a_picture_is_downloaded_once_stored_and_attached_to_the_players_message(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    viber_api.media["screenshot.jpg"] = JPEG
    callback = raw(
        media_callback(
            "picture",
            media=viber_api.media_url("screenshot.jpg"),
            size=len(JPEG),
            text="Mój dowód wpłaty",
        )
    )
    taken = await take_callback(runtime, raw=callback)
    assert (taken.event, taken.outcome) == ("message_picture", MessengerOutcome.CREATED)
    # Viber delivers it again: recognised before anything is downloaded again.
    again = await take_callback(runtime, raw=callback)
    assert again.outcome is MessengerOutcome.DUPLICATE
    [(name, headers)] = viber_api.downloads
    assert name == "screenshot.jpg"
    # The media URL is public: our token never travels to it.
    assert "x-viber-auth-token" not in headers and TOKEN not in json.dumps(headers)

    [(message, [attachment])] = await messages_with_files(runtime)
    assert (message.author_kind, message.body) == (AuthorKind.PLAYER.value, "Mój dowód wpłaty")
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "screenshot.jpg",
        "image/jpeg",
        len(JPEG),
    )
    assert attachment.ticket_id == taken.ticket_id
    assert await runtime.attachments.get(attachment.sha256) == JPEG


async def test_a_file_without_caption_opens_a_ticket_named_after_it(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    viber_api.media["statement.pdf"] = PDF
    # Behind a CDN's redirect, as media URLs may be.
    callback = media_callback(
        "file", media=viber_api.media_url("moved-statement.pdf"), size=len(PDF)
    )
    taken = await take_callback(runtime, raw=raw(callback))
    assert (taken.event, taken.outcome) == ("message_file", MessengerOutcome.CREATED)
    assert [name for name, _ in viber_api.downloads] == ["moved-statement.pdf", "statement.pdf"]
    [(message, [attachment])] = await messages_with_files(runtime)
    assert message.body == ""
    assert (attachment.filename, attachment.content_type) == ("statement.pdf", "application/pdf")
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, taken.ticket_id)
        assert ticket is not None and ticket.subject == "statement.pdf"


async def test_a_file_declared_over_the_size_limit_is_a_note_and_never_downloaded(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    too_big = runtime.policies.attachments.max_bytes + 1
    viber_api.media["statements.pdf"] = PDF
    callback = media_callback(
        "file",
        media=viber_api.media_url("statements.pdf"),
        size=too_big,
        file_name="bank-statements.pdf",
    )
    taken = await take_callback(runtime, raw=raw(callback))
    assert taken.outcome is MessengerOutcome.CREATED
    assert viber_api.downloads == []
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body == (
        "[a file that could not be accepted: bank-statements.pdf, too large (10.0 MB; the "
        "limit is 10.0 MB)]"
    )


async def test_a_file_of_no_declared_size_is_read_no_further_than_the_limit(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    small_attachment_limit(runtime, 64 * 1024)
    # A PDF (an allowed type) that never ends, sent without a length.
    viber_api.endless["huge.pdf"] = PDF
    callback = media_callback("file", media=viber_api.media_url("huge.pdf"), size=None)
    with capture_logs() as logs:
        await take_callback(runtime, raw=raw(callback))
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body.startswith("[a file that could not be accepted: statement.pdf, too large (")
    assert message.body.endswith("the limit is 0.1 MB)]")
    # The download stopped at the limit (the stream produced what the sockets buffer).
    assert viber_api.streamed["huge.pdf"] < 64 * 1024 * 64
    assert [entry["event"] for entry in logs if entry["event"].startswith("viber_media")] == [
        "viber_media_refused"
    ]


async def test_a_longer_file_than_the_limit_is_refused_by_its_length(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    small_attachment_limit(runtime, 4096)
    viber_api.media["scan.jpg"] = JPEG + bytes(4096)
    await take_callback(
        runtime,
        raw=raw(media_callback("picture", media=viber_api.media_url("scan.jpg"), size=None)),
    )
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body.startswith("[a file that could not be accepted: screenshot.jpg, too large")


async def test_a_video_of_a_type_not_allowed_is_a_note_after_its_first_bytes(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    # An endless video: only stopping at its first bytes ends the download before the limit.
    viber_api.endless["recording.mp4"] = MP4
    callback = media_callback(
        "video", media=viber_api.media_url("recording.mp4"), size=None, text="Zobacz"
    )
    taken = await take_callback(runtime, raw=raw(callback))
    assert (taken.event, taken.outcome) == ("message_video", MessengerOutcome.CREATED)
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body == (
        "[a file that could not be accepted: video.mp4, type not allowed (unknown type)]\n\nZobacz"
    )
    assert viber_api.streamed["recording.mp4"] < runtime.policies.attachments.max_bytes


async def test_a_picture_of_a_known_type_not_allowed_is_named_in_the_note(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    policy = runtime.policies.attachments
    runtime.policies = dataclasses.replace(
        runtime.policies,
        attachments=AttachmentPolicy(max_bytes=policy.max_bytes, allowed_types=["application/pdf"]),
    )
    viber_api.media["screenshot.jpg"] = JPEG
    await take_callback(
        runtime,
        raw=raw(media_callback("picture", media=viber_api.media_url("screenshot.jpg"))),
    )
    [(message, attachments)] = await messages_with_files(runtime)
    assert attachments == []
    assert message.body == (
        "[a file that could not be accepted: screenshot.jpg, type not allowed (image/jpeg)]"
    )


async def test_a_media_url_whose_hour_has_passed_is_a_note_asking_for_it_again(
    runtime: Runtime, viber_api: FakeViber
) -> None:
    gone = viber_api.media_url("expired.jpg")  # the fake has no such file: 404
    with capture_logs() as logs:
        await take_callback(
            runtime, raw=raw(media_callback("picture", media=gone, text="Screenshot"))
        )
        # A URL that is not http(s) is never fetched.
        await take_callback(runtime, raw=raw(media_callback("file", media="file:///etc/passwd")))
        # Nor a media message without a URL; and one httpx cannot read is a note too.
        await take_callback(runtime, raw=raw(media_callback("file", media=None)))
        await take_callback(runtime, raw=raw(media_callback("file", media="http://[::1")))
    [(first, none), *others] = await messages_with_files(runtime)
    assert none == []
    assert first.body == (
        "[a file that could not be downloaded from the messenger: screenshot.jpg; ask the "
        "player to send it again]\n\nScreenshot"
    )
    assert [message.body for message, _ in others] == [
        "[a file that could not be downloaded from the messenger: statement.pdf; ask the "
        "player to send it again]"
    ] * 3
    failed = [entry for entry in logs if entry["event"] == "viber_media_download_failed"]
    assert [entry["error"] for entry in failed] == [
        "HTTP 404",
        "the media URL is not http(s)",
        "InvalidURL",
    ]
    assert all("expired.jpg" not in json.dumps(entry) for entry in logs)  # never the URL


# --- contacts, locations, stickers, links --------------------------------------------------


async def test_contacts_locations_stickers_and_links_are_the_players_messages(
    runtime: Runtime,
) -> None:
    kinds = ["contact_message", "location_message", "sticker_message", "url_message"]
    outcomes = [(await take_callback(runtime, raw=raw(fixture(name)))).outcome for name in kinds]
    assert outcomes == [MessengerOutcome.CREATED] + [MessengerOutcome.APPENDED] * 3
    retried = await take_callback(runtime, raw=raw(fixture("sticker_message")))
    assert retried.outcome is MessengerOutcome.DUPLICATE
    bodies = [message.body for message, _ in await messages_with_files(runtime)]
    assert bodies == [
        "[a contact card: Jan Kowalski, +48601234567]",
        "[a location: 52.229676, 21.012229]",
        "[a sticker]",
        "[a link: https://casino.example/promotions/weekly-reload]",
    ]
    async with runtime.uow() as uow:
        [ticket] = (await uow.session.scalars(select(Ticket))).all()
    assert ticket.subject == "[a contact card: Jan Kowalski, +48601234567]"


# --- conversation_started: deep links and the welcome message -------------------------------


def deep_link(context: str, *, language: str = "en", subscribed: bool = False) -> bytes:
    callback = fixture("conversation_started_deep_link")
    callback["context"] = context
    callback["subscribed"] = subscribed
    callback["user"]["language"] = language
    return raw(callback)


def token_for(external_id: str, clock: FrozenClock, *, valid_for: timedelta) -> str:
    return player_links.deep_link_token(
        external_id=external_id, secret=LINK_SECRET, expires_at=clock.now() + valid_for
    )


async def player_of_chat(runtime: Runtime) -> Player | None:
    async with runtime.uow() as uow:
        return await uow.session.scalar(
            select(Player)
            .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
            .where(ChannelIdentity.channel == "viber", ChannelIdentity.address == USER)
        )


def welcome(text: str) -> dict[str, object]:
    return {"sender": {"name": "Casino Support"}, "type": "text", "text": text}


LINKED = (
    "Hello! This chat is now connected to your casino account. Write your question here "
    "and our support team will answer."
)
INVALID = (
    "Hello! This link could not connect the chat to your casino account: it has expired or "
    "is not valid. Open it again from your account, or simply write your question here."
)


async def test_a_deep_link_links_a_new_chat_and_the_welcome_message_confirms_it(
    runtime: Runtime, clock: FrozenClock
) -> None:
    token = token_for("PL-7731", clock, valid_for=timedelta(minutes=30))
    taken = await take_callback(runtime, raw=deep_link(token))
    assert (taken.event, taken.outcome) == ("conversation_started_linked", MessengerOutcome.IGNORED)
    assert taken.response == welcome(LINKED)
    linked = await player_of_chat(runtime)
    assert linked is not None and linked.external_id == "PL-7731"

    # The chat's first message lands on the casino player's conversation.
    written = await take_callback(runtime, raw=raw(text_callback("Where is my bonus?")))
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, written.ticket_id)
        assert ticket is not None and ticket.player_id == linked.id

    # Following the same link again changes nothing and says the same.
    again = await take_callback(runtime, raw=deep_link(token))
    assert again.response == welcome(LINKED)
    assert (await player_of_chat(runtime)) is not None


async def test_a_deep_link_after_the_player_wrote_moves_their_conversation(
    runtime: Runtime, clock: FrozenClock
) -> None:
    ticket_id = await player_writes(runtime, "Hello, I need help")
    anonymous = await player_of_chat(runtime)
    assert anonymous is not None and anonymous.external_id is None
    token = token_for("PL-7731", clock, valid_for=timedelta(minutes=30))
    taken = await take_callback(runtime, raw=deep_link(token, language="pl", subscribed=True))
    # In the language of the player's Viber app.
    polish = translations("pl").gettext(LINKED)
    assert taken.response == welcome(polish)
    linked = await player_of_chat(runtime)
    assert linked is not None and linked.external_id == "PL-7731"
    async with runtime.uow() as uow:
        ticket = await uow.session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.player_id == linked.id
        assert await uow.session.get(Player, anonymous.id) is None


@pytest.mark.parametrize(
    "token",
    [
        "expired",
        "forged",
        "utm_source-newsletter",  # a marketing link's context, not ours
    ],
)
async def test_a_bad_deep_link_links_nothing_and_the_player_is_told(
    runtime: Runtime, clock: FrozenClock, token: str
) -> None:
    if token == "expired":
        token = token_for("PL-7731", clock, valid_for=timedelta(minutes=-1))
    elif token == "forged":
        token = player_links.deep_link_token(
            external_id="PL-7731", secret="not-the-casinos", expires_at=clock.now() + timedelta(1)
        )
    with capture_logs() as logs:
        taken = await take_callback(runtime, raw=deep_link(token))
    assert taken.event == "conversation_started_link_invalid"
    assert taken.response == welcome(INVALID)
    assert await player_of_chat(runtime) is None
    async with runtime.uow() as uow:
        assert (await uow.session.scalars(select(Player))).all() == []
    [entry] = [entry for entry in logs if entry["event"] == "viber_deep_link_invalid"]
    assert token not in json.dumps(entry)  # a token is a credential: never logged


async def test_without_a_link_secret_a_deep_link_is_refused(
    runtime: Runtime, clock: FrozenClock
) -> None:
    token = token_for("PL-7731", clock, valid_for=timedelta(minutes=30))
    runtime.settings = runtime.settings.model_copy(
        update={"messenger_link_secret": None, "widget_identity_secret": None}
    )
    taken = await take_callback(runtime, raw=deep_link(token))
    assert taken.response == welcome(INVALID)
    assert await player_of_chat(runtime) is None


async def test_a_chat_linked_to_another_account_is_not_moved_by_a_link(
    runtime: Runtime, clock: FrozenClock
) -> None:
    first = token_for("PL-1111", clock, valid_for=timedelta(minutes=30))
    await take_callback(runtime, raw=deep_link(first))
    other = token_for("PL-2222", clock, valid_for=timedelta(minutes=30))
    taken = await take_callback(runtime, raw=deep_link(other))
    assert taken.event == "conversation_started_link_refused"
    assert taken.response == welcome(
        "Hello! This chat is already connected to another casino account, so the link "
        "cannot be used. Write your question here and our support team will help."
    )
    linked = await player_of_chat(runtime)
    assert linked is not None and linked.external_id == "PL-1111"


async def test_a_first_visit_is_greeted_and_a_subscriber_is_not(runtime: Runtime) -> None:
    first = await take_callback(runtime, raw=deep_link(""))
    assert (first.event, first.response) == (
        "conversation_started",
        welcome("Hello! Write your question here and our support team will answer."),
    )
    subscriber = await take_callback(runtime, raw=deep_link("", subscribed=True))
    assert subscriber.response is None
    # Opening the chat is not writing: no player, no ticket.
    async with runtime.uow() as uow:
        assert (await uow.session.scalars(select(Player))).all() == []


# --- delivering through the outbox ----------------------------------------------------


async def test_an_agent_reply_reaches_the_players_chat(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "My withdrawal has not arrived")
    await agent_replies(runtime, agent, ticket_id, "It was sent today; allow 1-3 banking days.")
    await agent_replies(runtime, agent, ticket_id, "VIP, be quick", kind=MessageKind.NOTE)
    [row] = await outbox_rows(runtime)  # the internal note never goes out
    assert (row.channel, row.recipient, row.status) == ("viber", USER, "pending")

    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert viber_api.of("send_message") == [
        {
            "receiver": USER,
            "type": "text",
            "text": "It was sent today; allow 1-3 banking days.",
            "sender": {"name": "Casino Support"},
        }
    ]
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.SENT.value
    assert row.provider_message_id == "5741311803571800000"


async def test_a_long_reply_goes_in_parts(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Tell me everything about bonuses")
    body = "\n".join(f"Rule {number}: wager the bonus before withdrawing." for number in range(400))
    assert len(body) == 18_289
    await agent_replies(runtime, agent, ticket_id, body)
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    texts = [call["text"] for call in viber_api.of("send_message")]
    assert [len(text) <= 7000 for text in texts] == [True, True, True]
    assert "\n".join(texts) == body
    [row] = await outbox_rows(runtime)
    assert row.provider_message_id == ",".join(
        str(5741311803571800000 + index) for index in range(3)
    )


async def test_a_failed_callback_dead_letters_the_reply_with_vibers_reason(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    body = "Part one. " * 800  # two parts: the failing one is the second
    await agent_replies(runtime, agent, ticket_id, body)
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    [row] = await outbox_rows(runtime)
    second_token = int(str(row.provider_message_id).split(",")[1])

    await take_callback(runtime, raw=raw(event_callback("delivered", message_token=second_token)))
    await take_callback(runtime, raw=raw(event_callback("seen", message_token=second_token)))
    assert (await outbox_rows(runtime))[0].status == OutboxStatus.SENT.value

    await take_callback(runtime, raw=raw(event_callback("failed", message_token=123)))  # not ours
    assert (await outbox_rows(runtime))[0].status == OutboxStatus.SENT.value
    failed = event_callback("failed", message_token=second_token, desc="receiver has no device")
    await take_callback(runtime, raw=raw(failed))
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.DEAD.value
    assert row.dead_at is not None
    assert row.last_error == "Viber could not deliver it: receiver has no device"


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (5, "receiverNotRegistered"),
        (6, "receiverNotSubscribed"),
        (11, "receiverNoSuitableDevice"),
    ],
)
async def test_a_refused_receiver_is_dead_lettered_and_marked_failing(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber, status: int, message: str
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    viber_api.failures = [(status, message)]
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 1}
    [row] = await outbox_rows(runtime)
    assert row.last_error == f"Viber {status} {message}: {message}"
    marked = await identity(runtime)
    assert marked.delivery_failure == row.last_error


async def test_bad_data_is_refused_for_good_without_blaming_the_chat(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    viber_api.failures = [(3, "badData")]
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 1}
    assert (await identity(runtime)).delivery_failed_at is None


@pytest.mark.parametrize(
    ("status", "message", "error"),
    [
        (12, "tooManyRequests", "Viber 12 tooManyRequests: tooManyRequests"),
        (10, "webhookNotSet", "Viber 10 webhookNotSet: webhookNotSet"),
        (24, "noBalance", "Viber 24: noBalance"),
        (502, "Bad Gateway", "Viber no status: HTTP 502 Bad Gateway"),
    ],
)
async def test_an_outage_or_an_account_problem_is_retried(
    runtime: Runtime,
    make_agent: AgentFactory,
    viber_api: FakeViber,
    clock: FrozenClock,
    status: int,
    message: str,
    error: str,
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    viber_api.failures = [(status, message)]
    await agent_replies(runtime, agent, ticket_id, "We are on it.")
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 1, "dead": 0}
    [row] = await outbox_rows(runtime)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.PENDING.value, 1, error)

    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 0}  # not yet due
    clock.advance(timedelta(seconds=runtime.settings.outbox_retry_seconds + 1))
    assert await deliver_outbox(runtime) == {"sent": 1, "retry": 0, "dead": 0}
    assert [call["text"] for call in viber_api.of("send_message")] == ["We are on it."] * 2
    assert (await identity(runtime)).delivery_failed_at is None


async def test_a_wrong_token_waits_for_the_admin_and_is_never_kept(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    wrong = ViberApi(base_url=viber_api.base_url, token="wrong-token", sender_name="Support")
    assert await deliver_outbox(runtime, senders={"viber": viber_sender(wrong)}) == {
        "sent": 0,
        "retry": 1,
        "dead": 0,
    }
    [row] = await outbox_rows(runtime)
    assert row.last_error == "Viber 2 invalidAuthToken: invalidAuthToken"


async def test_an_unreachable_api_is_temporary_and_the_token_is_never_in_the_error() -> None:
    sender = viber_sender(ViberApi(base_url=closed_port_url(), token=TOKEN, sender_name="S"))
    delivery = Delivery(
        id=1,
        channel="viber",
        recipient=USER,
        idempotency_key="viber:message:1",
        payload={"chat_id": USER, "text": "Hello", "quick_replies": []},
        attempts=1,
        resumed=False,
    )
    with pytest.raises(DeliveryFailed) as caught:
        await sender(delivery)
    assert caught.value.permanent is False
    assert TOKEN not in str(caught.value)
    assert "unreachable" in str(caught.value)


async def test_replies_wait_in_the_outbox_until_viber_is_configured(
    runtime: Runtime, make_agent: AgentFactory, viber_api: FakeViber
) -> None:
    agent = await make_agent()
    ticket_id = await player_writes(runtime, "Hello?")
    await agent_replies(runtime, agent, ticket_id, "Hi!")
    runtime.settings = runtime.settings.model_copy(update={"viber_auth_token": None})
    assert await deliver_outbox(runtime) == {"sent": 0, "retry": 0, "dead": 0}
    assert viber_api.calls == []
    [row] = await outbox_rows(runtime)
    assert row.status == OutboxStatus.PENDING.value
