"""Linking a messenger chat to a casino player: the signed deep-link token, and the move of the
chat and its conversations (on the real database, through the services that create them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from playerdesk.db.models import AuditEntry, Callback, ChannelIdentity, Player, Ticket
from playerdesk.domain import permissions
from playerdesk.domain.enums import AgentRole, Channel, TicketStatus
from playerdesk.domain.errors import (
    Conflict,
    NotFound,
    PermissionDenied,
    Unavailable,
    ValidationFailed,
)
from playerdesk.domain.events import TicketUpdated
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.runtime import Runtime
from playerdesk.services import player_links
from playerdesk.services import players as player_service
from playerdesk.services import tickets as ticket_service
from playerdesk.services.messengers import (
    MessengerOutcome,
    MessengerPolicies,
    MessengerReceived,
    MessengerSender,
    receive_messenger_message,
)
from playerdesk.services.player_links import (
    LinkedElsewhere,
    LinkRefused,
    LinkTokenInvalid,
    UnknownCasinoPlayer,
    deep_link_token,
    external_id_from_token,
    link_by_token,
    link_identity,
    link_secret,
    link_ticket_chat,
)
from playerdesk.services.players import PlayerFields
from playerdesk.settings import Settings
from tests.casino_backoffice import DemoCasino, closed_port_url, http_backend
from tests.conftest import AgentFactory, RecordingBus

SECRET = "casino-and-desk-share-this-0123456789"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)
CHAT = "5001234567"
PRIYA = "290677"  # a player of the demo back office


# --- the token ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "external_id",
    [
        "290677",
        "P-1",
        "gracz-żółw-ß",  # UTF-8, multi-byte
        "a" * 30,  # the longest plain id: 30 bytes
        "3f2b8c1e-7a4d-4e2f-9b6a-0c1d2e3f4a5b",  # a UUID: 16 bytes, not 36
    ],
)
def test_a_token_round_trips_and_fits_a_telegram_payload(external_id: str) -> None:
    token = deep_link_token(external_id=external_id, secret=SECRET, expires_at=LATER)

    assert len(token) <= 64
    assert all(char.isascii() and (char.isalnum() or char in "_-") for char in token)
    assert external_id_from_token(token, secret=SECRET, now=NOW) == external_id


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_a_token_minted_from_the_documented_format_is_accepted() -> None:
    """docs/CHANNELS.md tells casinos how to mint links themselves: this is that recipe."""
    expires = int(LATER.timestamp())

    def mint(kind: int, id_bytes: bytes) -> str:
        payload = struct.pack(">BIB", 1, expires, kind) + id_bytes
        mac = hmac.new(SECRET.encode(), b"playerdesk-link:" + payload, hashlib.sha256).digest()
        return _b64(payload + mac[:12])

    text_token = mint(0, b"C-7781")
    uuid_token = mint(1, bytes.fromhex("3f2b8c1e7a4d4e2f9b6a0c1d2e3f4a5b"))

    assert external_id_from_token(text_token, secret=SECRET, now=NOW) == "C-7781"
    assert (
        external_id_from_token(uuid_token, secret=SECRET, now=NOW)
        == "3f2b8c1e-7a4d-4e2f-9b6a-0c1d2e3f4a5b"
    )
    # And ours is byte for byte the same.
    ours = deep_link_token(external_id="C-7781", secret=SECRET, expires_at=LATER)
    assert ours == text_token


def _flip(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


def test_a_tampered_token_is_refused() -> None:
    token = deep_link_token(external_id="290677", secret=SECRET, expires_at=LATER)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    # Another player's id under the same signature.
    forged_id = _b64(raw[:6] + b"290678" + raw[-12:])
    # A later expiry under the same signature.
    forged_expiry = _b64(raw[:1] + struct.pack(">I", 2**32 - 1) + raw[5:])

    for bad in [
        _flip(token, 0),  # the version and expiry
        _flip(token, len(token) // 2),  # the id
        _flip(token, len(token) - 2),  # the signature
        forged_id,
        forged_expiry,
        token[:-4],  # cut short
        token + "AA",  # longer
        token[:10],
        "",
        token.replace(token[3], "+"),  # not base64url
        "x" * 65,
        token + "=",  # padding is not part of a token
    ]:
        with pytest.raises(LinkTokenInvalid) as refused:
            external_id_from_token(bad, secret=SECRET, now=NOW)
        assert refused.value.field == "token"

    with pytest.raises(LinkTokenInvalid, match="signature"):
        external_id_from_token(token, secret="another-secret-0123456789", now=NOW)
    with pytest.raises(LinkTokenInvalid):
        external_id_from_token(token, secret="", now=NOW)


def _signed(version: int, kind: int, id_bytes: bytes) -> str:
    payload = struct.pack(">BIB", version, int(LATER.timestamp()), kind) + id_bytes
    mac = hmac.new(SECRET.encode(), b"playerdesk-link:" + payload, hashlib.sha256).digest()
    return _b64(payload + mac[:12])


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (_signed(2, 0, b"290677"), "version 2"),
        (_signed(1, 7, b"290677"), "id kind 7"),
        (_signed(1, 1, b"290677"), "id kind 1"),  # a UUID is 16 bytes
        (_signed(1, 0, b"\xff\xfe"), "unreadable player id"),
        (_signed(1, 0, b"2906\x0077"), "unreadable player id"),
        (_signed(1, 0, b"   "), "unreadable player id"),
    ],
)
def test_a_signed_token_the_desk_cannot_read_is_refused(token: str, reason: str) -> None:
    with pytest.raises(LinkTokenInvalid, match=reason):
        external_id_from_token(token, secret=SECRET, now=NOW)


def test_a_token_expires() -> None:
    token = deep_link_token(external_id="290677", secret=SECRET, expires_at=LATER)

    assert external_id_from_token(token, secret=SECRET, now=LATER - timedelta(seconds=1))
    for when in (LATER, LATER + timedelta(days=1)):
        with pytest.raises(LinkTokenInvalid, match="expired"):
            external_id_from_token(token, secret=SECRET, now=when)


@pytest.mark.parametrize(
    "external_id",
    [
        "a" * 31,  # one byte too many
        "ż" * 16,  # 16 characters, 32 bytes
        "3F2B8C1E-7A4D-4E2F-9B6A-0C1D2E3F4A5B",  # a UUID, but not in the compact form's case
        "player-" + "0" * 40,
    ],
)
def test_an_id_too_long_for_a_link_is_refused_clearly(external_id: str) -> None:
    with pytest.raises(ValidationFailed, match="too long for a deep link") as refused:
        deep_link_token(external_id=external_id, secret=SECRET, expires_at=LATER)
    assert refused.value.field == "external_id"
    assert "30 bytes" in refused.value.detail


def test_an_empty_id_or_secret_makes_no_token() -> None:
    with pytest.raises(ValidationFailed):
        deep_link_token(external_id="  ", secret=SECRET, expires_at=LATER)
    with pytest.raises(ValueError, match="secret"):
        deep_link_token(external_id="290677", secret="", expires_at=LATER)


def test_the_link_secret_falls_back_to_the_widget_identity_secret(settings: Settings) -> None:
    assert link_secret(settings) is None
    widget = settings.model_copy(update={"widget_identity_secret": "widget-secret"})
    assert link_secret(widget) == "widget-secret"
    own = widget.model_copy(update={"messenger_link_secret": "link-secret"})
    assert link_secret(own) == "link-secret"


# --- linking -------------------------------------------------------------------------------


def policies(runtime: Runtime) -> MessengerPolicies:
    return MessengerPolicies(
        players=runtime.policies.players,
        messages=runtime.policies.messages,
        routing=runtime.policies.routing,
    )


async def message_from(
    runtime: Runtime,
    *,
    body: str,
    key: str,
    channel: Channel = Channel.TELEGRAM,
    address: str = CHAT,
    name: str = "Priya",
    language: str | None = "pl",
) -> MessengerReceived:
    async with runtime.uow() as uow:
        return await receive_messenger_message(
            uow,
            sender=MessengerSender(
                channel=channel, address=address, name=name, language_tag=language
            ),
            body=body,
            provider_message_key=key,
            policies=policies(runtime),
        )


async def casino_player(runtime: Runtime, external_id: str, name: str = "Priya Shah") -> Player:
    async with runtime.uow() as uow:
        result = await player_service.upsert_player(
            uow,
            actor=Actor.system(),
            external_id=external_id,
            fields=PlayerFields(name=name, language="en", vip_tier="silver"),
            policy=runtime.policies.players,
        )
    return result.player


async def identity_of(
    runtime: Runtime, channel: Channel = Channel.TELEGRAM, address: str = CHAT
) -> ChannelIdentity | None:
    async with runtime.uow() as uow:
        return await uow.session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel.value, ChannelIdentity.address == address
            )
        )


async def player(runtime: Runtime, player_id: int) -> Player | None:
    async with runtime.uow() as uow:
        return await uow.session.get(Player, player_id)


async def tickets_of(runtime: Runtime, player_id: int) -> list[int]:
    async with runtime.uow() as uow:
        return list(
            (
                await uow.session.scalars(
                    select(Ticket.id).where(Ticket.player_id == player_id).order_by(Ticket.id)
                )
            ).all()
        )


async def linked_entries(runtime: Runtime) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        return list(
            (
                await uow.session.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.action == "player.linked")
                    .order_by(AuditEntry.id)
                )
            ).all()
        )


async def resolve_and_close(runtime: Runtime, ticket_id: int) -> None:
    for status in (TicketStatus.RESOLVED, TicketStatus.CLOSED):
        async with runtime.uow() as uow:
            await ticket_service.update_ticket(
                uow,
                actor=Actor.system(),
                ticket_id=ticket_id,
                changes=ticket_service.TicketChanges(status=status),
                supported_languages=runtime.policies.players.languages,
                routing_policy=runtime.policies.routing,
            )


async def test_linking_moves_the_chat_and_its_tickets_and_removes_the_anonymous_player(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    first = await message_from(runtime, body="Where is my withdrawal?", key="telegram:1")
    assert first.ticket_id is not None
    await resolve_and_close(runtime, first.ticket_id)
    second = await message_from(runtime, body="Hello again", key="telegram:2")
    assert second.outcome is MessengerOutcome.CREATED and second.ticket_id is not None
    identity = await identity_of(runtime)
    assert identity is not None
    anonymous_id = identity.player_id
    async with runtime.uow() as uow:
        uow.session.add(
            Callback(
                player_id=anonymous_id,
                phone="+48600100200",
                due_at=NOW,
                language="pl",
                source="telegram",
                status="waiting",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        await uow.commit()
    priya = await casino_player(runtime, PRIYA)
    bus.published.clear()

    async with runtime.uow() as uow:
        linked = await link_identity(
            uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=PRIYA
        )

    assert linked.changed is True
    assert (linked.player_id, linked.external_id) == (priya.id, PRIYA)
    assert linked.moved_ticket_ids == (first.ticket_id, second.ticket_id)
    moved = await identity_of(runtime)
    assert moved is not None and moved.id == identity.id and moved.player_id == priya.id
    assert await tickets_of(runtime, priya.id) == [first.ticket_id, second.ticket_id]
    assert await player(runtime, anonymous_id) is None  # nothing was left on it
    async with runtime.uow() as uow:
        callback = await uow.session.scalar(select(Callback))
        assert callback is not None and callback.player_id == priya.id
    # Open consoles hear of each moved conversation after the commit.
    updates = [event for event in bus.published if isinstance(event, TicketUpdated)]
    assert [(event.ticket_id, event.player_id, event.changes) for event in updates] == [
        (first.ticket_id, priya.id, {"player_id": [anonymous_id, priya.id]}),
        (second.ticket_id, priya.id, {"player_id": [anonymous_id, priya.id]}),
    ]
    [entry] = await linked_entries(runtime)
    assert (entry.actor_agent_id, entry.actor_token_id) == (agent.id, agent.actor.token_id)
    assert (entry.entity_type, entry.entity_id) == ("player", str(priya.id))
    assert entry.details == {
        "via": "agent",
        "channel": "telegram",
        "identity_id": identity.id,
        "from_player_id": anonymous_id,
        "relinked_from": None,
        "moved_ticket_ids": [first.ticket_id, second.ticket_id],
        "removed_player_id": anonymous_id,
    }

    # The chat's next message joins the open conversation, now the casino player's.
    after = await message_from(runtime, body="Thanks!", key="telegram:3")
    assert (after.outcome, after.ticket_id) == (MessengerOutcome.APPENDED, second.ticket_id)
    # And a retry of a message from before the link is still recognised.
    again = await message_from(runtime, body="Hello again", key="telegram:2")
    assert again.outcome is MessengerOutcome.DUPLICATE


async def test_linking_again_changes_nothing(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent()
    await message_from(runtime, body="Hi", key="telegram:1")
    await casino_player(runtime, PRIYA)
    async with runtime.uow() as uow:
        first = await link_identity(
            uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=PRIYA
        )
    bus.published.clear()

    async with runtime.uow() as uow:
        again = await link_identity(
            uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=PRIYA
        )
    token = deep_link_token(external_id=PRIYA, secret=SECRET, expires_at=LATER)
    async with runtime.uow() as uow:
        by_link = await link_by_token(
            uow, channel=Channel.TELEGRAM, address=CHAT, token=token, secret=SECRET
        )

    assert first.changed is True
    for result in (again, by_link):
        assert result.changed is False
        assert result.player_id == first.player_id and result.moved_ticket_ids == ()
    assert len(await linked_entries(runtime)) == 1
    assert bus.published == []


async def test_a_casino_player_the_desk_does_not_know_is_created_from_the_chat(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    received = await message_from(runtime, body="Cześć", key="telegram:1", name="Ola")

    async with runtime.uow() as uow:
        linked = await link_identity(
            uow,
            actor=agent.actor,
            channel=Channel.TELEGRAM,
            address=CHAT,
            external_id="C-1001",
            policy=runtime.policies.players,
        )

    created = await player(runtime, linked.player_id)
    assert created is not None
    assert (created.external_id, created.name, created.language) == ("C-1001", "Ola", "pl")
    assert await tickets_of(runtime, created.id) == [received.ticket_id]
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "player.created", AuditEntry.entity_id == str(created.id)
            )
        )
    assert entry is not None and entry.actor_agent_id == agent.id


async def test_a_deep_link_as_the_first_word_starts_the_chat_on_the_casino_player(
    runtime: Runtime,
) -> None:
    priya = await casino_player(runtime, PRIYA)
    token = deep_link_token(external_id=PRIYA, secret=SECRET, expires_at=LATER)

    async with runtime.uow() as uow:
        linked = await link_by_token(
            uow, channel=Channel.VIBER, address="viber-user-01==", token=token, secret=SECRET
        )
    received = await message_from(
        runtime, body="Hi", key="viber:1", channel=Channel.VIBER, address="viber-user-01=="
    )

    assert (linked.player_id, linked.changed, linked.moved_ticket_ids) == (priya.id, True, ())
    assert received.outcome is MessengerOutcome.CREATED
    assert await tickets_of(runtime, priya.id) == [received.ticket_id]
    [entry] = await linked_entries(runtime)
    assert entry.actor_agent_id is None and entry.actor_method == "system"
    assert entry.details["via"] == "deep_link"
    assert entry.details["from_player_id"] is None


async def test_a_first_message_racing_the_deep_link_is_linked_too(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat's first message commits between the link's look-up and its insert: the
    link's insert clashes, and it links the chat as it now is."""
    received = await message_from(runtime, body="Hi", key="telegram:1")
    priya = await casino_player(runtime, PRIYA)
    real_owner = player_links._owner
    looks: list[Player | None] = []

    async def late_owner(uow: Any, *, channel: Channel, address: str) -> Player | None:
        found = None if not looks else await real_owner(uow, channel=channel, address=address)
        looks.append(found)
        return found

    monkeypatch.setattr(player_links, "_owner", late_owner)
    token = deep_link_token(external_id=PRIYA, secret=SECRET, expires_at=LATER)

    async with runtime.uow() as uow:
        linked = await link_by_token(
            uow, channel=Channel.TELEGRAM, address=CHAT, token=token, secret=SECRET
        )

    assert len(looks) == 2 and looks[1] is not None  # tried as new, then as it was
    assert linked.changed is True and linked.moved_ticket_ids == (received.ticket_id,)
    assert await tickets_of(runtime, priya.id) == [received.ticket_id]
    assert len(await linked_entries(runtime)) == 1


