"""The bot over the API: on which chat and messenger channels it answers first, and the
report of what it did there (answered, handed over and why)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from playerdesk.services.bot_admin import BotChannelView, BotReport, HandoffView
from playerdesk.web.schemas.common import RequestModel, ResponseModel


class BotChannelIn(RequestModel):
    # Strict: "yes" or 1 is a client mistake, not a switch turned on.
    enabled: bool = Field(strict=True, description="the bot answers new conversations first")


class BotChannelOut(ResponseModel):
    channel: str = Field(description="web_chat, telegram, whatsapp or viber")
    enabled: bool
    updated_at: datetime | None = Field(description="when it was last switched; null: never")
    updated_by: str | None = Field(description="the name of who switched it last")

    @classmethod
    def of(cls, view: BotChannelView) -> BotChannelOut:
        return cls(
            channel=view.channel.value,
            enabled=view.enabled,
            updated_at=view.updated_at,
            updated_by=view.updated_by,
        )


class BotHandoffOut(ResponseModel):
    ticket_id: int
    ticket_number: int
    at: datetime = Field(description="when the bot handed the conversation over")
    language: str | None = Field(description="the language the bot detected")
    intent: str | None = Field(description="what the bot understood the player wants")
    confidence: float | None = Field(description="the bot's confidence in the intent, 0 to 1")
    rg_risk: bool = Field(description="the responsible-gambling risk detector fired")
    reasons: list[str] = Field(description="why it handed over (hand-off reasons)")

    @classmethod
    def of(cls, view: HandoffView) -> BotHandoffOut:
        return cls(
            ticket_id=view.ticket_id,
            ticket_number=view.ticket_number,
            at=view.at,
            language=view.language,
            intent=view.intent,
            confidence=view.confidence,
            rg_risk=view.rg_risk,
            reasons=list(view.reasons),
        )


class BotReportOut(ResponseModel):
    since: datetime
    turns: int = Field(description="player messages the bot finished with")
    answered: int
    handed_off: int
    skipped: int = Field(description="turns a person had taken over before the bot's turn")
    reasons: dict[str, int] = Field(description="hand-off reason: turns, most frequent first")
    intents: dict[str, int] = Field(description="intent: turns, most frequent first")
    recent_handoffs: list[BotHandoffOut] = Field(description="newest first, at most 50")

    @classmethod
    def of(cls, report: BotReport) -> BotReportOut:
        return cls(
            since=report.since,
            turns=report.turns,
            answered=report.answered,
            handed_off=report.handed_off,
            skipped=report.skipped,
            reasons=dict(report.reasons),
            intents=dict(report.intents),
            recent_handoffs=[BotHandoffOut.of(item) for item in report.recent_handoffs],
        )
