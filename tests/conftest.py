"""Shared fixtures: real databases, a frozen clock, a recording bus, agents with tokens.

By default each test gets a fresh SQLite file copied from a template migrated once per run.
With PLAYERDESK_TEST_DATABASE_URL set (make test-pg), the same tests run on PostgreSQL,
migrated once per run and truncated before each test. `make test` runs the suite in
several processes (pytest-xdist); each has its own PostgreSQL database.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from starlette.datastructures import State

from playerdesk.bot.language import LanguageIdentifier
from playerdesk.bot.nlu import NluModel, load_or_train, train_shipped
from playerdesk.bot.pipeline import Bot
from playerdesk.clock import FrozenClock
from playerdesk.crm.http import HttpCasinoBackend
from playerdesk.db.base import Base
from playerdesk.db.engine import create_engine
from playerdesk.db.migrate import upgrade_engine
from playerdesk.domain.enums import AgentRole, AuthMethod
from playerdesk.domain.events import Event
from playerdesk.domain.permissions import Actor
from playerdesk.logging import configure_logging
from playerdesk.realtime.bus import EventBus, InMemoryBus, RedisBus
from playerdesk.runtime import Runtime, build_runtime
from playerdesk.services import agents as agent_service
from playerdesk.services import auth
from playerdesk.settings import Settings
from playerdesk.web.app import create_app
from tests.casino_backoffice import DemoCasino, demo_casino, http_backend

# Plain JSON logs: the dev renderer's rich tracebacks make every expected 500 slow.
configure_logging(log_format="json")


@pytest.fixture(autouse=True)
def _logging_stays_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    """A test running a CLI command through `cli.main` must not point the logs at that
    test's captured stdout: pytest closes it afterwards, and every later log line fails."""
    import playerdesk.cli

    monkeypatch.setattr(playerdesk.cli, "configure_logging", lambda **_: None)


