"""Linking a messenger chat (a Telegram chat, a Viber user, a WhatsApp number) to a casino
player: an agent who has verified who writes links it from the console, or the player follows
a deep link the casino signed for them (Telegram's `/start <token>`, Viber's `context`).

Until then a chat is a player of its own, known by the chat only. Linking moves the chat's
channel identity, and the conversations that came through it, to the casino player (created
the way the casino's own upserts create one, if the desk does not know them yet); the
anonymous player goes when nothing is left on it. A chat already linked to another casino
account is never moved silently: a deep link is refused, and an agent moves it only when
they say so explicitly (`relink`) and their role may (`players.relink`), in the audit log.

The deep-link token (docs/CHANNELS.md says it byte by byte, so a casino can mint links in its
own language) is compact binary signed with HMAC-SHA256, base64url without padding, at most
64 characters: what Telegram's `/start` payload allows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import struct
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from playerdesk.crm.base import BackOfficeUnavailable, CasinoBackend, CasinoPlayer
from playerdesk.crm.http import ContractViolation
from playerdesk.db.models import Call, Callback, ChannelIdentity, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel
from playerdesk.domain.errors import Conflict, NotFound, Unavailable, ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit
from playerdesk.services.players import PlayerFields, PlayerPolicy, match_or_create_player
from playerdesk.services.ticket_events import changes_since, publish_ticket_updated
from playerdesk.settings import Settings

log = structlog.get_logger(__name__)

MESSENGER_CHANNELS = frozenset({Channel.TELEGRAM, Channel.WHATSAPP, Channel.VIBER})

# --- the deep-link token -------------------------------------------------------------------
#
#   payload = version (1 byte, 1)
#           | expires_at (4 bytes, unsigned big-endian: seconds since the Unix epoch, UTC)
#           | id kind (1 byte: 0 = the id's UTF-8 bytes, 1 = a lowercase UUID's 16 bytes)
#           | external id (the rest)
#   mac     = HMAC-SHA256(secret, "playerdesk-link:" + payload), its first 12 bytes
#   token   = base64url(payload + mac), without "=" padding

TOKEN_VERSION = 1
MAX_TOKEN_CHARS = 64
_MAX_TOKEN_BYTES = MAX_TOKEN_CHARS * 3 // 4  # 48: 64 base64 characters hold 48 bytes
_HEADER = struct.Struct(">BIB")
_MAC_BYTES = 12  # 96 bits: no online guessing gets near, and the id keeps 30 bytes
_MAC_PREFIX = b"playerdesk-link:"  # never the same message as the widget's HMAC of an id
ID_TEXT = 0
ID_UUID = 1
MAX_TEXT_ID_BYTES = _MAX_TOKEN_BYTES - _HEADER.size - _MAC_BYTES  # 30
_MAX_EXPIRY = 2**32 - 1
_TOKEN_CHARS = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
EXTERNAL_ID_CHARS = 100  # players.external_id


class LinkTokenInvalid(ValidationFailed):
    """A deep link that cannot be used: a bad signature, malformed, or expired."""


class LinkRefused(LinkTokenInvalid):
    """A good deep link for a chat that is linked to another casino account: only an agent
    may move it (the player is told the link cannot be used, as for any bad link)."""


class LinkedElsewhere(Conflict):
    """The chat is linked to another casino account; moving it is a relink, said explicitly."""

    code = "linked_elsewhere"


class UnknownCasinoPlayer(ValidationFailed):
    """The casino's back office knows no player with the id the agent typed."""

    code = "unknown_player"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _mac(secret: str, payload: bytes) -> bytes:
    digest = hmac.new(secret.encode(), _MAC_PREFIX + payload, hashlib.sha256).digest()
    return digest[:_MAC_BYTES]


def _checked_external_id(external_id: str) -> str:
    value = external_id.strip()
    if not value or len(value) > EXTERNAL_ID_CHARS:
        raise ValidationFailed(f"1 to {EXTERNAL_ID_CHARS} characters", field="external_id")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationFailed("no control characters", field="external_id")
    return value


