"""The unit of work: one transaction per use case, events published only after COMMIT."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from playerdesk.clock import Clock
from playerdesk.domain.events import Event

log = structlog.get_logger(__name__)

Publisher = Callable[[Event], Awaitable[None]]


class UnitOfWork:
    def __init__(
        self,
        *,
        session_factory: async_sessionmaker[AsyncSession],
        publish: Publisher,
        clock: Clock,
        read_only: bool = False,
    ) -> None:
        self._session_factory = session_factory
        self.read_only = read_only
        self._publish = publish
        self.clock = clock
        self._session: AsyncSession | None = None
        self._pending_events: list[Event] = []
        self._after_commit: list[Callable[[], Awaitable[None]]] = []

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            raise RuntimeError("the unit of work is not open")
        return self._session

    async def __aenter__(self) -> UnitOfWork:
        self._session = self._session_factory()
        self._pending_events = []
        self._after_commit = []
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            # close() rolls back whatever was not committed but, unlike rollback(), leaves
            # loaded objects readable for the caller that maps them to a response.
            await self.session.close()
        finally:
            self._session = None
            self._pending_events = []
            self._after_commit = []

    @property
    def dialect(self) -> str:
        """The engine's name ("sqlite", "postgresql") for the few statements that differ."""
        return self.session.get_bind().dialect.name

    def publish_on_commit(self, event: Event) -> None:
        self._pending_events.append(event)

    def on_commit(self, callback: Callable[[], Awaitable[None]]) -> None:
        self._after_commit.append(callback)

    async def commit(self) -> None:
        if self.read_only:
            # On SQLite a read-only transaction holds no write lock: writing in it could
            # fail to upgrade (SQLITE_BUSY). A use case that writes needs `runtime.uow()`.
            raise RuntimeError("a read-only unit of work cannot commit")
        await self.session.commit()
        events, self._pending_events = self._pending_events, []
        callbacks, self._after_commit = self._after_commit, []
        for event in events:
            try:
                await self._publish(event)
            except Exception:
                # The data is committed; a lost notification must not turn success into an error.
                log.exception("event_publish_failed", event_type=event.type)
        for callback in callbacks:
            await callback()

    async def rollback(self) -> None:
        await self.session.rollback()
        self._pending_events = []
        self._after_commit = []