def _database_of_this_worker(url: str | None) -> str | None:
    """Under pytest-xdist each worker has its own PostgreSQL database (`test_gw0`, ...),
    created on first use: the tests truncate every table between them."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


SHARED_PG_URL = os.environ.get("PLAYERDESK_TEST_DATABASE_URL")
PG_URL = _database_of_this_worker(SHARED_PG_URL)
REDIS_URL = os.environ.get("PLAYERDESK_TEST_REDIS_URL")
START = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def pytest_report_header() -> str:
    database = f"PostgreSQL {PG_URL}" if PG_URL else "SQLite (file per test)"
    return f"database: {database}; bus: {'Redis ' + REDIS_URL if REDIS_URL else 'in-memory'}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    if PG_URL:
        return None
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def migrate() -> None:
        engine = create_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade_engine(engine)
        finally:
            # Closing the last connection checkpoints the WAL into the file we copy.
            await engine.dispose()

    asyncio.run(migrate())
    assert not Path(f"{path}-wal").exists()
    return path


# Rows the migrations ship (default SLA policies, escalation rules): every test starts with
# them, as a new installation does, so the PostgreSQL run puts them back after truncating.
SEEDED_TABLES = ("sla_policies", "escalation_rules")
SeedRows = dict[str, list[dict[str, Any]]]


async def _create_database_if_missing(*, server_url: str, url: str) -> None:
    name = make_url(url).database
    engine = create_engine(server_url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            exists = await connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not exists:
                await connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_migrated() -> SeedRows | None:
    if not PG_URL:
        return None

    async def reset_and_migrate() -> SeedRows:
        assert SHARED_PG_URL is not None and PG_URL is not None
        if PG_URL != SHARED_PG_URL:
            await _create_database_if_missing(server_url=SHARED_PG_URL, url=PG_URL)
        engine = create_engine(PG_URL)
        try:
            async with engine.begin() as connection:
                await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
                await connection.execute(text("CREATE SCHEMA public"))
            await upgrade_engine(engine)
            async with engine.connect() as connection:
                return {name: await rows_of(connection, name) for name in SEEDED_TABLES}
        finally:
            await engine.dispose()

    return asyncio.run(reset_and_migrate())


async def rows_of(connection: AsyncConnection, name: str) -> list[dict[str, Any]]:
    table = Base.metadata.tables[name]
    rows = await connection.execute(select(table).order_by(*table.primary_key.columns))
    return [dict(row._mapping) for row in rows]


# Does a table hold a row? One round trip for all of them.
_WRITTEN_TABLES = text(
    " UNION ALL ".join(
        f"SELECT '{table.name}' AS name WHERE EXISTS (SELECT 1 FROM \"{table.name}\")"
        for table in Base.metadata.sorted_tables
    )
)
# Every sequence a test has drawn from, back to its start, but the seeded tables' own.
_RESTART_USED_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, 1, false) "
    "FROM pg_sequences WHERE schemaname = 'public' AND last_value IS NOT NULL "
    "AND format('%I.%I', schemaname, sequencename)::regclass NOT IN ("
    + ", ".join(f"pg_get_serial_sequence('{name}', 'id')::regclass" for name in SEEDED_TABLES)
    + ")"
)


async def reset_to_migrated(connection: AsyncConnection, seeds: SeedRows) -> None:
    """Put the database back as the migrations left it, emptying only the tables the last
    test wrote: truncating all of them took about 100 ms a test."""
    written = {row.name for row in await connection.execute(_WRITTEN_TABLES)}
    for name, rows in seeds.items():
        if name in written and await rows_of(connection, name) == rows:
            written.discard(name)
    # DELETE, not TRUNCATE: each table TRUNCATE touches costs a few milliseconds, empty or
    # not. Referring tables go first.
    for table in reversed(Base.metadata.sorted_tables):
        if table.name in written:
            await connection.execute(table.delete())
    await connection.execute(_RESTART_USED_SEQUENCES)
    # A seeded table is now as migrated, or empty.
    for name, rows in seeds.items():
        if not rows:
            continue
        if not await connection.scalar(text(f'SELECT EXISTS (SELECT 1 FROM "{name}")')):
            await connection.execute(insert(Base.metadata.tables[name]), rows)
        await connection.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f'(SELECT max(id) FROM "{name}"))'
            )
        )


@pytest.fixture
def database_url(
    tmp_path: Path, sqlite_template: Path | None, pg_migrated: SeedRows | None
) -> Iterator[str]:
    if PG_URL:
        assert pg_migrated is not None
        seeds = pg_migrated

        async def reset() -> None:
            engine = create_engine(PG_URL)
            try:
                async with engine.begin() as connection:
                    await reset_to_migrated(connection, seeds)
            finally:
                await engine.dispose()

        asyncio.run(reset())
        yield PG_URL
        return
    assert sqlite_template is not None
    target = tmp_path / "playerdesk.db"
    shutil.copyfile(sqlite_template, target)
    yield f"sqlite+aiosqlite:///{target}"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
    )


BOT_LANGUAGES = ("en", "pl", "sv", "de", "es")


@pytest.fixture(scope="session")
def nlu_model(request: pytest.FixtureRequest) -> NluModel:
    """The bot's model on the shipped data. Training takes a minute and half a gigabyte, so
    the first worker of a run trains and saves it in pytest's cache while the others wait,
    and they (and the PostgreSQL run after it) load it. The saved header names the data and
    feature code it was trained from: after any change to them it is trained again."""
    cache = request.config.cache
    if cache is None:  # run with -p no:cacheprovider
        return train_shipped(seed=7)
    directory = cache.mkdir("playerdesk-bot")
    with (directory / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        model, _ = load_or_train(directory, seed=7)
    return model


@pytest.fixture(scope="session")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(BOT_LANGUAGES)


@pytest.fixture(scope="session")
def bot(nlu_model: NluModel, identifier: LanguageIdentifier) -> Bot:
    return Bot(nlu_model, languages=BOT_LANGUAGES, identifier=identifier)


@pytest.fixture
async def casino() -> AsyncIterator[DemoCasino]:
    """The demo back office over real HTTP, its seed dated at the tests' start."""
    async with demo_casino(now=START) as office:
        yield office


@pytest.fixture
async def backend(casino: DemoCasino) -> AsyncIterator[HttpCasinoBackend]:
    """The HTTP connector to `casino`."""
    async with http_backend(casino.base_url) as client:
        yield client


@pytest.fixture
async def connected(
    runtime: Runtime, casino: DemoCasino, backend: HttpCasinoBackend
) -> AsyncIterator[DemoCasino]:
    """The app's runtime talks to the demo back office, as `make demo` sets it up."""
    runtime.casino = backend
    try:
        yield casino
    finally:
        runtime.casino = None


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


class RecordingBus:
    """A real bus (in-memory, or Redis in the PostgreSQL + Redis run) that also remembers
    what was published, for assertions."""

    def __init__(self, inner: EventBus) -> None:
        self.inner = inner
        self.published: list[Event] = []

    async def publish(self, event: Event) -> None:
        self.published.append(event)
        await self.inner.publish(event)

    async def subscribe(self) -> AsyncIterator[Event]:
        return await self.inner.subscribe()

    async def ping(self) -> bool:
        return await self.inner.ping()

    async def close(self) -> None:
        await self.inner.close()

    def types(self) -> list[str]:
        return [event.type for event in self.published]


