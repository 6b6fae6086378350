"""The live floor for supervisors: queues, waits, who is online, at-risk tickets."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from playerdesk.services import floor as floor_service
from playerdesk.web.deps import CurrentActor, UowDep
from playerdesk.web.schemas.common import ResponseModel

router = APIRouter(tags=["floor"])


class QueueOut(ResponseModel):
    team_id: int | None
    team_name: str | None
    waiting: int
    longest_wait_seconds: int
    agents_available: int


class FloorAgentOut(ResponseModel):
    agent_id: int
    name: str
    presence: str
    reachable: bool
    on_shift: bool
    languages: list[str]
    load_units: int
    capacity_units: int


class AtRiskOut(ResponseModel):
    ticket_id: int
    number: int
    subject: str
    metric: str
    state: str
    due_at: datetime | None
    team_id: int | None
    assignee_id: int | None
    priority: str


class FloorOut(ResponseModel):
    at: datetime
    queues: list[QueueOut]
    agents: list[FloorAgentOut]
    online_by_language: dict[str, int]
    at_risk: list[AtRiskOut]


@router.get("/floor")
async def get_floor(uow: UowDep, actor: CurrentActor) -> FloorOut:
    snapshot = await floor_service.floor_snapshot(uow, actor=actor)
    return FloorOut.model_validate(snapshot, from_attributes=True)
