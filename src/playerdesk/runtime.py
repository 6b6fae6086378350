"""Wiring shared by every entry point: engine, bus, clock and stores, built from Settings."""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from playerdesk.bot.pipeline import Bot
from playerdesk.bot.rephrase import OpenAiCompatibleRephraser, RephraseConfig
from playerdesk.clock import Clock, SystemClock
from playerdesk.crm.base import CasinoBackend
from playerdesk.crm.http import CasinoApiConfig, HttpCasinoBackend
from playerdesk.db.admission import Admission
from playerdesk.db.engine import create_engine, create_session_factory
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.events import Event
from playerdesk.domain.routing import parse_channel_weights
from playerdesk.realtime.bus import EventBus, InMemoryBus, RedisBus
from playerdesk.realtime.hub import ACCESS, Hub
from playerdesk.services.attachments import AttachmentPolicy
from playerdesk.services.auth import LoginPolicy
from playerdesk.services.auth_cache import ActorCache
from playerdesk.services.bot import BotPolicy
from playerdesk.services.mailboxes import SecretBox
from playerdesk.services.messages import MessageLimits
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.players import PlayerPolicy
from playerdesk.services.routing import RoutingPolicy
from playerdesk.settings import Settings
from playerdesk.storage.attachments import AttachmentStore, LocalAttachmentStore


@dataclass(frozen=True, kw_only=True)
class Policies:
    """The settings each use case needs, grouped the way services take them."""

    players: PlayerPolicy
    messages: MessageLimits
    attachments: AttachmentPolicy
    login: LoginPolicy
    routing: RoutingPolicy
    mail: MailPolicy
    bot: BotPolicy

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        messages = MessageLimits(max_chars=settings.message_max_chars)
        routing = RoutingPolicy(
            channel_weights=parse_channel_weights(settings.routing_channel_weights),
            vip_tiers=list(settings.vip_tiers),
        )
        return cls(
            players=PlayerPolicy(
                languages=list(settings.languages),
                default_language=settings.default_language,
                vip_tiers=list(settings.vip_tiers),
            ),
            messages=messages,
            attachments=AttachmentPolicy(
                max_bytes=settings.attachment_max_bytes,
                allowed_types=list(settings.attachment_types),
            ),
            login=LoginPolicy(
                max_failures=settings.login_max_failures,
                lockout=timedelta(seconds=settings.login_lockout_seconds),
                ip_max_failures=settings.login_ip_max_failures,
                session_ttl=timedelta(seconds=settings.session_ttl_seconds),
            ),
            routing=routing,
            mail=MailPolicy(
                from_address=settings.email_from.lower(),
                from_name=settings.email_from_name,
                own_addresses=frozenset(
                    address.lower()
                    for address in [settings.email_from, *settings.email_own_addresses]
                ),
                acknowledgement_promise=settings.email_acknowledgement_promise,
                max_attempts=settings.outbox_max_attempts,
                first_retry=timedelta(seconds=settings.outbox_retry_seconds),
                lease=timedelta(seconds=settings.outbox_lease_seconds),
                max_bytes=settings.email_max_bytes,
                max_attachments=settings.email_max_attachments,
                public_url=settings.public_url,
            ),
            bot=BotPolicy(
                limits=messages,
                routing=routing,
                languages=list(settings.languages),
                note_language=settings.default_language,
            ),
        )