@pytest.fixture
def bus() -> RecordingBus:
    # A channel of this run's own: the Redis may be shared with a running PlayerDesk.
    channel = f"playerdesk:test:{os.getpid()}"
    return RecordingBus(RedisBus(REDIS_URL, channel=channel) if REDIS_URL else InMemoryBus())


@pytest.fixture
async def runtime(
    settings: Settings, clock: FrozenClock, bus: RecordingBus
) -> AsyncIterator[Runtime]:
    active = build_runtime(settings, clock=clock, bus=bus)
    try:
        yield active
    finally:
        await active.close()


@dataclass
class QueryCounter:
    statements: list[str]

    @property
    def count(self) -> int:
        return len(self.statements)

    def reset(self) -> None:
        self.statements.clear()


@pytest.fixture
def count_queries(runtime: Runtime) -> Iterator[QueryCounter]:
    """Counts SQL statements sent on the runtime's engine (transaction control excluded)."""
    counter = QueryCounter(statements=[])
    engine: AsyncEngine = runtime.engine
    ignored = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "PRAGMA")

    def before_cursor_execute(*args: Any) -> None:
        statement = str(args[2]).strip()
        if not statement.upper().startswith(ignored):
            counter.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield counter
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before_cursor_execute)


@dataclass
class AgentLogin:
    id: int
    email: str
    role: AgentRole
    token: str
    actor: Actor

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class AgentFactory:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.created = 0

    async def __call__(
        self,
        role: AgentRole = AgentRole.AGENT,
        *,
        email: str | None = None,
        password: str | None = None,
        languages: list[str] | None = None,
        team_ids: list[int] | None = None,
        max_chats: int = 3,
    ) -> AgentLogin:
        self.created += 1
        email = email or f"{role.value}{self.created}@example.test"
        async with self.runtime.uow() as uow:
            agent = await agent_service.create_agent(
                uow,
                actor=Actor.system(),
                email=email,
                name=f"{role.value.title()} {self.created}",
                role=role,
                password=password,
                languages=languages or ["en"],
                supported_languages=self.runtime.policies.players.languages,
                team_ids=team_ids or [],
                max_concurrent_chats=max_chats,
            )
        async with self.runtime.uow() as uow:
            issued = await auth.create_api_token(
                uow, actor=Actor.system(), agent_id=agent.id, label="tests"
            )
        actor = Actor(
            agent_id=agent.id, role=role, method=AuthMethod.TOKEN, token_id=issued.record.id
        )
        return AgentLogin(id=agent.id, email=email, role=role, token=issued.token, actor=actor)


@pytest.fixture
def make_agent(runtime: Runtime) -> AgentFactory:
    return AgentFactory(runtime)


_APPS_BY_SETTINGS: dict[str, FastAPI] = {}


def app_around(settings: Settings, runtime: Runtime) -> FastAPI:
    """The app for an in-process client around this test's runtime, one per worker and
    settings (paths aside).

    FastAPI works out each route's dependencies and response models per app, on the app's
    first request to the route's router: it was a third of the web tests' time when every
    test built its own app. What an app keeps between requests is its `state` (its
    middleware is stateless, and ASGITransport runs no lifespan), so tests whose settings
    differ only in their database and data folder share one app, each with a new state
    holding its own runtime."""
    key = settings.model_dump_json(exclude={"database_url", "data_dir"})
    app = _APPS_BY_SETTINGS.get(key)
    if app is None:
        app = _APPS_BY_SETTINGS[key] = create_app(settings, runtime=runtime)
    app.state = State({"runtime": runtime})
    return app


def client_for(settings: Settings, runtime: Runtime, *, ip: str = "127.0.0.1") -> httpx.AsyncClient:
    """An in-process HTTP client of the app around `runtime`, calling from `ip`."""
    transport = httpx.ASGITransport(app=app_around(settings, runtime), client=(ip, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, runtime) as http:
        yield http


@dataclass
class LiveServer:
    base_url: str
    ws_url: str


@pytest.fixture
async def live_server(settings: Settings, runtime: Runtime) -> AsyncIterator[LiveServer]:
    """The app served by a real uvicorn on a free loopback port, in this test's event loop
    (so the test's runtime, frozen clock and bus are the server's)."""
    import uvicorn

    app = create_app(settings, runtime=runtime)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield LiveServer(base_url=f"http://127.0.0.1:{port}", ws_url=f"ws://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