def _encode_id(external_id: str) -> tuple[int, bytes]:
    if _CANONICAL_UUID.fullmatch(external_id):
        return ID_UUID, uuid.UUID(external_id).bytes
    data = external_id.encode()
    if len(data) > MAX_TEXT_ID_BYTES:
        raise ValidationFailed(
            f"too long for a deep link: an id of at most {MAX_TEXT_ID_BYTES} bytes (UTF-8), "
            f"or a UUID in lowercase, fits in the {MAX_TOKEN_CHARS} characters a link may carry",
            field="external_id",
        )
    return ID_TEXT, data


def deep_link_token(*, external_id: str, secret: str, expires_at: datetime) -> str:
    """The token of a deep link that links the chat that follows it to this casino player:
    URL-safe, at most 64 characters of A-Z a-z 0-9 _ -, signed with `secret`."""
    if not secret:
        raise ValueError("deep links need a secret to sign them")
    if expires_at.tzinfo is None:
        raise ValueError("expires_at must be an aware datetime")
    expires = int(expires_at.timestamp())
    if not 0 < expires <= _MAX_EXPIRY:
        raise ValidationFailed("a time between 1970 and 2106", field="expires_at")
    kind, id_bytes = _encode_id(_checked_external_id(external_id))
    payload = _HEADER.pack(TOKEN_VERSION, expires, kind) + id_bytes
    token = _b64(payload + _mac(secret, payload))
    assert len(token) <= MAX_TOKEN_CHARS
    return token


def _invalid(reason: str) -> LinkTokenInvalid:
    return LinkTokenInvalid(f"the link is not valid ({reason})", field="token")


def external_id_from_token(token: str, *, secret: str, now: datetime) -> str:
    """The casino player a deep link names, once its signature and expiry are checked."""
    if not secret:
        raise _invalid("deep links are not set up")
    if not _TOKEN_CHARS.fullmatch(token):
        raise _invalid("unexpected characters or length")
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError) as exc:
        raise _invalid("not base64url") from exc
    if _b64(raw) != token or len(raw) <= _HEADER.size + _MAC_BYTES:
        raise _invalid("malformed")
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(secret, payload)):
        raise _invalid("bad signature")
    version, expires, kind = _HEADER.unpack_from(payload)
    if version != TOKEN_VERSION:
        raise _invalid(f"version {version}")
    id_bytes = payload[_HEADER.size :]
    if kind == ID_UUID and len(id_bytes) == 16:
        external_id = str(uuid.UUID(bytes=id_bytes))
    elif kind == ID_TEXT:
        try:
            external_id = _checked_external_id(id_bytes.decode())
        except (UnicodeDecodeError, ValidationFailed) as exc:
            raise _invalid("unreadable player id") from exc
    else:
        raise _invalid(f"id kind {kind}")
    if now.timestamp() >= expires:
        raise LinkTokenInvalid("the link has expired", field="token")
    return external_id


def link_secret(settings: Settings) -> str | None:
    """The secret deep links are signed with: PLAYERDESK_MESSENGER_LINK_SECRET, else the
    widget identity secret the casino already shares with the desk; None when neither is set
    (no deep links then)."""
    return settings.messenger_link_secret or settings.widget_identity_secret or None


# --- linking -------------------------------------------------------------------------------


class LinkVia(StrEnum):
    AGENT = "agent"  # an agent (or their API token) linked it
    DEEP_LINK = "deep_link"  # the player followed a link the casino signed
    SYSTEM = "system"  # another part of the desk, or an operator's script


@dataclass(frozen=True, kw_only=True)
class LinkedIdentity:
    player_id: int  # the casino player the chat belongs to now
    external_id: str
    moved_ticket_ids: tuple[int, ...]
    changed: bool  # False: the chat was already theirs, nothing was done


def _checked_channel(channel: Channel) -> Channel:
    if channel not in MESSENGER_CHANNELS:
        raise ValidationFailed(
            "only a Telegram, WhatsApp or Viber chat can be linked to a casino account",
            field="channel",
        )
    return channel


def _checked_address(address: str) -> str:
    if not address or len(address) > 254:
        raise ValidationFailed("1 to 254 characters", field="address")
    return address


