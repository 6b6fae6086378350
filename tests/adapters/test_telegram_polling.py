"""Telegram long polling (`getUpdates`) against a local Bot API server that keeps the bot's
queue of updates as Telegram does: updates taken in order through the webhook's own path,
the offset advanced only past what is in the desk, a failing update asked for again, one
poller at a time however many workers run, and a webhook left set reported with the fix."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from structlog.testing import capture_logs

from playerdesk.adapters import telegram as telegram_adapter
from playerdesk.adapters.telegram import TelegramApi, TelegramTaken
from playerdesk.clock import FrozenClock
from playerdesk.db.models import Message, WorkerLease
from playerdesk.domain.enums import AuthorKind
from playerdesk.jobs import telegram_polling
from playerdesk.jobs.runner import background_tasks
from playerdesk.jobs.telegram_polling import (
    LEASE,
    PollResult,
    delay_after,
    lease_ttl,
    poll_once,
    run_telegram_polling,
)
from playerdesk.runtime import Runtime
from playerdesk.services import leases
from playerdesk.settings import Settings
from tests.telegram_api import (
    TOKEN,
    FakeTelegram,
    button_update,
    fake_telegram,
    telegram_settings,
    text_update,
)

CHAT = 5123908871


@pytest.fixture
async def telegram_api() -> AsyncIterator[FakeTelegram]:
    async with fake_telegram() as fake:
        yield fake


@pytest.fixture
def settings(database_url: str, tmp_path: Path, telegram_api: FakeTelegram) -> Settings:
    return telegram_settings(
        database_url=database_url,
        tmp_path=tmp_path,
        api_base=telegram_api.base_url,
        telegram_polling=True,
        telegram_polling_timeout_seconds=1,
    )


@pytest.fixture
def api(telegram_api: FakeTelegram) -> TelegramApi:
    return TelegramApi(base_url=telegram_api.base_url, token=TOKEN)


def update(text: str, update_id: int, message_id: int) -> dict[str, Any]:
    return text_update(text, update_id=update_id, message_id=message_id)


async def player_messages(runtime: Runtime) -> list[str]:
    async with runtime.read_uow() as uow:
        rows = await uow.session.scalars(
            select(Message.body)
            .where(Message.author_kind == AuthorKind.PLAYER.value)
            .order_by(Message.id)
        )
        return list(rows)


async def cursor(runtime: Runtime) -> int | None:
    async with runtime.read_uow() as uow:
        lease = await uow.session.get(WorkerLease, LEASE)
        return lease.cursor if lease is not None else None


def offsets_asked(telegram_api: FakeTelegram) -> list[int | None]:
    return [body.get("offset") for body in telegram_api.of("getUpdates")]


async def test_updates_are_taken_in_order_and_the_offset_advances(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    # Queued out of order: Telegram's update ids say the order, and they come in it.
    telegram_api.push(
        update("It was 200 EUR", 734118302, 53),
        update("My withdrawal has not arrived", 734118301, 52),
        update("Sent on Tuesday", 734118303, 54),
    )
    result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert result == PollResult(leader=True, taken=3)
    assert await player_messages(runtime) == [
        "My withdrawal has not arrived",
        "It was 200 EUR",
        "Sent on Tuesday",
    ]
    assert await cursor(runtime) == 734118304
    [first] = telegram_api.of("getUpdates")
    assert first == {
        "timeout": 0,
        "allowed_updates": ["message", "edited_message", "callback_query"],
    }
    # The next poll confirms them to Telegram (its offset is past them): they are gone.
    assert await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0) == PollResult(
        leader=True, taken=0
    )
    assert offsets_asked(telegram_api) == [None, 734118304]
    assert telegram_api.queued == []


async def test_a_long_poll_waits_for_the_next_update(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    async def arrives_later() -> None:
        await telegram_api.wait_for("getUpdates")
        await asyncio.sleep(0.1)
        telegram_api.push(update("Hello?", 734118310, 60))

    pushing = asyncio.create_task(arrives_later())
    result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=5)
    await pushing
    assert result.taken == 1
    assert telegram_api.of("getUpdates")[0]["timeout"] == 5
    assert await player_messages(runtime) == ["Hello?"]


async def test_a_failing_update_is_asked_for_again_and_never_lost(
    runtime: Runtime,
    api: TelegramApi,
    telegram_api: FakeTelegram,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    telegram_api.push(
        update("first", 734118401, 70),
        update("second", 734118402, 71),
        update("third", 734118403, 72),
    )
    real_take = telegram_adapter.take_update
    failures = {734118402: 1}  # the database fails while it is taken, once

    async def flaky_take(runtime: Runtime, *, raw: bytes) -> TelegramTaken:
        update_id = json.loads(raw)["update_id"]
        if failures.get(update_id):
            failures[update_id] -= 1
            raise ConnectionResetError("the database went away")
        return await real_take(runtime, raw=raw)

    monkeypatch.setattr(telegram_polling, "take_update", flaky_take)
    with capture_logs() as logs:
        failed = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert failed == PollResult(leader=True, taken=1, failed=True)
    assert [entry["update_id"] for entry in logs if entry["event"] == "telegram_update_failed"] == [
        734118402
    ]
    # The offset stays at the update that failed: Telegram keeps it and those after it.
    assert await cursor(runtime) == 734118402
    assert await player_messages(runtime) == ["first"]

    again = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert again == PollResult(leader=True, taken=2)
    assert offsets_asked(telegram_api) == [None, 734118402]
    assert await player_messages(runtime) == ["first", "second", "third"]
    assert await cursor(runtime) == 734118404


async def test_an_update_delivered_again_after_a_crash_is_taken_once(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    """A worker that took an update and died before it recorded the offset: the next one
    is given the update again, and its message key recognises it."""
    telegram_api.push(update("Only once, please", 734118501, 80))
    await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    async with runtime.uow() as uow:
        lease = await uow.session.get(WorkerLease, LEASE)
        assert lease is not None
        lease.cursor = None  # as if it had never been recorded
        await uow.commit()
    # Telegram still has it: no getUpdates has confirmed it.
    assert [queued["update_id"] for queued in telegram_api.queued] == [734118501]
    assert (await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)).taken == 1
    assert await player_messages(runtime) == ["Only once, please"]


async def test_a_pressed_button_is_answered_when_polled(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    pressed = button_update("helpful_yes", query_id="4392017758315690777")
    telegram_api.push(pressed)
    assert (await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)).taken == 1
    assert telegram_api.of("answerCallbackQuery") == [{"callback_query_id": "4392017758315690777"}]


async def test_a_malformed_update_is_passed_over(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    telegram_api.push(
        {"update_id": 734118601, "message": {"message_id": 1, "date": 0, "text": "no chat"}},
        update("after it", 734118602, 90),
    )
    with capture_logs() as logs:
        result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert result.taken == 2
    assert [
        entry["update_id"] for entry in logs if entry["event"] == "telegram_update_malformed"
    ] == [734118601]
    assert await player_messages(runtime) == ["after it"]


# --- one poller at a time -----------------------------------------------------------------


async def test_a_second_worker_does_not_poll_while_the_first_holds_the_lease(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram, clock: FrozenClock
) -> None:
    telegram_api.push(update("one", 734118701, 100))
    assert (await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)).taken == 1
    standby = await poll_once(runtime, api=api, holder="worker-b", timeout_seconds=0)
    assert standby == PollResult(leader=False)
    assert len(telegram_api.of("getUpdates")) == 1  # worker-b never asked Telegram
    # worker-a dies; once its lease runs out, worker-b goes on from where it stopped.
    clock.advance(lease_ttl(0) + timedelta(seconds=1))
    telegram_api.push(update("two", 734118702, 101))
    taken_over = await poll_once(runtime, api=api, holder="worker-b", timeout_seconds=0)
    assert taken_over == PollResult(leader=True, taken=1)
    assert offsets_asked(telegram_api) == [None, 734118702]
    assert await player_messages(runtime) == ["one", "two"]
    # ...and worker-a, back, stands by.
    assert (await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)).leader is False


async def test_only_one_of_many_workers_racing_gets_the_lease(runtime: Runtime) -> None:
    async def race(holder: str) -> leases.HeldLease | None:
        async with runtime.uow() as uow:
            return await leases.acquire_lease(
                uow, name="race", holder=holder, ttl=timedelta(minutes=1)
            )

    won = await asyncio.gather(*(race(f"worker-{number}") for number in range(6)))
    assert len([lease for lease in won if lease is not None]) == 1


async def test_two_running_pollers_never_poll_at_once(
    runtime: Runtime, telegram_api: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two workers' polling tasks run side by side for real: the fake Bot API counts the
    getUpdates calls answered at the same moment (Telegram would cut one short with 409).
    When the polling worker stops, the other takes over where it stopped."""
    monkeypatch.setattr(telegram_polling, "STANDBY_SECONDS", 0.05)
    names = iter(["worker-a", "worker-b"])
    monkeypatch.setattr(telegram_polling, "worker_name", lambda: next(names))
    pollers = {
        name: asyncio.create_task(run_telegram_polling(runtime))
        for name in ("worker-a", "worker-b")
    }

    async def until_taken(count: int) -> None:
        for _ in range(500):
            if len(await player_messages(runtime)) >= count:
                return
            await asyncio.sleep(0.02)

    try:
        for number in range(6):
            telegram_api.push(update(f"message {number}", 734118801 + number, 110 + number))
            await asyncio.sleep(0.1)
        await until_taken(6)
        async with runtime.read_uow() as uow:
            lease = await uow.session.get(WorkerLease, LEASE)
            assert lease is not None
            leader = lease.holder
        # The polling worker shuts down: it lets the lease go, and the other one goes on.
        pollers[leader].cancel()
        await asyncio.gather(pollers[leader], return_exceptions=True)
        telegram_api.push(update("after the hand-over", 734118901, 130))
        await until_taken(7)
    finally:
        for task in pollers.values():
            task.cancel()
        await asyncio.gather(*pollers.values(), return_exceptions=True)
    assert await player_messages(runtime) == [
        *(f"message {number}" for number in range(6)),
        "after the hand-over",
    ]
    assert telegram_api.most_polling == 1
    assert telegram_api.terminated == 0
    async with runtime.read_uow() as uow:
        lease = await uow.session.get(WorkerLease, LEASE)
        assert lease is not None and lease.holder != leader


