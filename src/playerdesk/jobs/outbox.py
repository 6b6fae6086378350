"""The outbox delivery job: claim due rows, send each through its channel's sender, record
the outcome. A sender raises DeliveryFailed; anything else it raises counts as temporary."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from playerdesk.adapters.email_out import DeliveryFailed, SmtpTransport, build_email, send_email
from playerdesk.adapters.telegram import TelegramApi, telegram_sender
from playerdesk.adapters.viber import ViberApi, viber_sender
from playerdesk.adapters.whatsapp import WhatsAppApi, whatsapp_sender
from playerdesk.domain.enums import Channel
from playerdesk.domain.mail import OutboxStatus
from playerdesk.runtime import Runtime
from playerdesk.services import outbound
from playerdesk.services.outbound import Delivery
from playerdesk.settings import Settings

log = structlog.get_logger(__name__)

Sender = Callable[[Delivery], Awaitable[str | None]]


def smtp_transport(settings: Settings) -> SmtpTransport | None:
    if not settings.smtp_outbound:
        return None
    return SmtpTransport.from_url(
        settings.smtp_outbound,
        starttls=settings.smtp_outbound_starttls,
        username=settings.smtp_outbound_username,
        password=settings.smtp_outbound_password,
        timeout_seconds=settings.smtp_outbound_timeout_seconds,
        ca_file=settings.smtp_outbound_ca_file,
    )


def email_sender(runtime: Runtime, transport: SmtpTransport) -> Sender:
    async def send(delivery: Delivery) -> str | None:
        files: list[tuple[str, str, bytes]] = []
        for item in delivery.payload.get("attachments", []):
            try:
                data = await runtime.attachments.get(item["sha256"])
            except (FileNotFoundError, ValueError) as error:
                raise DeliveryFailed(
                    f"attachment {item['filename']} is missing from the store", permanent=True
                ) from error
            files.append((item["filename"], item["content_type"], data))
        reply = await send_email(
            build_email(delivery.payload, attachments=files), transport=transport
        )
        return reply[:500] or None

    return send


def senders_for(runtime: Runtime) -> dict[str, Sender]:
    """The channels this installation can send on (unconfigured ones keep their rows)."""
    senders: dict[str, Sender] = {}
    transport = smtp_transport(runtime.settings)
    if transport is not None:
        senders[Channel.EMAIL.value] = email_sender(runtime, transport)
    telegram = TelegramApi.from_settings(runtime.settings)
    if telegram is not None:
        senders[Channel.TELEGRAM.value] = telegram_sender(telegram, store=runtime.attachments)
    whatsapp = WhatsAppApi.from_settings(runtime.settings)
    if whatsapp is not None:
        senders[Channel.WHATSAPP.value] = whatsapp_sender(whatsapp)
    viber = ViberApi.from_settings(runtime.settings)
    if viber is not None:
        senders[Channel.VIBER.value] = viber_sender(viber)
    return senders


async def deliver_outbox(
    runtime: Runtime, *, senders: dict[str, Sender] | None = None, limit: int = 20
) -> dict[str, int]:
    """One pass: returns how many were sent, retried later and dead-lettered."""
    senders = senders_for(runtime) if senders is None else senders
    outcome = {"sent": 0, "retry": 0, "dead": 0}
    if not senders:
        return outcome
    policy = runtime.policies.mail
    async with runtime.uow() as uow:
        deliveries = await outbound.claim_due(
            uow, policy=policy, limit=limit, channels=frozenset(senders)
        )
    for delivery in deliveries:
        if delivery.resumed:
            # Its worker died mid-attempt: the receiver may have it already, and the same
            # idempotency key (Message-ID) lets it recognise this copy.
            log.warning("outbox_resumed", outbox_id=delivery.id, attempts=delivery.attempts)
        try:
            provider_id = await senders[delivery.channel](delivery)
        except DeliveryFailed as error:
            failure = error
        except Exception as error:
            log.exception("outbox_sender_crashed", outbox_id=delivery.id)
            failure = DeliveryFailed(f"{type(error).__name__}: {error}", permanent=False)
        else:
            async with runtime.uow() as uow:
                await outbound.record_sent(
                    uow, item_id=delivery.id, provider_message_id=provider_id
                )
            outcome["sent"] += 1
            continue
        async with runtime.uow() as uow:
            status = await outbound.record_failure(
                uow,
                item_id=delivery.id,
                error=str(failure),
                permanent=failure.permanent,
                bad_address=failure.bad_address,
                policy=policy,
            )
        key = "dead" if status is OutboxStatus.DEAD else "retry"
        outcome[key] += 1
        log.info("outbox_failed", outbox_id=delivery.id, permanent=failure.permanent, status=key)
    if any(outcome.values()):
        log.info("outbox_delivered", **outcome)
    return outcome
