"""Telegram long polling (`getUpdates`), for an installation without a public HTTPS URL
(PLAYERDESK_TELEGRAM_POLLING). Each update takes exactly the webhook's path
(adapters.telegram.take_update).

Only one process may poll a bot: Telegram answers a second `getUpdates` with 409. Every
worker runs this task, and the one holding the `telegram:getUpdates` lease (a row in the
database, services.leases) polls; the others wait and take over when it stops or dies.
The lease also keeps the offset: it advances past an update only once the update is in the
desk, so an update that fails is asked for again (retried, never lost) and a poller that
takes over goes on where the last one stopped. Updates delivered twice are recognised by
their message keys, as the webhook's retries are.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import timedelta

import httpx
import structlog

from playerdesk.adapters.telegram import (
    MalformedUpdate,
    TelegramApi,
    TelegramRefused,
    answer_button,
    get_updates,
    take_update,
)
from playerdesk.runtime import Runtime
from playerdesk.services import leases

log = structlog.get_logger(__name__)

LEASE = "telegram:getUpdates"
# The lease outlives one long poll and the update being taken by this much; the poller
# renews it before each poll and after each update it takes.
LEASE_MARGIN = timedelta(seconds=60)
# How often a worker without the lease looks whether it is free.
STANDBY_SECONDS = 5.0
# After a failure (Telegram unreachable, an update that could not be taken), the next try
# waits 1, 2, 4... seconds, at most this long.
MAX_RETRY_SECONDS = 60.0
# After a 409 (a webhook is set, or another program polls with the same token).
CONFLICT_SECONDS = 30.0
MAX_CONFLICT_SECONDS = 300.0


@dataclass(frozen=True, kw_only=True)
class PollResult:
    """What one pass did: `leader` False when another worker holds the lease (nothing was
    asked of Telegram); `failed` when Telegram could not be asked or an update could not be
    taken (it is asked for again); `conflict` when Telegram answered 409."""

    leader: bool
    taken: int = 0
    failed: bool = False
    conflict: bool = False
    lost_lease: bool = False


def worker_name() -> str:
    """Who holds the lease, for the logs and the row: host, process, and a random part (two
    pollers in one process are two holders)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"[:100]


def lease_ttl(timeout_seconds: int) -> timedelta:
    return timedelta(seconds=timeout_seconds) + LEASE_MARGIN


async def poll_once(
    runtime: Runtime, *, api: TelegramApi, holder: str, timeout_seconds: int | None = None
) -> PollResult:
    """Take the lease (or keep it), ask Telegram for the updates after the recorded offset,
    and take them in order, recording the offset after each. Stops at the first update that
    fails, so that it comes again with those after it, in order."""
    timeout = (
        runtime.settings.telegram_polling_timeout_seconds
        if timeout_seconds is None
        else timeout_seconds
    )
    ttl = lease_ttl(timeout)
    async with runtime.uow() as uow:
        lease = await leases.acquire_lease(uow, name=LEASE, holder=holder, ttl=ttl)
    if lease is None:
        return PollResult(leader=False)
    try:
        updates = await get_updates(api, offset=lease.cursor, timeout_seconds=timeout)
    except TelegramRefused as error:
        if error.status == 409:
            _log_conflict(error)
            return PollResult(leader=True, conflict=True)
        log.warning("telegram_polling_failed", status=error.status, error=str(error))
        return PollResult(leader=True, failed=True)
    except httpx.HTTPError as error:
        # Its text may carry the URL, and so the token: only its kind is logged.
        log.warning("telegram_polling_failed", error=f"unreachable ({type(error).__name__})")
        return PollResult(leader=True, failed=True)
    taken = 0
    for update in sorted(updates, key=_update_id):
        update_id = _update_id(update)
        if update_id < 0 or (lease.cursor is not None and update_id < lease.cursor):
            continue  # not an update, or one taken before (Telegram repeats until confirmed)
        try:
            result = await take_update(runtime, raw=json.dumps(update).encode())
        except MalformedUpdate as error:
            # As the webhook answers 400: it will never be readable, so it is passed over.
            log.warning("telegram_update_malformed", update_id=update_id, error=str(error))
        except Exception:
            log.exception("telegram_update_failed", update_id=update_id)
            return PollResult(leader=True, taken=taken, failed=True)
        else:
            if result.callback_query_id is not None:
                await answer_button(api, callback_query_id=result.callback_query_id)
        async with runtime.uow() as uow:
            held = await leases.renew_lease(
                uow, name=LEASE, holder=holder, ttl=ttl, cursor=update_id + 1
            )
        taken += 1
        if not held:
            # Another worker took over (this one was too slow): it goes on from here.
            log.warning("telegram_polling_lease_lost", holder=holder, update_id=update_id)
            return PollResult(leader=True, taken=taken, lost_lease=True)
    if taken:
        log.info("telegram_updates_polled", taken=taken)
    return PollResult(leader=True, taken=taken)


def _update_id(update: dict[str, object]) -> int:
    value = update.get("update_id")
    return value if type(value) is int else -1


def _log_conflict(error: TelegramRefused) -> None:
    if "webhook" in error.description.lower():
        log.error(
            "telegram_polling_conflict",
            reason="webhook_set",
            error=str(error),
            hint="a webhook is set for this bot, and Telegram delivers to it instead: call "
            "deleteWebhook (docs/CHANNELS.md), or switch PLAYERDESK_TELEGRAM_POLLING off",
        )
    else:
        log.error(
            "telegram_polling_conflict",
            reason="another_poller",
            error=str(error),
            hint="another program polls this bot with the same token: stop it (the workers "
            "of this installation poll one at a time)",
        )


def delay_after(result: PollResult, *, failures: int, conflicts: int) -> float:
    """How long to wait before the next pass (none while updates flow: the long poll
    itself waits for them)."""
    if not result.leader:
        return STANDBY_SECONDS
    if result.conflict:
        # The exponent is capped: a conflict may last for days.
        return min(CONFLICT_SECONDS * 2.0 ** min(max(conflicts - 1, 0), 10), MAX_CONFLICT_SECONDS)
    if result.failed:
        return min(2.0 ** min(max(failures - 1, 0), 10), MAX_RETRY_SECONDS)
    return 0.0


async def run_telegram_polling(runtime: Runtime) -> None:
    """A background task of every process that runs the jobs (runner.background_tasks):
    polls while it holds the lease, stands by otherwise; lets the lease go when stopped."""
    api = TelegramApi.from_settings(runtime.settings)
    if api is None:
        log.warning("telegram_polling_without_token")
        return
    holder = worker_name()
    failures = conflicts = 0
    log.info("telegram_polling_started", holder=holder)
    try:
        while True:
            try:
                result = await poll_once(runtime, api=api, holder=holder)
            except Exception:
                # The database, most likely: the loop lives on.
                log.exception("telegram_polling_crashed")
                result = PollResult(leader=True, failed=True)
            failures = failures + 1 if result.failed else 0
            conflicts = conflicts + 1 if result.conflict else 0
            delay = delay_after(result, failures=failures, conflicts=conflicts)
            if delay:
                await asyncio.sleep(delay)
    finally:
        try:
            async with runtime.uow() as uow:
                await leases.release_lease(uow, name=LEASE, holder=holder)
        except Exception:
            log.warning("telegram_polling_lease_not_released", holder=holder)