# --- conflicts and failures -------------------------------------------------------------------


async def test_a_webhook_left_set_is_a_conflict_reported_with_the_fix(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    telegram_api.webhook_url = "https://support.casino.example/webhooks/telegram"
    telegram_api.push(update("waiting", 734119001, 140))
    with capture_logs() as logs:
        result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert result == PollResult(leader=True, conflict=True)
    [conflict] = [entry for entry in logs if entry["event"] == "telegram_polling_conflict"]
    assert conflict["log_level"] == "error"
    assert conflict["reason"] == "webhook_set"
    assert "deleteWebhook" in conflict["hint"]
    assert TOKEN not in json.dumps(conflict)
    assert await player_messages(runtime) == []
    assert delay_after(result, failures=0, conflicts=1) == 30.0
    assert delay_after(result, failures=0, conflicts=5) == 300.0
    assert delay_after(result, failures=0, conflicts=10_000) == 300.0

    # The operator calls deleteWebhook: polling takes what waited.
    telegram_api.webhook_url = None
    assert (await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)).taken == 1


async def test_another_program_polling_the_bot_is_a_conflict_too(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram
) -> None:
    telegram_api.poll_failures = [
        (
            409,
            "Conflict: terminated by other getUpdates request; make sure that only one bot "
            "instance is running",
        )
    ]
    with capture_logs() as logs:
        result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert result.conflict is True
    [conflict] = [entry for entry in logs if entry["event"] == "telegram_polling_conflict"]
    assert conflict["reason"] == "another_poller"


