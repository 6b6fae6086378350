"""Killing the worker in the middle of a delivery loses nothing: a real `playerdesk worker`
process is killed (SIGKILL) while the SMTP server holds its reply to DATA; a new worker
sends the message again, with the same Message-ID, once the dead one's lease has passed."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from playerdesk.db.models import OutboxItem
from playerdesk.domain.enums import Channel
from playerdesk.domain.mail import OutboxStatus
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.conftest import AgentFactory
from tests.services.test_outbox import open_ticket, reply
from tests.smtp_sink import SinkBehaviour, SmtpSink, free_port

LEASE_SECONDS = 5


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    server = SmtpSink(host="127.0.0.1", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def start_worker(settings: Settings, sink: SmtpSink) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "PLAYERDESK_DATABASE_URL": settings.database_url,
        "PLAYERDESK_DATA_DIR": str(settings.data_dir),
        "PLAYERDESK_SECRET_KEY": settings.secret_key,
        "PLAYERDESK_SMTP_OUTBOUND": sink.url,
        "PLAYERDESK_OUTBOX_CHECK_SECONDS": "0.2",
        "PLAYERDESK_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "PLAYERDESK_LOG_FORMAT": "json",
    }
    env.pop("PLAYERDESK_REDIS_URL", None)
    return subprocess.Popen(
        [sys.executable, "-m", "playerdesk", "worker"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def rows(runtime: Runtime) -> list[OutboxItem]:
    async with runtime.read_uow() as uow:
        return list((await uow.session.scalars(select(OutboxItem).order_by(OutboxItem.id))).all())


async def wait_until_sent(runtime: Runtime) -> list[OutboxItem]:
    while True:
        current = await rows(runtime)
        if current and all(row.status == OutboxStatus.SENT.value for row in current):
            return current
        await asyncio.sleep(0.2)


async def test_a_worker_killed_mid_delivery_loses_nothing(
    runtime: Runtime, settings: Settings, make_agent: AgentFactory, sink: SmtpSink
) -> None:
    agent = await make_agent()
    ticket = await open_ticket(runtime, agent.actor, channel=Channel.EMAIL)
    await reply(runtime, agent.actor, ticket, "First reply")
    await reply(runtime, agent.actor, ticket, "Second reply")
    sink.behaviour = SinkBehaviour(stall_seconds=60)

    worker = start_worker(settings, sink)
    try:
        await asyncio.to_thread(sink.wait_for, 1, timeout=30)
        # The server has the first mail but has not said so: the worker dies now.
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    held = await rows(runtime)
    # Both were claimed in one batch; the second was never tried.
    assert [row.status for row in held] == [OutboxStatus.SENDING.value] * 2

    sink.behaviour = SinkBehaviour()
    worker = start_worker(settings, sink)
    try:
        async with asyncio.timeout(LEASE_SECONDS + 30):
            sent = await wait_until_sent(runtime)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=10)

    assert [row.attempts for row in sent] == [2, 2]
    ids = [f"<{row.idempotency_key}>" for row in sent]
    delivered = [mail.message["Message-ID"] for mail in sink.received]
    # The interrupted one arrived twice under one Message-ID (receivers fold such copies);
    # nothing is missing and nothing else is repeated.
    assert sorted(delivered) == sorted([ids[0], ids[0], ids[1]])