async def _owner(uow: UnitOfWork, *, channel: Channel, address: str) -> Player | None:
    """The chat's player, locked as an incoming message of the chat locks it: a message
    arriving while the chat moves waits, then finds the chat on its new player."""
    return await uow.session.scalar(
        select(Player)
        .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
        .where(ChannelIdentity.channel == channel.value, ChannelIdentity.address == address)
        .with_for_update(of=Player)
    )


def _new_player_terms(
    previous: Player | None, policy: PlayerPolicy | None, profile: CasinoPlayer | None
) -> tuple[PlayerFields, PlayerPolicy]:
    """What a casino player the desk meets for the first time starts with: their name,
    language and country as the back office has them when it was asked, else the name and
    language the messenger told for the chat (the casino's next upsert brings the rest)."""
    if policy is None:
        # Callers that have the desk's policy pass it; without it the player keeps the
        # chat's language, or English, the language every string of the desk exists in.
        fallback = previous.language if previous is not None else "en"
        policy = PlayerPolicy(languages=[fallback], default_language=fallback, vip_tiers=[])
    if profile is not None:
        told = profile.language.lower()
        country = profile.country.upper()
        return PlayerFields(
            name=profile.name or None,
            language=told if told in policy.languages else None,
            country=country if len(country) == 2 and country.isalpha() else None,
        ), policy
    if previous is None:
        return PlayerFields(), policy
    language = previous.language if previous.language in policy.languages else None
    return PlayerFields(name=previous.name or None, language=language), policy


async def _count_identities(
    uow: UnitOfWork, *, player_id: int, besides: int, channel: Channel | None = None
) -> int:
    query = select(func.count(ChannelIdentity.id)).where(
        ChannelIdentity.player_id == player_id, ChannelIdentity.id != besides
    )
    if channel is not None:
        query = query.where(ChannelIdentity.channel == channel.value)
    return int(await uow.session.scalar(query) or 0)


class _ChatAppeared(Exception):
    """A chat new to the desk was saved by someone else while this link created it."""


@dataclass(frozen=True, kw_only=True)
class _Moved:
    ticket_ids: tuple[int, ...]
    removed_player_id: int | None


async def _move(
    uow: UnitOfWork,
    *,
    identity: ChannelIdentity,
    previous: Player,
    target: Player,
    channel: Channel,
) -> _Moved:
    """Move the chat and what came through it from `previous` to `target`.

    An anonymous player with no other way to reach them *is* the chat: everything of theirs
    moves (tickets, calls, callback requests) and they are removed. Otherwise the
    conversations on this messenger move when this is the player's only chat on it (they came
    through it); with several chats on one messenger only the chat moves."""
    whole = (
        previous.external_id is None
        and await _count_identities(uow, player_id=previous.id, besides=identity.id) == 0
    )
    query = select(Ticket).where(Ticket.player_id == previous.id).order_by(Ticket.id)
    if not whole:
        query = query.where(Ticket.channel == channel.value)
    several_chats = not whole and await _count_identities(
        uow, player_id=previous.id, besides=identity.id, channel=channel
    )
    tickets = (
        [] if several_chats else list((await uow.session.scalars(query.with_for_update())).all())
    )
    identity.player_id = target.id
    for ticket in tickets:
        before = {"player_id": ticket.player_id}
        ticket.player_id = target.id
        publish_ticket_updated(uow, ticket=ticket, changes=changes_since(ticket, before))
    removed = None
    if whole:
        await uow.session.execute(
            update(Call).where(Call.player_id == previous.id).values(player_id=target.id)
        )
        await uow.session.execute(
            update(Callback).where(Callback.player_id == previous.id).values(player_id=target.id)
        )
        await uow.session.flush()
        await uow.session.delete(previous)
        removed = previous.id
    await uow.session.flush()
    return _Moved(ticket_ids=tuple(ticket.id for ticket in tickets), removed_player_id=removed)