@pytest.mark.parametrize("status", [500, 502, 429])
async def test_telegram_failing_is_retried_with_backoff(
    runtime: Runtime, api: TelegramApi, telegram_api: FakeTelegram, status: int
) -> None:
    telegram_api.poll_failures = [(status, "Internal Server Error")]
    telegram_api.push(update("kept", 734119101, 150))
    result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert result == PollResult(leader=True, failed=True)
    assert [delay_after(result, failures=n, conflicts=0) for n in (1, 2, 3, 8, 1000)] == [
        1.0,
        2.0,
        4.0,
        60.0,
        60.0,
    ]
    assert (await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)).taken == 1


async def test_an_unreachable_api_never_logs_the_token(runtime: Runtime) -> None:
    from tests.casino_backoffice import closed_port_url

    api = TelegramApi(base_url=closed_port_url(), token=TOKEN)
    with capture_logs() as logs:
        result = await poll_once(runtime, api=api, holder="worker-a", timeout_seconds=0)
    assert result.failed is True
    assert TOKEN not in json.dumps(logs)
    assert delay_after(PollResult(leader=False), failures=0, conflicts=0) == 5.0


def test_the_worker_polls_only_when_asked_to(settings: Settings) -> None:
    assert run_telegram_polling in background_tasks(settings)
    assert run_telegram_polling not in background_tasks(
        settings.model_copy(update={"telegram_polling": False})
    )
