"""Template messages on WhatsApp. Outside the 24-hour customer-service window (the player
last wrote more than a day ago) WhatsApp delivers only a template Meta approved; the agent
picks one (in the conversation's language when there is one), fills its body's parameters
and sends it. The conversation records the text the player will see; the outbox sends the
template itself (its name, language and parameters), which WhatsApp fills in the same way.

The approved templates are the business account's, listed by the Graph API: the adapter
behind `TemplateCatalog` fetches them and keeps them briefly. Only a template whose every
parameter is in its body can be sent from the desk (no header image, no button parameter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import structlog
from sqlalchemy import select

from playerdesk.db.models import ChannelIdentity, OutboxItem, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import AuthorKind, Channel, MessageKind
from playerdesk.domain.errors import NotFound, Unavailable, ValidationFailed
from playerdesk.domain.mail import OutboxStatus
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.redaction import redact_card_numbers
from playerdesk.services.messages import MessageLimits, PostedMessage, add_message
from playerdesk.services.outbound import Purpose, whatsapp_window_closes_at
from playerdesk.services.routing import RoutingPolicy

log = structlog.get_logger(__name__)

APPROVED = "APPROVED"
# A parameter's text: WhatsApp refuses new lines, tabs and more than four spaces in a row
# in it (error 132018), and a body is at most 1024 characters.
MAX_PARAMETER_CHARS = 1024
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
_FORBIDDEN_IN_PARAMETER = re.compile(r"[\n\r\t]| {5,}")
# How long the adapter waits before the template list is asked for again after a failure.
RETRY_AFTER_SECONDS = 30


@dataclass(frozen=True, kw_only=True)
class WhatsAppTemplate:
    """One language's version of a template of the business account, as the Graph API
    lists it. `language` is Meta's code ("pl", "en_US"); `examples` are the sample values
    given when it was submitted (shown to the agent as hints)."""

    name: str
    language: str
    status: str
    category: str
    header: str | None
    body: str
    footer: str | None
    buttons: tuple[str, ...] = ()
    # {{first_name}} instead of {{1}}: Meta's `parameter_format: NAMED`.
    named: bool = False
    examples: tuple[str, ...] = ()
    # Why the desk cannot send it (it needs a header image, a button parameter...), if so.
    unsupported: str | None = None

    @property
    def parameters(self) -> list[str]:
        """The body's placeholders in the order their values are given: {{1}}, {{2}}... by
        number, named ones in the order they first appear."""
        found = list(dict.fromkeys(_PLACEHOLDER.findall(self.body)))
        if self.named:
            return found
        return sorted(
            found, key=lambda name: (not name.isdigit(), int(name) if name.isdigit() else 0)
        )

    @property
    def approved(self) -> bool:
        return self.status.upper() == APPROVED

    @property
    def sendable(self) -> bool:
        return self.approved and self.unsupported is None

    def in_language(self, language: str) -> bool:
        """Meta's code names the conversation's language ("pt_BR" is Portuguese)."""
        return self.language.replace("-", "_").split("_")[0].lower() == language.lower()

    def render(self, values: Sequence[str]) -> str:
        """The text the player sees: header, the body with its parameters filled in, the
        footer and the buttons' labels."""
        by_name = dict(zip(self.parameters, values, strict=True))
        body = _PLACEHOLDER.sub(
            lambda match: by_name.get(match.group(1), match.group(0)), self.body
        )
        parts = [self.header, body, self.footer]
        if self.buttons:
            parts.append(" ".join(f"[{label}]" for label in self.buttons))
        return "\n\n".join(part.strip() for part in parts if part and part.strip())

    def components(self, values: Sequence[str]) -> list[dict[str, Any]]:
        """The send call's `components`: the body's parameters, by name when named."""
        if not values:
            return []
        parameters: list[dict[str, Any]] = []
        for name, value in zip(self.parameters, values, strict=True):
            parameter: dict[str, Any] = {"type": "text", "text": value}
            if self.named:
                parameter["parameter_name"] = name
            parameters.append(parameter)
        return [{"type": "body", "parameters": parameters}]


