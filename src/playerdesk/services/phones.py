"""Players by phone number: how calls and callback requests find who they are about."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from playerdesk.db.models import ChannelIdentity, Player
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.phone import normalise_phone


def phone_number_or_none(raw: str, *, default_region: str | None) -> str | None:
    """E.164, or None for a withheld or unparseable number ("anonymous", "unknown")."""
    try:
        return normalise_phone(raw, default_region=default_region)
    except ValidationFailed:
        return None


async def find_player_by_phone(
    uow: UnitOfWork, *, number: str, default_region: str | None
) -> Player | None:
    """The player with this phone identity, else the one whose phone field is this number
    (then the identity is recorded, so the next call is one lookup)."""
    player = await uow.session.scalar(
        select(Player)
        .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
        .where(ChannelIdentity.channel == Channel.PHONE.value, ChannelIdentity.address == number)
    )
    if player is not None:
        return player
    # Phone fields are stored as typed ("+44 20 7946 0958", "020 7946 0958"): narrow by the
    # last digits in SQL, then compare the normalised numbers.
    tail = number[-6:]
    candidates = await uow.session.scalars(
        select(Player)
        .where(func.replace(Player.phone, " ", "").like(f"%{tail}"))
        .order_by(Player.id)
        .limit(20)
    )
    for candidate in candidates:
        if (
            candidate.phone
            and phone_number_or_none(candidate.phone, default_region=default_region) == number
        ):
            await _remember_identity(uow, player=candidate, number=number)
            return candidate
    return None


async def _remember_identity(uow: UnitOfWork, *, player: Player, number: str) -> None:
    try:
        async with uow.session.begin_nested():
            uow.session.add(
                ChannelIdentity(
                    player_id=player.id,
                    channel=Channel.PHONE.value,
                    address=number,
                    created_at=uow.clock.now(),
                )
            )
    except IntegrityError:
        pass  # a concurrent call recorded it first


async def player_for_number(
    uow: UnitOfWork, *, number: str | None, default_region: str | None, default_language: str
) -> Player:
    """The caller's player, or a new one known only by this number (or by nothing at all,
    for a withheld number), so that the call has a ticket to be logged on."""
    if number is not None:
        found = await find_player_by_phone(uow, number=number, default_region=default_region)
        if found is not None:
            return found
    now = uow.clock.now()
    player = Player(
        phone=number,
        language=default_language,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(player)
    await uow.session.flush()
    if number is not None:
        await _remember_identity(uow, player=player, number=number)
    return player
