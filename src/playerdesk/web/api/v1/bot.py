"""The bot, for supervisors and admins: the channels it answers first, switched on or off,
and the report of its answers and hand-overs."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Path, Query

from playerdesk.services import bot_admin as service
from playerdesk.web.deps import CurrentActor, ReadUowDep, UowDep
from playerdesk.web.schemas.bot import BotChannelIn, BotChannelOut, BotReportOut
from playerdesk.web.schemas.common import SafeStr

router = APIRouter(prefix="/bot", tags=["bot"])

MAX_REPORT_DAYS = 90


@router.get("/channels")
async def list_bot_channels(uow: ReadUowDep, actor: CurrentActor) -> list[BotChannelOut]:
    """Every channel the bot can answer, switched on or not, with who switched it last."""
    views = await service.list_bot_channels(uow, actor=actor)
    return [BotChannelOut.of(view) for view in views]


@router.put("/channels/{channel}")
async def set_bot_channel(
    channel: Annotated[SafeStr, Path(max_length=20, description="web_chat, telegram, ...")],
    body: BotChannelIn,
    uow: UowDep,
    actor: CurrentActor,
) -> BotChannelOut:
    """Switch the bot on or off for new conversations on the channel; conversations it is
    already in stay with it until it hands over."""
    view = await service.set_bot_channel(uow, actor=actor, channel=channel, enabled=body.enabled)
    return BotChannelOut.of(view)


@router.get("/report")
async def bot_report(
    uow: ReadUowDep,
    actor: CurrentActor,
    days: Annotated[int, Query(ge=1, le=MAX_REPORT_DAYS, description="the last N days")] = 7,
) -> BotReportOut:
    since = uow.clock.now() - timedelta(days=days)
    return BotReportOut.of(await service.bot_report(uow, actor=actor, since=since))