class CatalogUnavailable(Exception):
    """The Graph API did not list the templates (an outage, a wrong token or account id)."""


class TemplateCatalog(Protocol):
    async def templates(self) -> Sequence[WhatsAppTemplate]:
        """Every template of the business account, in every language and status. Raises
        CatalogUnavailable."""
        ...


@dataclass(frozen=True, kw_only=True)
class TemplateChoice:
    """What the agent may send on a conversation: the templates that can be sent from the
    desk, those in the conversation's language first."""

    ticket_id: int
    language: str
    # False: no business account is configured, so no template can be listed or sent.
    configured: bool
    window_closes_at: datetime | None
    templates: list[WhatsAppTemplate] = field(default_factory=list)


async def _catalog_templates(catalog: TemplateCatalog | None) -> Sequence[WhatsAppTemplate]:
    if catalog is None:
        return []
    try:
        return await catalog.templates()
    except CatalogUnavailable as error:
        log.warning("whatsapp_templates_unavailable", error=str(error))
        raise Unavailable(
            "WhatsApp's list of approved templates could not be fetched; try again shortly",
            retry_after_seconds=RETRY_AFTER_SECONDS,
        ) from None


def _whatsapp_ticket(ticket: Ticket | None) -> Ticket:
    if ticket is None:
        raise NotFound("no such ticket", field="ticket_id")
    if ticket.channel != Channel.WHATSAPP.value:
        raise ValidationFailed(
            "template messages are sent on WhatsApp conversations only", field="ticket_id"
        )
    return ticket


async def list_templates(
    uow: UnitOfWork, *, actor: Actor, ticket_id: int, catalog: TemplateCatalog | None
) -> TemplateChoice:
    """The approved templates an agent can send on a WhatsApp conversation (reads only)."""
    actor.require(Permission.TICKETS_READ)
    # Asked before the database: no transaction waits on the Graph API.
    found = await _catalog_templates(catalog)
    ticket = _whatsapp_ticket(await uow.session.get(Ticket, ticket_id))
    sendable = [item for item in found if item.sendable]
    sendable.sort(
        key=lambda item: (not item.in_language(ticket.language), item.name, item.language)
    )
    return TemplateChoice(
        ticket_id=ticket.id,
        language=ticket.language,
        configured=catalog is not None,
        window_closes_at=await whatsapp_window_closes_at(uow, ticket=ticket),
        templates=sendable,
    )


def _chosen(
    found: Sequence[WhatsAppTemplate], *, name: str, language: str, configured: bool
) -> WhatsAppTemplate:
    if not configured:
        raise ValidationFailed(
            "no WhatsApp business account is configured, so no template can be sent "
            "(PLAYERDESK_WHATSAPP_BUSINESS_ACCOUNT_ID)",
            field="name",
        )
    named = [item for item in found if item.name == name]
    template = next((item for item in named if item.language == language), None)
    if template is None:
        if named:
            languages = ", ".join(sorted(item.language for item in named))
            raise ValidationFailed(
                f"the template {name} has no version in {language} (it has: {languages})",
                field="language",
            )
        raise ValidationFailed(f"the business account has no template named {name}", field="name")
    if not template.approved:
        raise ValidationFailed(
            f"the template {name} ({language}) is {template.status.lower()}, not approved: "
            "WhatsApp delivers approved templates only",
            field="name",
        )
    if template.unsupported is not None:
        raise ValidationFailed(
            f"the template {name} cannot be sent from the desk: {template.unsupported}",
            field="name",
        )
    return template


