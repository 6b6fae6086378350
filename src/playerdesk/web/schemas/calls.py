"""Phone: CTI events from a PBX, and the callback queue."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from playerdesk.domain.phone import CallbackSource, CallbackStatus, CallDirection
from playerdesk.web.schemas.common import RequestModel, ResponseModel


class CtiEventIn(BaseModel):
    """One event of a call. Fields a PBX adds beyond these are ignored (PBXs send plenty);
    an `event` other than the three is acknowledged and ignored, so the PBX does not retry."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_max_length=2000)

    event: str = Field(min_length=1, max_length=40, examples=["newCall", "answer", "hangup"])
    call_id: str = Field(min_length=1, max_length=100)
    direction: CallDirection
    from_number: str = Field(alias="from", min_length=1, max_length=40)
    to_number: str = Field(alias="to", min_length=1, max_length=40)
    queue: str | None = Field(default=None, max_length=100)
    agent: str | None = Field(default=None, max_length=254, description="The agent's email")
    cause: str | None = Field(
        default=None, max_length=40, examples=["normal", "busy", "no_answer", "abandoned"]
    )
    recording_url: str | None = Field(default=None, max_length=1000, pattern=r"^https?://")
    duration_seconds: int | None = Field(default=None, ge=0, le=7 * 24 * 3600)
    occurred_at: AwareDatetime | None = None


class CtiEventOut(BaseModel):
    status: Literal["processed", "duplicate", "ignored"]
    call: int | None = None
    player_id: int | None = None
    ticket_id: int | None = None
    callback_id: int | None = None


class CallbackOut(ResponseModel):
    id: int
    player_id: int | None
    player_name: str | None = None
    vip_tier: str | None = None
    phone: str
    window_from: datetime | None
    window_until: datetime | None
    due_at: datetime
    language: str
    reason: str
    source: CallbackSource
    status: CallbackStatus
    attempts: int
    outcome_note: str | None
    agent_id: int | None
    agent_name: str | None = None
    ticket_id: int | None
    created_at: datetime


class CallbackOutcomeIn(RequestModel):
    outcome: Literal["done", "failed"]
    note: str = Field(default="", max_length=2000)


class CallbackAssignIn(RequestModel):
    agent_id: int | None = Field(default=None, ge=1, description="None: the best placed agent")
