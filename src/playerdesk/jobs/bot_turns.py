"""The bot job: answer the players' messages in the conversations the bot holds
(services.bot). Each conversation's turn is planned outside any write transaction (the
back office may take a while) and written in one; a turn that keeps failing goes to a
person."""

from __future__ import annotations

import structlog

from playerdesk.runtime import Runtime, freeze_long_lived_objects
from playerdesk.services import bot as bot_service
from playerdesk.services.bot import BotContext, TurnWork
from playerdesk.services.floor_config import floor_config

log = structlog.get_logger(__name__)


async def answer_bot_turns(runtime: Runtime, *, limit: int = 20) -> dict[str, int]:
    """One pass: how many turns were answered, handed over, skipped or failed."""
    counts = {"answered": 0, "handed_off": 0, "skipped": 0, "failed": 0}
    async with runtime.uow() as uow:
        batch = await bot_service.claim_turns(uow, limit=limit)
    if not batch:
        return counts
    context = BotContext(
        bot=await runtime.support_bot(),
        casino=runtime.casino,
        public_url=runtime.settings.public_url,
        rephraser=runtime.rephraser,
    )
    for work in batch:
        try:
            outcome = await _answer(runtime, work=work, context=context)
        except Exception:
            # The lease brings the turn back; after MAX_TURN_ATTEMPTS a person takes it.
            log.exception("bot_turn_failed", ticket_id=work.ticket_id, attempts=work.attempts)
            counts["failed"] += 1
            continue
        counts[outcome] += 1
    if any(counts.values()):
        log.info("bot_turns", **counts)
    return counts


async def _answer(runtime: Runtime, *, work: TurnWork, context: BotContext) -> str:
    policy = runtime.policies.bot
    if work.attempts > bot_service.MAX_TURN_ATTEMPTS:
        async with runtime.uow() as uow:
            return await bot_service.give_up_turn(uow, work=work, policy=policy)
    async with runtime.read_uow() as uow:
        plan = await bot_service.plan_turn(uow, work=work, context=context)
    async with runtime.uow() as uow:
        return await bot_service.finish_turn(uow, work=work, plan=plan, policy=policy)


async def warm_up_bot(runtime: Runtime) -> None:
    """At start, where the bot answers a channel: load (or train) its model now rather than
    when the first player is waiting for it."""
    try:
        async with runtime.read_uow() as uow:
            answers_somewhere = bool((await floor_config(uow)).bot_channels)
        if answers_somewhere:
            await runtime.support_bot()
            freeze_long_lived_objects()
            log.info("bot_ready")
    except Exception:
        # Not fatal: the bot job loads the model when it first has a turn to answer.
        log.exception("bot_warm_up_failed")