def _checked_values(template: WhatsAppTemplate, parameters: Sequence[str]) -> list[str]:
    """The parameters as WhatsApp takes them, card numbers masked as in any message."""
    expected = template.parameters
    if len(parameters) != len(expected):
        raise ValidationFailed(
            f"the template {template.name} takes {len(expected)} parameter(s) "
            f"({', '.join('{{' + name + '}}' for name in expected) or 'none'}); "
            f"{len(parameters)} given",
            field="parameters",
        )
    values: list[str] = []
    for index, raw in enumerate(parameters):
        value = raw.strip()
        where = f"parameters.{index}"
        if not value:
            raise ValidationFailed(f"a value for {{{{{expected[index]}}}}} is needed", field=where)
        if len(value) > MAX_PARAMETER_CHARS:
            raise ValidationFailed(f"at most {MAX_PARAMETER_CHARS} characters", field=where)
        if _FORBIDDEN_IN_PARAMETER.search(value):
            raise ValidationFailed(
                "WhatsApp takes no line breaks, tabs or more than four spaces in a row in a "
                "template parameter",
                field=where,
            )
        values.append(redact_card_numbers(value)[0])
    return values


async def _whatsapp_chat(uow: UnitOfWork, *, ticket: Ticket) -> str:
    chat = await uow.session.scalar(
        select(ChannelIdentity.address)
        .where(
            ChannelIdentity.player_id == ticket.player_id,
            ChannelIdentity.channel == Channel.WHATSAPP.value,
        )
        .order_by(ChannelIdentity.id.desc())
        .limit(1)
    )
    if chat is None:
        raise ValidationFailed(
            "the player has no WhatsApp number on record to send to", field="ticket_id"
        )
    return chat


async def send_template(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    name: str,
    language: str,
    parameters: Sequence[str],
    client_msg_id: str | None,
    catalog: TemplateCatalog | None,
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
) -> PostedMessage:
    """An agent sends an approved template on a WhatsApp conversation (commits): it is the
    agent's public reply, whose text is what the player will see, and the outbox sends the
    template. Allowed inside the 24-hour window too; outside it, it is the only way. A
    replayed `client_msg_id` returns the message stored then and sends nothing again."""
    actor.require(Permission.TICKETS_WRITE)
    if actor.agent_id is None:
        raise ValidationFailed("only an agent can send a template", field="author")
    # Asked before the ticket is locked: no transaction waits on the Graph API.
    found = await _catalog_templates(catalog)
    ticket = _whatsapp_ticket(
        await uow.session.scalar(select(Ticket).where(Ticket.id == ticket_id).with_for_update())
    )
    template = _chosen(found, name=name, language=language, configured=catalog is not None)
    values = _checked_values(template, parameters)
    chat = await _whatsapp_chat(uow, ticket=ticket)
    posted = await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.AGENT,
        author=actor,
        kind=MessageKind.REPLY,
        body=template.render(values),
        client_msg_id=client_msg_id,
        attachment_ids=[],
        limits=limits,
        routing_policy=routing_policy,
    )
    if not posted.created:
        return posted
    sent: dict[str, Any] = {"name": template.name, "language": {"code": template.language}}
    components = template.components(values)
    if components:
        sent["components"] = components
    now = uow.clock.now()
    uow.session.add(
        OutboxItem(
            channel=Channel.WHATSAPP.value,
            purpose=Purpose.REPLY,
            ticket_id=ticket.id,
            message_id=posted.message.id,
            recipient=chat,
            idempotency_key=f"{Channel.WHATSAPP.value}:message:{posted.message.id}",
            payload={
                "chat_id": chat,
                "type": "template",
                "template": sent,
                # What the conversation shows; WhatsApp renders the template itself.
                "text": posted.message.body,
                "quick_replies": [],
                "attachments": [],
                "language": ticket.language,
                "ticket_number": ticket.number,
            },
            status=OutboxStatus.PENDING.value,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
    )
    await uow.commit()
    log.info(
        "whatsapp_template_sent",
        ticket_id=ticket.id,
        message_id=posted.message.id,
        template=template.name,
        language=template.language,
    )
    return posted