@dataclass(kw_only=True)
class Runtime:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    bus: EventBus
    clock: Clock
    attachments: AttachmentStore
    hub: Hub = field(default_factory=Hub)
    # The casino's back office, when one is configured.
    casino: CasinoBackend | None = None
    policies: Policies = field(init=False)
    actor_cache: ActorCache = field(init=False)
    read_session_factory: async_sessionmaker[AsyncSession] = field(init=False)
    admission: Admission = field(init=False)
    # Opens the credentials stored for mailboxes (and later, other channels).
    secret_box: SecretBox = field(init=False)
    # The support bot's models: loaded (or trained) once, on first need (`support_bot`).
    bot: Bot | None = None
    # The optional model that rewords the bot's answers (`bot_rephrase_url`).
    rephraser: OpenAiCompatibleRephraser | None = None
    _bot_loading: asyncio.Lock = field(init=False, default_factory=asyncio.Lock)

    def __post_init__(self) -> None:
        self.policies = Policies.from_settings(self.settings)
        self.admission = Admission(
            limit=self.settings.concurrency_limit,
            wait_seconds=self.settings.overload_wait_seconds,
        )
        self.read_session_factory = create_session_factory(self.engine, read_only=True)
        self.secret_box = SecretBox(self.settings.secret_key)
        self.actor_cache = ActorCache(
            ttl=timedelta(seconds=self.settings.auth_cache_seconds),
            max_entries=self.settings.auth_cache_size,
        )
        # Revocations from other processes arrive over the bus.
        self.hub.subscribe(self.actor_cache, ACCESS)

    async def publish(self, event: Event) -> None:
        """After a commit: this process's own caches learn of a revocation at once, before
        the bus carries it to the others."""
        self.actor_cache.offer(event)
        await self.bus.publish(event)

    async def support_bot(self) -> Bot:
        """The bot, loaded from the data directory (or trained there, in seconds) in a
        thread so that the process keeps serving meanwhile."""
        async with self._bot_loading:
            if self.bot is None:
                settings = self.settings
                self.bot = await asyncio.to_thread(
                    Bot.load,
                    data_dir=settings.data_dir,
                    languages=settings.languages,
                    default_language=settings.default_language,
                    encoder_path=settings.bot_encoder_path,
                )
            return self.bot

    def uow(self, *, clock: Clock | None = None) -> UnitOfWork:
        """A new unit of work; `clock` overrides the runtime's (demo data tells a story)."""
        return UnitOfWork(
            session_factory=self.session_factory,
            publish=self.publish,
            clock=clock or self.clock,
        )

    def read_uow(self) -> UnitOfWork:
        """A unit of work for use cases that only read: it cannot commit, and on SQLite it
        does not take the write lock, so reads never wait for writers."""
        return UnitOfWork(
            session_factory=self.read_session_factory,
            publish=self.publish,
            clock=self.clock,
            read_only=True,
        )

    async def close(self) -> None:
        if isinstance(self.casino, HttpCasinoBackend):
            await self.casino.close()
        if self.rephraser is not None:
            await self.rephraser.close()
        await self.bus.close()
        await self.engine.dispose()


def freeze_long_lived_objects() -> None:
    """Once a process has started (modules, routes, mappers, the bot's model loaded), move
    what it holds to the collector's permanent generation: every full collection would
    otherwise walk those objects again, and a full collection in the middle of a request
    is a latency spike (measured on routing decisions, docs/PERFORMANCE.md)."""
    gc.collect()
    gc.freeze()


def casino_backend(settings: Settings) -> CasinoBackend | None:
    if not settings.casino_api_url:
        return None
    return HttpCasinoBackend(
        CasinoApiConfig(
            base_url=settings.casino_api_url,
            bearer_token=settings.casino_api_token,
            hmac_secret=settings.casino_api_secret,
            timeout_seconds=settings.casino_api_timeout_seconds,
            cache_seconds=settings.casino_api_cache_seconds,
        )
    )


def answer_rephraser(settings: Settings) -> OpenAiCompatibleRephraser | None:
    if not settings.bot_rephrase_url:
        return None
    return OpenAiCompatibleRephraser(
        RephraseConfig(
            base_url=settings.bot_rephrase_url,
            model=settings.bot_rephrase_model,
            api_key=settings.bot_rephrase_api_key,
            timeout_seconds=settings.bot_rephrase_timeout_seconds,
        )
    )


def build_runtime(
    settings: Settings, *, clock: Clock | None = None, bus: EventBus | None = None
) -> Runtime:
    engine = create_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    if bus is None:
        bus = (
            RedisBus(settings.redis_url, channel=settings.redis_channel)
            if settings.redis_url
            else InMemoryBus()
        )
    return Runtime(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        bus=bus,
        clock=clock or SystemClock(),
        attachments=LocalAttachmentStore(settings.attachments_dir),
        casino=casino_backend(settings),
        rephraser=answer_rephraser(settings),
    )