async def _link_once(
    uow: UnitOfWork,
    *,
    actor: Actor,
    channel: Channel,
    address: str,
    external_id: str,
    relink: bool,
    via: LinkVia,
    policy: PlayerPolicy | None,
    profile: CasinoPlayer | None,
) -> LinkedIdentity:
    previous = await _owner(uow, channel=channel, address=address)
    if previous is not None and previous.external_id == external_id:
        return LinkedIdentity(
            player_id=previous.id, external_id=external_id, moved_ticket_ids=(), changed=False
        )
    relinked_from = None
    if previous is not None and previous.external_id is not None:
        if not relink:
            raise LinkedElsewhere(
                f"this {channel.value} chat is linked to another casino account "
                f"({previous.external_id}); moving it to {external_id} is a relink",
                field="external_id",
            )
        actor.require(Permission.PLAYERS_RELINK)
        relinked_from = previous.external_id
    anonymous = previous if previous is not None and previous.external_id is None else None
    fields, player_policy = _new_player_terms(anonymous, policy, profile)
    target = await match_or_create_player(
        uow, actor=actor, external_id=external_id, fields=fields, policy=player_policy
    )
    if previous is None:
        # The deep link is the chat's first word: it starts on the casino player.
        identity = ChannelIdentity(
            player_id=target.id, channel=channel.value, address=address, created_at=uow.clock.now()
        )
        try:
            async with uow.session.begin_nested():
                uow.session.add(identity)
                await uow.session.flush()
        except IntegrityError as exc:
            raise _ChatAppeared() from exc
        moved = _Moved(ticket_ids=(), removed_player_id=None)
    else:
        found = await uow.session.scalar(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == channel.value, ChannelIdentity.address == address
            )
        )
        if found is None or found.player_id != previous.id:
            # Moved by a link that committed while this one waited for the player's lock.
            raise Conflict("the chat was linked meanwhile; look again", field="external_id")
        identity = found
        moved = await _move(
            uow, identity=identity, previous=previous, target=target, channel=channel
        )
    audit.record(
        uow,
        actor=actor,
        action="player.linked",
        entity_type="player",
        entity_id=target.id,
        details={
            "via": via.value,
            "channel": channel.value,
            "identity_id": identity.id,
            "from_player_id": previous.id if previous is not None else None,
            "relinked_from": relinked_from,
            "moved_ticket_ids": list(moved.ticket_ids),
            "removed_player_id": moved.removed_player_id,
        },
    )
    await uow.commit()
    log.info(
        "messenger_chat_linked",
        via=via.value,
        channel=channel.value,
        identity_id=identity.id,
        player_id=target.id,
        from_player_id=previous.id if previous is not None else None,
        relinked=relinked_from is not None,
        moved_tickets=len(moved.ticket_ids),
    )
    return LinkedIdentity(
        player_id=target.id,
        external_id=external_id,
        moved_ticket_ids=moved.ticket_ids,
        changed=True,
    )


async def _link(
    uow: UnitOfWork,
    *,
    actor: Actor,
    channel: Channel,
    address: str,
    external_id: str,
    relink: bool,
    via: LinkVia,
    policy: PlayerPolicy | None,
    profile: CasinoPlayer | None = None,
) -> LinkedIdentity:
    actor.require(Permission.PLAYERS_LINK)
    channel = _checked_channel(channel)
    address = _checked_address(address)
    external_id = _checked_external_id(external_id)

    async def attempt() -> LinkedIdentity:
        return await _link_once(
            uow,
            actor=actor,
            channel=channel,
            address=address,
            external_id=external_id,
            relink=relink,
            via=via,
            policy=policy,
            profile=profile,
        )

    try:
        return await attempt()
    except _ChatAppeared:
        # The chat's first message (or another link) arrived while this link was taken: the
        # chat exists now, so link it as it is.
        await uow.rollback()
        return await attempt()


async def link_identity(
    uow: UnitOfWork,
    *,
    actor: Actor,
    channel: Channel,
    address: str,
    external_id: str,
    relink: bool = False,
    policy: PlayerPolicy | None = None,
) -> LinkedIdentity:
    """Link the chat (`channel`, `address`) to the casino player `external_id` (commits).

    The chat's identity moves to the casino player (created through the casino's own upsert
    path if the desk does not know them; a chat never seen before starts on them), with the
    conversations that came through it; the anonymous player goes when nothing is left on it.
    Audited as `player.linked`; `ticket.updated` for each moved ticket after the commit.
    Idempotent: a chat already on that player changes nothing (`changed` False).

    A chat linked to another casino account raises LinkedElsewhere, unless `relink` says to
    move it and the actor may (`players.relink`). Pass the desk's `policy` so a player met for
    the first time gets its languages right."""
    return await _link(
        uow,
        actor=actor,
        channel=channel,
        address=address,
        external_id=external_id,
        relink=relink,
        via=LinkVia.AGENT if actor.agent_id is not None else LinkVia.SYSTEM,
        policy=policy,
    )


