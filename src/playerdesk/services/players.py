"""Players and the channel identities by which they reach us."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from playerdesk.db.models import Agent, ChannelIdentity, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel
from playerdesk.domain.errors import Conflict, NotFound, ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.players import check_language, check_vip_tier, normalise_email
from playerdesk.services import audit


@dataclass(frozen=True, kw_only=True)
class PlayerPolicy:
    languages: list[str]
    default_language: str
    vip_tiers: list[str]


@dataclass(frozen=True, kw_only=True)
class PlayerFields:
    """What a caller tells us about a player; None means 'not given, leave as is'."""

    name: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    country: str | None = None
    vip_tier: str | None = None
    personal_manager_id: int | None = None


async def _ensure_identity(
    uow: UnitOfWork, *, player: Player, channel: Channel, address: str
) -> None:
    owner = await uow.session.scalar(
        select(ChannelIdentity.player_id).where(
            ChannelIdentity.channel == channel.value, ChannelIdentity.address == address
        )
    )
    if owner is None:
        uow.session.add(
            ChannelIdentity(
                player_id=player.id,
                channel=channel.value,
                address=address,
                created_at=uow.clock.now(),
            )
        )
    elif owner != player.id:
        raise Conflict(f"this {channel.value} address belongs to another player", field="email")


async def _apply(
    uow: UnitOfWork, *, player: Player, fields: PlayerFields, policy: PlayerPolicy
) -> list[str]:
    """Copy the given fields onto the player; return the names of those that changed."""
    changed: list[str] = []

    def assign(attr: str, value: object) -> None:
        if getattr(player, attr) != value:
            setattr(player, attr, value)
            changed.append(attr)

    if fields.name is not None:
        assign("name", fields.name.strip()[:200] or None)
    if fields.email is not None:
        assign("email", normalise_email(fields.email, field="email") if fields.email else None)
    if fields.phone is not None:
        phone = fields.phone.strip()
        if phone and not phone.lstrip("+").replace(" ", "").isdigit():
            raise ValidationFailed(
                "a phone number has digits, spaces and a leading +", field="phone"
            )
        assign("phone", phone or None)
    if fields.language is not None:
        assign("language", check_language(fields.language, supported=policy.languages))
    if fields.country is not None:
        country = fields.country.strip().upper()
        if country and (len(country) != 2 or not country.isalpha()):
            raise ValidationFailed("an ISO 3166 alpha-2 code, e.g. PL", field="country")
        assign("country", country or None)
    if fields.vip_tier is not None:
        assign("vip_tier", check_vip_tier(fields.vip_tier, tiers=policy.vip_tiers))
    if fields.personal_manager_id is not None:
        manager = await uow.session.get(Agent, fields.personal_manager_id)
        if manager is None or not manager.is_active:
            raise ValidationFailed("no such active agent", field="personal_manager_id")
        assign("personal_manager_id", manager.id)
    if changed:
        player.updated_at = uow.clock.now()
    if player.id is not None and "email" in changed and player.email:
        await _ensure_identity(uow, player=player, channel=Channel.EMAIL, address=player.email)
    return changed


async def _new_player(
    uow: UnitOfWork, *, external_id: str | None, fields: PlayerFields, policy: PlayerPolicy
) -> Player:
    now = uow.clock.now()
    player = Player(
        external_id=external_id,
        language=policy.default_language,
        created_at=now,
        updated_at=now,
    )
    await _apply(uow, player=player, fields=fields, policy=policy)
    uow.session.add(player)
    await uow.session.flush()
    if player.email:
        await _ensure_identity(uow, player=player, channel=Channel.EMAIL, address=player.email)
    return player


async def _find_existing(
    uow: UnitOfWork, *, external_id: str | None, email: str | None
) -> Player | None:
    if external_id is not None:
        return await uow.session.scalar(select(Player).where(Player.external_id == external_id))
    if email:
        return await uow.session.scalar(
            select(Player)
            .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
            .where(ChannelIdentity.channel == Channel.EMAIL.value, ChannelIdentity.address == email)
        )
    return None


async def _create_or_find(
    uow: UnitOfWork, *, external_id: str | None, fields: PlayerFields, policy: PlayerPolicy
) -> tuple[Player, bool]:
    """Create the player; if a concurrent request created the same one first (its unique
    key won), return that one instead. True when this call created it."""
    try:
        async with uow.session.begin_nested():
            return await _new_player(
                uow, external_id=external_id, fields=fields, policy=policy
            ), True
    except IntegrityError as exc:
        email = normalise_email(fields.email, field="email") if fields.email else None
        existing = await _find_existing(uow, external_id=external_id, email=email)
        if existing is None:
            raise Conflict("the player changed while we saved; retry", field="player") from exc
        return existing, False


def _check_external_id(external_id: str) -> str:
    value = external_id.strip()
    if not value or len(value) > 100:
        raise ValidationFailed("1 to 100 characters", field="external_id")
    return value


@dataclass(frozen=True, kw_only=True)
class UpsertResult:
    player: Player
    created: bool


async def upsert_player(
    uow: UnitOfWork,
    *,
    actor: Actor,
    external_id: str,
    fields: PlayerFields,
    policy: PlayerPolicy,
) -> UpsertResult:
    """Create or update the player the casino knows by `external_id`."""
    actor.require(Permission.PLAYERS_WRITE)
    external_id = _check_external_id(external_id)
    player = await uow.session.scalar(select(Player).where(Player.external_id == external_id))
    created = False
    if player is None:
        player, created = await _create_or_find(
            uow, external_id=external_id, fields=fields, policy=policy
        )
    if created:
        audit.record(
            uow, actor=actor, action="player.created", entity_type="player", entity_id=player.id
        )
    else:
        changed = await _apply(uow, player=player, fields=fields, policy=policy)
        # The response carries the player's personal data, so even a no-op PUT is a read.
        audit.record(
            uow,
            actor=actor,
            action="player.updated" if changed else "player.viewed",
            entity_type="player",
            entity_id=player.id,
            details={"fields": changed} if changed else {},
        )
    await uow.commit()
    return UpsertResult(player=player, created=created)


async def match_or_create_player(
    uow: UnitOfWork,
    *,
    actor: Actor,
    external_id: str | None,
    fields: PlayerFields,
    policy: PlayerPolicy,
) -> Player:
    """Find the player for an incoming contact (casino id first, then email) or create one.

    Part of a larger use case: it flushes but does not commit.
    """
    if external_id is not None:
        external_id = _check_external_id(external_id)
        player = await uow.session.scalar(select(Player).where(Player.external_id == external_id))
        if player is not None:
            return player
    elif fields.email:
        email = normalise_email(fields.email, field="player.email")
        player = await uow.session.scalar(
            select(Player)
            .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
            .where(ChannelIdentity.channel == Channel.EMAIL.value, ChannelIdentity.address == email)
        )
        if player is not None:
            return player
    else:
        raise ValidationFailed("give the player's external_id or email", field="player")
    player, created = await _create_or_find(
        uow, external_id=external_id, fields=fields, policy=policy
    )
    if created:
        audit.record(
            uow, actor=actor, action="player.created", entity_type="player", entity_id=player.id
        )
    return player


async def _audited_view(uow: UnitOfWork, *, actor: Actor, player: Player) -> Player:
    audit.record(
        uow, actor=actor, action="player.viewed", entity_type="player", entity_id=player.id
    )
    await uow.commit()
    return player


async def view_player(uow: UnitOfWork, *, actor: Actor, external_id: str) -> Player:
    """Read a player's personal data; every read is written to the audit log."""
    actor.require(Permission.PLAYERS_READ)
    player = await uow.session.scalar(
        select(Player).where(Player.external_id == _check_external_id(external_id))
    )
    if player is None:
        raise NotFound("no such player", field="external_id")
    return await _audited_view(uow, actor=actor, player=player)


async def view_ticket_player(uow: UnitOfWork, *, actor: Actor, ticket_id: int) -> Player:
    """The player behind a ticket (anonymous chat visitors too), audited like any view."""
    actor.require(Permission.PLAYERS_READ)
    player = await uow.session.scalar(
        select(Player).join(Ticket, Ticket.player_id == Player.id).where(Ticket.id == ticket_id)
    )
    if player is None:
        raise NotFound("no such ticket", field="ticket_id")
    return await _audited_view(uow, actor=actor, player=player)


async def attach_email(uow: UnitOfWork, *, player: Player, email: str) -> None:
    """Give a player an address we can answer by (kept as an email identity); part of a
    larger use case, so no commit."""
    address = normalise_email(email, field="email")
    if player.email is None:
        player.email = address
        player.updated_at = uow.clock.now()
    await _ensure_identity(uow, player=player, channel=Channel.EMAIL, address=address)
