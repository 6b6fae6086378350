from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import WebSession
from playerdesk.jobs.runner import PeriodicJob, jobs_for, run_job_once, run_jobs_forever
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from tests.conftest import AgentFactory


async def sessions(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(WebSession)) or 0)


async def test_housekeeping_job_purges_expired_sessions(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent(password="correct horse battery")
    async with runtime.uow() as uow:
        await auth.login(
            uow,
            email=agent.email,
            password="correct horse battery",
            ip="127.0.0.1",
            user_agent=None,
            policy=runtime.policies.login,
        )
    [job] = [job for job in jobs_for(runtime.settings) if job.name == "purge_expired_auth"]
    assert await run_job_once(runtime, job)
    assert await sessions(runtime) == 1
    clock.advance(timedelta(seconds=runtime.settings.session_ttl_seconds + 1))
    assert await run_job_once(runtime, job)
    assert await sessions(runtime) == 0


async def test_a_failing_job_does_not_stop_the_others(runtime: Runtime) -> None:
    runs: list[str] = []

    async def broken(_runtime: Runtime) -> object:
        runs.append("broken")
        raise RuntimeError("boom")

    async def healthy(_runtime: Runtime) -> object:
        runs.append("healthy")
        return None

    jobs = [
        PeriodicJob(name="broken", every=timedelta(milliseconds=20), run=broken),
        PeriodicJob(name="healthy", every=timedelta(milliseconds=20), run=healthy),
    ]
    task = asyncio.create_task(run_jobs_forever(runtime, jobs=jobs))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runs.count("healthy") >= 2 and runs.count("broken") >= 2
