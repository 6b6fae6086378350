"""WhatsApp template messages: the approved templates of a conversation, and one sent."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from playerdesk.services.whatsapp_templates import TemplateChoice, WhatsAppTemplate
from playerdesk.web.schemas.common import RequestModel, ResponseModel


class WhatsAppTemplateOut(ResponseModel):
    name: str
    language: str = Field(description="Meta's language code, e.g. pl or en_US")
    category: str = Field(description="UTILITY, MARKETING...")
    header: str | None
    body: str = Field(description="with its placeholders: {{1}} or {{name}}")
    footer: str | None
    buttons: list[str] = Field(description="the labels of its buttons")
    parameters: list[str] = Field(
        description="the body's placeholders, in the order `parameters` are given when sending"
    )
    examples: list[str] = Field(description="sample values given to Meta with the template")
    in_conversation_language: bool

    @classmethod
    def of(cls, template: WhatsAppTemplate, *, language: str) -> WhatsAppTemplateOut:
        return cls(
            name=template.name,
            language=template.language,
            category=template.category,
            header=template.header,
            body=template.body,
            footer=template.footer,
            buttons=list(template.buttons),
            parameters=template.parameters,
            examples=list(template.examples),
            in_conversation_language=template.in_language(language),
        )


class WhatsAppTemplatesOut(ResponseModel):
    ticket_id: int
    language: str = Field(description="the conversation's language")
    configured: bool = Field(
        description="false: no WhatsApp business account is configured, nothing can be sent"
    )
    window_open: bool = Field(
        description="within 24 hours of the player's last message: a free-form reply is allowed"
    )
    window_closes_at: datetime | None
    templates: list[WhatsAppTemplateOut] = Field(
        description="approved templates the desk can send, the conversation's language first"
    )

    @classmethod
    def of(cls, choice: TemplateChoice, *, now: datetime) -> WhatsAppTemplatesOut:
        closes_at = choice.window_closes_at
        return cls(
            ticket_id=choice.ticket_id,
            language=choice.language,
            configured=choice.configured,
            window_open=closes_at is not None and closes_at > now,
            window_closes_at=closes_at,
            templates=[
                WhatsAppTemplateOut.of(item, language=choice.language) for item in choice.templates
            ],
        )


class TemplateMessageCreate(RequestModel):
    name: str = Field(min_length=1, max_length=512, description="the template's name")
    language: str = Field(min_length=2, max_length=20, description="Meta's language code")
    parameters: list[str] = Field(
        default_factory=list,
        max_length=100,
        description="a value for each of the template's body parameters, in order",
    )
    client_msg_id: str | None = Field(default=None, min_length=1, max_length=100)