async def link_by_token(
    uow: UnitOfWork,
    *,
    channel: Channel,
    address: str,
    token: str,
    secret: str,
    policy: PlayerPolicy | None = None,
) -> LinkedIdentity:
    """The player followed a deep link (Telegram's `/start` payload, Viber's `context`):
    check the token, then link their chat to the player it names (commits). Raises
    LinkTokenInvalid for a bad or expired link, and LinkRefused (one of those) when the chat
    is linked to another casino account: a link never moves a chat between accounts."""
    external_id = external_id_from_token(token, secret=secret, now=uow.clock.now())
    try:
        return await _link(
            uow,
            actor=Actor.system(),
            channel=channel,
            address=address,
            external_id=external_id,
            relink=False,
            via=LinkVia.DEEP_LINK,
            policy=policy,
        )
    except LinkedElsewhere as exc:
        log.info("messenger_link_refused", channel=channel.value, reason="linked_elsewhere")
        raise LinkRefused(
            "this chat is linked to another casino account; support can move it",
            field="token",
        ) from exc


# --- the console's action: the chat of a conversation ----------------------------------------

# How long the desk waits for the back office's word on an id before saying so.
BACK_OFFICE_RETRY_SECONDS = 30


async def _check_with_back_office(
    uow: UnitOfWork, *, backend: CasinoBackend, external_id: str
) -> CasinoPlayer | None:
    """An agent's typo must not invent a casino player: the back office, when one is
    connected, must know the id (its profile is returned). If it cannot answer, a player the
    desk already knows may still be linked; any other waits until it can."""
    try:
        found = await backend.find_player(external_id=external_id)
    except (BackOfficeUnavailable, ContractViolation, TimeoutError) as exc:
        log.warning("player_link.back_office_unavailable", problem=type(exc).__name__)
        known = await uow.session.scalar(select(Player.id).where(Player.external_id == external_id))
        if known is None:
            raise Unavailable(
                "the casino's back office did not answer, so the player ID could not be "
                "checked; try again shortly",
                retry_after_seconds=BACK_OFFICE_RETRY_SECONDS,
            ) from exc
        return None
    if found is None:
        raise UnknownCasinoPlayer(
            "the casino's back office has no player with this ID", field="external_id"
        )
    return found


async def link_ticket_chat(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    external_id: str,
    relink: bool = False,
    policy: PlayerPolicy,
    backend: CasinoBackend | None,
) -> LinkedIdentity:
    """The agent links the messenger chat of a conversation to the casino player they
    verified (commits); see `link_identity`. With a back office connected the id must be one
    it knows (asked before the transaction starts, so a slow answer holds no lock)."""
    actor.require(Permission.PLAYERS_LINK)
    external_id = _checked_external_id(external_id)
    profile = None
    if backend is not None:
        profile = await _check_with_back_office(uow, backend=backend, external_id=external_id)
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket", field="ticket_id")
    if ticket.channel not in {channel.value for channel in MESSENGER_CHANNELS}:
        raise ValidationFailed(
            "only a Telegram, WhatsApp or Viber conversation has a chat to link",
            field="ticket_id",
        )
    channel = Channel(ticket.channel)
    addresses = list(
        (
            await uow.session.scalars(
                select(ChannelIdentity.address)
                .where(
                    ChannelIdentity.player_id == ticket.player_id,
                    ChannelIdentity.channel == channel.value,
                )
                .limit(2)
            )
        ).all()
    )
    if not addresses:
        raise Conflict(f"the player of this conversation has no {channel.value} chat any more")
    if len(addresses) > 1:
        raise Conflict(
            f"the player of this conversation writes from several {channel.value} chats; "
            "which one to link is not clear"
        )
    return await _link(
        uow,
        actor=actor,
        channel=channel,
        address=addresses[0],
        external_id=external_id,
        relink=relink,
        via=LinkVia.AGENT,
        policy=policy,
        profile=profile,
    )
