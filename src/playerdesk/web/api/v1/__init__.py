"""REST API version 1."""

from fastapi import APIRouter

from playerdesk.web.api.v1 import (
    agents,
    attachments,
    audit,
    canned,
    channels,
    floor,
    kb,
    player_context,
    players,
    routing_admin,
    tickets,
    tokens,
)
from playerdesk.web.deps import Admitted
from playerdesk.web.schemas.common import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES, dependencies=[Admitted])
for module in (
    tickets,
    attachments,
    players,
    player_context,
    agents,
    tokens,
    audit,
    routing_admin,
    floor,
    channels,
    canned,
    kb,
):
    router.include_router(module.router)