async def test_a_bad_or_expired_deep_link_changes_nothing(runtime: Runtime, clock: object) -> None:
    await message_from(runtime, body="Hi", key="telegram:1")
    before = await identity_of(runtime)
    expired = deep_link_token(
        external_id=PRIYA, secret=SECRET, expires_at=NOW - timedelta(seconds=1)
    )
    forged = deep_link_token(external_id=PRIYA, secret="not-the-casinos-secret", expires_at=LATER)

    for token in (expired, forged, "garbage"):
        async with runtime.uow() as uow:
            with pytest.raises(LinkTokenInvalid):
                await link_by_token(
                    uow, channel=Channel.TELEGRAM, address=CHAT, token=token, secret=SECRET
                )

    after = await identity_of(runtime)
    assert before is not None and after is not None and after.player_id == before.player_id
    assert await linked_entries(runtime) == []


async def test_a_chat_linked_to_another_casino_account_is_never_moved_silently(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    agent = await make_agent(AgentRole.AGENT)
    senior = await make_agent(AgentRole.SENIOR)
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    received = await message_from(runtime, body="Hi", key="telegram:1")
    priya = await casino_player(runtime, PRIYA)
    other = await casino_player(runtime, "204117", name="James Whitfield")
    async with runtime.uow() as uow:
        await link_identity(
            uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=PRIYA
        )

    # Without saying so: refused, for everyone.
    for actor in (agent.actor, supervisor.actor):
        async with runtime.uow() as uow:
            with pytest.raises(LinkedElsewhere) as refused:
                await link_identity(
                    uow,
                    actor=actor,
                    channel=Channel.TELEGRAM,
                    address=CHAT,
                    external_id="204117",
                )
        assert isinstance(refused.value, Conflict) and refused.value.field == "external_id"
        assert PRIYA in refused.value.detail
    # A deep link never moves it.
    token = deep_link_token(external_id="204117", secret=SECRET, expires_at=LATER)
    async with runtime.uow() as uow:
        with pytest.raises(LinkRefused) as by_link:
            await link_by_token(
                uow, channel=Channel.TELEGRAM, address=CHAT, token=token, secret=SECRET
            )
    assert isinstance(by_link.value, LinkTokenInvalid)
    # An explicit relink needs a role that may relink.
    for actor in (agent.actor, senior.actor):
        async with runtime.uow() as uow:
            with pytest.raises(PermissionDenied, match=r"players\.relink"):
                await link_identity(
                    uow,
                    actor=actor,
                    channel=Channel.TELEGRAM,
                    address=CHAT,
                    external_id="204117",
                    relink=True,
                )
    identity = await identity_of(runtime)
    assert identity is not None and identity.player_id == priya.id
    assert len(await linked_entries(runtime)) == 1
    bus.published.clear()

    async with runtime.uow() as uow:
        relinked = await link_identity(
            uow,
            actor=supervisor.actor,
            channel=Channel.TELEGRAM,
            address=CHAT,
            external_id="204117",
            relink=True,
        )

    assert relinked.changed is True and relinked.player_id == other.id
    # The conversation came through this chat (Priya's only Telegram chat): it follows.
    assert relinked.moved_ticket_ids == (received.ticket_id,)
    assert await tickets_of(runtime, other.id) == [received.ticket_id]
    assert await player(runtime, priya.id) is not None  # a casino player is never removed
    entry = (await linked_entries(runtime))[-1]
    assert entry.actor_agent_id == supervisor.id
    assert entry.details["relinked_from"] == PRIYA
    assert entry.details["from_player_id"] == priya.id
    assert entry.details["removed_player_id"] is None
    assert [event.ticket_id for event in bus.published if isinstance(event, TicketUpdated)] == [
        received.ticket_id
    ]


async def test_relinking_one_of_several_chats_moves_only_the_chat(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    """Which of a player's two Telegram chats a conversation came through is not recorded:
    moving one chat leaves the conversations where they are."""
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    phone = await message_from(runtime, body="From my phone", key="telegram:1", address="111")
    tablet = await message_from(runtime, body="From my tablet", key="telegram:2", address="222")
    priya = await casino_player(runtime, PRIYA)
    other = await casino_player(runtime, "204117", name="James Whitfield")
    for address in ("111", "222"):
        async with runtime.uow() as uow:
            await link_identity(
                uow,
                actor=supervisor.actor,
                channel=Channel.TELEGRAM,
                address=address,
                external_id=PRIYA,
            )
    assert await tickets_of(runtime, priya.id) == [phone.ticket_id, tablet.ticket_id]

    async with runtime.uow() as uow:
        relinked = await link_identity(
            uow,
            actor=supervisor.actor,
            channel=Channel.TELEGRAM,
            address="222",
            external_id="204117",
            relink=True,
        )

    assert relinked.changed is True and relinked.moved_ticket_ids == ()
    tablet_chat = await identity_of(runtime, address="222")
    assert tablet_chat is not None and tablet_chat.player_id == other.id
    assert await tickets_of(runtime, priya.id) == [phone.ticket_id, tablet.ticket_id]


async def test_an_anonymous_player_with_another_way_in_keeps_it(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    """A chat visitor who also gave an email address: only the chat and its conversations
    move; the player stays with the address and the email conversation."""
    agent = await make_agent()
    chat = await message_from(runtime, body="Hi", key="telegram:1")
    identity = await identity_of(runtime)
    assert identity is not None and chat.ticket_id is not None
    anonymous_id = identity.player_id
    async with runtime.uow() as uow:
        anonymous = await uow.session.get(Player, anonymous_id)
        assert anonymous is not None
        await player_service.attach_email(uow, player=anonymous, email="ola@example.test")
        await uow.commit()
    async with runtime.uow() as uow:
        email_ticket = await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.EMAIL,
                subject="By email",
                body="Hello",
                player_external_id=None,
                player=PlayerFields(email="ola@example.test"),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )
    assert email_ticket.player_id == anonymous_id
    priya = await casino_player(runtime, PRIYA)

    async with runtime.uow() as uow:
        linked = await link_identity(
            uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=PRIYA
        )

    assert linked.moved_ticket_ids == (chat.ticket_id,)
    assert await tickets_of(runtime, priya.id) == [chat.ticket_id]
    assert await tickets_of(runtime, anonymous_id) == [email_ticket.id]
    assert await player(runtime, anonymous_id) is not None
    assert (await linked_entries(runtime))[0].details["removed_player_id"] is None


async def test_linking_needs_the_permission(
    runtime: Runtime, make_agent: AgentFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    agent = await make_agent(AgentRole.AGENT)
    received = await message_from(runtime, body="Hi", key="telegram:1")
    assert received.ticket_id is not None
    assert Permission.PLAYERS_LINK in permissions.ROLE_PERMISSIONS[AgentRole.AGENT]
    assert Permission.PLAYERS_RELINK not in permissions.ROLE_PERMISSIONS[AgentRole.SENIOR]
    assert Permission.PLAYERS_RELINK in permissions.ROLE_PERMISSIONS[AgentRole.SUPERVISOR]
    limited = permissions.ROLE_PERMISSIONS[AgentRole.AGENT] - {Permission.PLAYERS_LINK}
    monkeypatch.setitem(permissions.ROLE_PERMISSIONS, AgentRole.AGENT, limited)

    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied, match=r"players\.link"):
            await link_identity(
                uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=PRIYA
            )
    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied):
            await link_ticket_chat(
                uow,
                actor=agent.actor,
                ticket_id=received.ticket_id,
                external_id=PRIYA,
                policy=runtime.policies.players,
                backend=None,
            )

    assert await linked_entries(runtime) == []


async def test_only_messenger_chats_are_linked(runtime: Runtime, make_agent: AgentFactory) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed) as refused:
            await link_identity(
                uow,
                actor=agent.actor,
                channel=Channel.WEB_CHAT,
                address="v-visitor",
                external_id=PRIYA,
            )
    assert refused.value.field == "channel"
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed) as bad_id:
            await link_identity(
                uow, actor=agent.actor, channel=Channel.TELEGRAM, address=CHAT, external_id=" "
            )
    assert bad_id.value.field == "external_id"


