"""Configuration from PLAYERDESK_* environment variables (see README.md for the list)."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEV_SECRET_KEY = "dev-insecure-secret-key-change-me"


class Environment(StrEnum):
    DEV = "dev"
    DEMO = "demo"
    PROD = "prod"


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PLAYERDESK_", extra="ignore", frozen=True)

    env: Environment = Environment.DEV
    database_url: str = "sqlite+aiosqlite:///./var/playerdesk.db"
    # Connections each process keeps open, and how many more it may open under load.
    db_pool_size: int = Field(default=5, ge=1, le=200)
    db_max_overflow: int = Field(default=10, ge=0, le=200)
    # Requests / socket frames of one process using the database at once (default: the
    # pool's size plus overflow); the excess waits this long, then gets 503 / `unavailable`.
    max_concurrency: int | None = Field(default=None, ge=1, le=1000)
    overload_wait_seconds: float = Field(default=1.0, gt=0, le=60)
    redis_url: str | None = None
    # Pub/sub channels ignore Redis db numbers: deployments sharing a Redis need their own.
    redis_channel: str = Field(default="playerdesk:events", min_length=1, max_length=200)
    secret_key: str = DEV_SECRET_KEY
    data_dir: Path = Path("./var")

    languages: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["en", "pl", "sv"])
    default_language: str = "en"
    vip_tiers: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["bronze", "silver", "gold", "platinum"]
    )

    max_request_bytes: int = Field(default=1_000_000, ge=1024)
    attachment_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    attachment_types: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: [
            "image/png",
            "image/jpeg",
            "image/gif",
            "image/webp",
            "application/pdf",
            "text/plain",
        ]
    )
    message_max_chars: int = Field(default=20_000, ge=100)

    session_ttl_seconds: int = Field(default=12 * 3600, ge=60)
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_seconds: int = Field(default=15 * 60, ge=1)
    login_ip_max_failures: int = Field(default=30, ge=1)
    # Each process remembers a checked session / API token this long (0 turns it off);
    # sign-outs and revocations end it at once in their process, within this elsewhere.
    auth_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    auth_cache_size: int = Field(default=10_000, ge=0)

    widget_identity_secret: str | None = None
    widget_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    widget_session_ttl_seconds: int = Field(default=3600, ge=60)

    # How much a conversation of each channel weighs against an agent's chat capacity, in
    # hundredths of a live chat, e.g. "email=25,telegram=50" (unlisted channels keep theirs).
    routing_channel_weights: Annotated[dict[str, int], NoDecode] = Field(default_factory=dict)
    # How often the SLA / queue / shift job runs (minute-level targets need <= 10 s).
    sla_check_seconds: float = Field(default=5.0, gt=0, le=10)

    # Email. Inbound: the built-in SMTP receiver ("host:port") and IMAP mailboxes (a JSON
    # list of imaps://user:password@host:port/folder URLs; more are added in the console).
    smtp_inbound: str | None = None
    imap_mailboxes: list[str] = Field(default_factory=list)
    imap_poll_seconds: float = Field(default=60.0, gt=0, le=3600)
    # A CA bundle to trust for IMAP servers with certificates of an internal CA.
    imap_ca_file: str | None = None
    email_max_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    email_max_attachments: int = Field(default=20, ge=0, le=200)
    # Outbound: smtp://host:port (STARTTLS when asked) or smtps://host:port (TLS at once).
    smtp_outbound: str | None = None
    smtp_outbound_starttls: bool = False
    smtp_outbound_username: str | None = None
    smtp_outbound_password: str | None = None
    smtp_outbound_timeout_seconds: float = Field(default=30.0, gt=0, le=300)
    # A CA bundle to trust for an SMTP server with a certificate of an internal CA.
    smtp_outbound_ca_file: str | None = None
    # Where staff reach the console from outside (links in mails to supervisors).
    public_url: str | None = None
    email_from: str = "support@playerdesk.localhost"
    email_from_name: str = "Player Support"
    # Other addresses that are ours (aliases, the IMAP mailboxes): mail from them is a loop.
    email_own_addresses: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # The acknowledgement's promise when no SLA policy gives a first-response target.
    email_acknowledgement_promise: str | None = None
    # The outbox: attempts before a message is dead-lettered, the first retry's delay
    # (doubling after each failure), how long a worker may hold one, how often it looks.
    outbox_max_attempts: int = Field(default=8, ge=1, le=50)
    outbox_retry_seconds: float = Field(default=30.0, gt=0)
    outbox_lease_seconds: float = Field(default=120.0, ge=5)
    outbox_check_seconds: float = Field(default=2.0, gt=0, le=60)
    # How often the bot job looks for players' messages to answer: the bot's answer comes
    # at most this much later than it could (issue 7: chat players expect it at once).
    bot_check_seconds: float = Field(default=0.25, gt=0, le=10)
    # Optional (docs/BOT.md): a self-hosted model behind an OpenAI-compatible API rewords
    # the bot's grounded answers, kept only when the facts stay the same. Unset: off.
    bot_rephrase_url: str | None = None
    bot_rephrase_model: str | None = None
    bot_rephrase_api_key: str | None = None
    bot_rephrase_timeout_seconds: float = Field(default=3.0, gt=0, le=30)
    # Optional (docs/BOT.md): the folder of a Model2Vec sentence encoder whose vectors join
    # the bot's features. Unset: TF-IDF features only.
    bot_encoder_path: Path | None = None
    # Help-centre forms: submissions allowed per IP and per email address in an hour.
    form_limit_per_ip: int = Field(default=10, ge=1)
    form_limit_per_email: int = Field(default=5, ge=1)

    # Telegram (docs/CHANNELS.md): the bot's token from @BotFather, the secret Telegram
    # repeats in X-Telegram-Bot-Api-Secret-Token on every webhook call (set with
    # setWebhook), and the Bot API's base URL (a proxy, or a local server in tests).
    telegram_bot_token: str | None = None
    telegram_webhook_secret: str | None = None
    telegram_api_base: str = "https://api.telegram.org"
    # Long polling (getUpdates) instead of the webhook, for an installation without a public
    # HTTPS URL: one worker at a time asks Telegram for updates, each call waiting this long.
    telegram_polling: bool = False
    telegram_polling_timeout_seconds: int = Field(default=25, ge=1, le=50)

    # WhatsApp Cloud API (docs/CHANNELS.md): the Meta app's secret (it signs every webhook
    # call in X-Hub-Signature-256), the token Meta's verification GET must repeat, the
    # system user's access token and the business phone number's id for sending, and the
    # Graph API's base URL with its version (a proxy, or a local server in tests). The
    # business account's id lists its approved template messages (outside the 24-hour window).
    whatsapp_app_secret: str | None = None
    whatsapp_verify_token: str | None = None
    whatsapp_access_token: str | None = None
    whatsapp_phone_number_id: str | None = None
    whatsapp_business_account_id: str | None = None
    whatsapp_api_base: str = "https://graph.facebook.com/v20.0"

    # Viber (docs/CHANNELS.md): the bot's authentication token from the Viber admin panel
    # (it also signs every callback, in X-Viber-Content-Signature), the REST API's base URL
    # (a proxy, or a local server in tests) and the sender name shown on our messages.
    viber_auth_token: str | None = None
    viber_api_base: str = "https://chatapi.viber.com"
    viber_sender_name: str = Field(default="Support", min_length=1, max_length=28)

    # Linking a messenger chat to a casino account by a deep link (docs/CHANNELS.md): the
    # secret the links are signed with (unset: the widget identity secret the casino already
    # holds), the Telegram bot's username and the Viber bot's chat URI the links open.
    messenger_link_secret: str | None = None
    telegram_bot_username: str | None = Field(default=None, pattern=r"^@?[A-Za-z0-9_]{5,32}$")
    viber_chat_uri: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,100}$")

    # Phone (CTI): the country a number without its +country code is read as (ISO 3166
    # alpha-2, e.g. "GB"); unset, such numbers are refused. Callback requests allowed per
    # IP address and per phone number in an hour.
    phone_default_region: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    callback_limit_per_ip: int = Field(default=5, ge=1)
    callback_limit_per_phone: int = Field(default=3, ge=1)

    # The casino back office (docs/casino-api.yaml, docs/CASINO-INTEGRATION.md): its base URL
    # (unset: no back office, the console shows what PlayerDesk itself knows), a bearer
    # token and/or the HMAC-SHA256 signing secret. `playerdesk demo-casino` accepts what is
    # set here.
    casino_api_url: str | None = None
    casino_api_token: str | None = None
    casino_api_secret: str | None = None
    # Each call's limit: a slow back office must not hold up a reply.
    casino_api_timeout_seconds: float = Field(default=2.0, gt=0, le=30)
    # How long a player's account data is reused before it is asked for again (0: never).
    casino_api_cache_seconds: float = Field(default=10.0, ge=0, le=300)

    metrics_token: str | None = None
    run_jobs_in_process: bool | None = None
    log_format: str = "auto"

    @field_validator(
        "languages",
        "vip_tiers",
        "attachment_types",
        "widget_origins",
        "email_own_addresses",
        mode="before",
    )
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("bot_encoder_path")
    @classmethod
    def _existing_folder(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_dir():
            raise ValueError(f"{value} is not a folder")
        return value

    @field_validator("routing_channel_weights", mode="before")
    @classmethod
    def _weights(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        weights: dict[str, int] = {}
        for item in (part.strip() for part in value.split(",") if part.strip()):
            name, _, units = item.partition("=")
            if not units.strip().isdigit():
                raise ValueError(f"expected channel=units, got {item!r}")
            weights[name.strip()] = int(units)
        return weights

    @field_validator("vip_tiers")
    @classmethod
    def _tiers_unique(cls, value: list[str]) -> list[str]:
        lowered = [tier.lower() for tier in value]
        if len(set(lowered)) != len(lowered):
            raise ValueError("VIP tiers must be unique")
        return lowered

    @model_validator(mode="after")
    def _safe_for_environment(self) -> Settings:
        if self.default_language not in self.languages:
            raise ValueError("default_language must be one of languages")
        if self.env is Environment.PROD and (
            not self.secret_key or self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "PLAYERDESK_SECRET_KEY must be set to a random value of 32+ characters in prod"
            )
        return self

    @cached_property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @cached_property
    def concurrency_limit(self) -> int:
        if self.max_concurrency is not None:
            return self.max_concurrency
        return self.db_pool_size + self.db_max_overflow

    @cached_property
    def jobs_in_process(self) -> bool:
        if self.run_jobs_in_process is not None:
            return self.run_jobs_in_process
        return self.is_sqlite

    @cached_property
    def attachments_dir(self) -> Path:
        return self.data_dir / "attachments"
