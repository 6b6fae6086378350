"""A small periodic job runner. Each job is a service call in its own unit of work."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog

from playerdesk.jobs.bot_turns import answer_bot_turns, warm_up_bot
from playerdesk.jobs.outbox import deliver_outbox
from playerdesk.runtime import Runtime
from playerdesk.services import auth, floor
from playerdesk.settings import Settings

log = structlog.get_logger(__name__)


@dataclass(frozen=True, kw_only=True)
class PeriodicJob:
    name: str
    every: timedelta
    run: Callable[[Runtime], Awaitable[object]]
    quiet: bool = False  # frequent: it logs by itself when it did something


async def _purge_expired_auth(runtime: Runtime) -> object:
    async with runtime.uow() as uow:
        return await auth.purge_expired(uow, keep_attempts_for=timedelta(days=30))


async def _floor_tick(runtime: Runtime) -> object:
    async with runtime.uow() as uow:
        return await floor.run_floor_tick(
            uow, policy=runtime.policies.routing, mail_policy=runtime.policies.mail
        )


def jobs_for(settings: Settings) -> list[PeriodicJob]:
    return [
        PeriodicJob(
            name="purge_expired_auth", every=timedelta(minutes=10), run=_purge_expired_auth
        ),
        # SLA warnings and breaches, escalations, queues, agents who left: minute-level
        # targets need this every few seconds (PLAYERDESK_SLA_CHECK_SECONDS).
        PeriodicJob(
            name="floor_tick",
            every=timedelta(seconds=settings.sla_check_seconds),
            run=_floor_tick,
            quiet=True,
        ),
        # Players in a conversation with the bot wait for its answer (issue 7).
        PeriodicJob(
            name="answer_bot_turns",
            every=timedelta(seconds=settings.bot_check_seconds),
            run=answer_bot_turns,
            quiet=True,
        ),
        PeriodicJob(
            name="deliver_outbox",
            every=timedelta(seconds=settings.outbox_check_seconds),
            run=deliver_outbox,
            quiet=True,
        ),
    ]


BackgroundTask = Callable[[Runtime], Coroutine[Any, Any, None]]


def background_tasks(settings: Settings) -> list[BackgroundTask]:
    """What a process that runs the jobs also runs: the periodic jobs, the SMTP receiver
    (PLAYERDESK_SMTP_INBOUND), the IMAP pollers, and once at start the bot's model."""
    from playerdesk.adapters.email_in import run_smtp_receiver
    from playerdesk.jobs.mailboxes import run_mailbox_pollers

    tasks: list[BackgroundTask] = [run_jobs_forever, run_mailbox_pollers, warm_up_bot]
    if settings.smtp_inbound:
        tasks.append(run_smtp_receiver)
    if settings.telegram_polling:
        from playerdesk.jobs.telegram_polling import run_telegram_polling

        # Every worker runs it; the one holding the lease polls (PLAYERDESK_TELEGRAM_POLLING).
        tasks.append(run_telegram_polling)
    return tasks


async def run_job_once(runtime: Runtime, job: PeriodicJob) -> bool:
    """Run one job, logging (not raising) its failure so the loop lives on."""
    try:
        result = await job.run(runtime)
    except Exception:
        log.exception("job_failed", job=job.name)
        return False
    if not job.quiet:
        log.info("job_done", job=job.name, result=result)
    return True


async def run_jobs_forever(runtime: Runtime, *, jobs: list[PeriodicJob] | None = None) -> None:
    schedule = jobs or jobs_for(runtime.settings)
    loop = asyncio.get_running_loop()
    next_run = {job.name: loop.time() for job in schedule}
    while True:
        now = loop.time()
        for job in schedule:
            if next_run[job.name] <= now:
                await run_job_once(runtime, job)
                next_run[job.name] = loop.time() + job.every.total_seconds()
        await asyncio.sleep(max(0.05, min(next_run.values()) - loop.time()))