# --- the console's action: the chat of a conversation, checked with the back office ---------


async def test_the_agent_links_the_chat_of_a_conversation_the_back_office_knows(
    runtime: Runtime, make_agent: AgentFactory, casino: DemoCasino
) -> None:
    agent = await make_agent()
    received = await message_from(runtime, body="Hi", key="telegram:1")
    assert received.ticket_id is not None
    async with http_backend(casino.base_url) as backend:
        async with runtime.uow() as uow:
            with pytest.raises(UnknownCasinoPlayer) as unknown:
                await link_ticket_chat(
                    uow,
                    actor=agent.actor,
                    ticket_id=received.ticket_id,
                    external_id="no-such-player",
                    policy=runtime.policies.players,
                    backend=backend,
                )
        async with runtime.uow() as uow:
            linked = await link_ticket_chat(
                uow,
                actor=agent.actor,
                ticket_id=received.ticket_id,
                external_id=PRIYA,
                policy=runtime.policies.players,
                backend=backend,
            )

    assert unknown.value.field == "external_id"
    assert linked.external_id == PRIYA and linked.moved_ticket_ids == (received.ticket_id,)
    created = await player(runtime, linked.player_id)
    assert created is not None and created.external_id == PRIYA
    # The desk's record starts as the back office has the player, not as the chat named them.
    assert (created.name, created.country, created.language) == ("Priya Shah", "GB", "en")
    async with runtime.uow() as uow:
        assert (
            await uow.session.scalar(
                select(Player.id).where(Player.external_id == "no-such-player")
            )
            is None
        )


async def test_with_the_back_office_down_only_a_known_player_is_linked(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    first = await message_from(runtime, body="Hi", key="telegram:1")
    second = await message_from(runtime, body="Hi", key="viber:1", channel=Channel.VIBER)
    assert first.ticket_id is not None and second.ticket_id is not None
    known = await casino_player(runtime, PRIYA)
    async with http_backend(closed_port_url()) as down:
        async with runtime.uow() as uow:
            with pytest.raises(Unavailable):
                await link_ticket_chat(
                    uow,
                    actor=agent.actor,
                    ticket_id=first.ticket_id,
                    external_id="C-unknown",
                    policy=runtime.policies.players,
                    backend=down,
                )
        async with runtime.uow() as uow:
            linked = await link_ticket_chat(
                uow,
                actor=agent.actor,
                ticket_id=second.ticket_id,
                external_id=PRIYA,
                policy=runtime.policies.players,
                backend=down,
            )

    assert linked.player_id == known.id
    assert await tickets_of(runtime, known.id) == [second.ticket_id]


async def test_a_conversation_without_a_messenger_chat_has_nothing_to_link(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        email = await ticket_service.create_ticket(
            uow,
            actor=Actor.system(),
            new=ticket_service.NewTicket(
                channel=Channel.EMAIL,
                subject="By email",
                body="Hello",
                player_external_id=None,
                player=PlayerFields(email="ola@example.test"),
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )

    for ticket_id, error in ((email.id, ValidationFailed), (999_999, NotFound)):
        async with runtime.uow() as uow:
            with pytest.raises(error) as refused:
                await link_ticket_chat(
                    uow,
                    actor=agent.actor,
                    ticket_id=ticket_id,
                    external_id=PRIYA,
                    policy=runtime.policies.players,
                    backend=None,
                )
        assert refused.value.field == "ticket_id"


def test_the_module_keeps_its_interface() -> None:
    """Other parts of the desk (the Telegram and Viber adapters) call these by name."""
    assert issubclass(LinkTokenInvalid, ValidationFailed)
    assert {"player_id", "external_id", "moved_ticket_ids", "changed"} <= set(
        player_links.LinkedIdentity.__dataclass_fields__
    )


def test_the_documented_examples_hold() -> None:
    """docs/CHANNELS.md gives casinos a recipe and test vectors: both match the desk."""
    doc = (Path(__file__).parents[2] / "docs" / "CHANNELS.md").read_text()
    section = doc[doc.index("### The token, for casinos that mint links themselves") :]
    recipe = section[section.index("```python\n") + 10 : section.index("```\n\nIn Node.js")]
    namespace: dict[str, Any] = {}
    exec(recipe, namespace)  # noqa: S102 - our own documentation
    expires = datetime(2026, 12, 1, tzinfo=UTC)
    assert int(expires.timestamp()) == 1796083200
    text_vector = "AWsODgAAMjkwNjc37qLlY6tlBfPqFznW"
    uuid_vector = "AWsODgABPyuMHnpNTi-bagwdLj9KW87WF9oVBzPdlkuM5Q"

    assert f"is `{text_vector}`" in section and f"`{uuid_vector}`" in section
    assert namespace["link_token"]("290677", "example-link-secret", 1796083200) == text_vector
    assert (
        deep_link_token(external_id="290677", secret="example-link-secret", expires_at=expires)
        == text_vector
    )
    assert (
        deep_link_token(
            external_id="3f2b8c1e-7a4d-4e2f-9b6a-0c1d2e3f4a5b",
            secret="example-link-secret",
            expires_at=expires,
        )
        == uuid_vector
    )
    with pytest.raises(ValueError, match="does not fit"):
        namespace["link_token"]("a" * 31, "example-link-secret", 1796083200)
