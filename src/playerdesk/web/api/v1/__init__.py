"""REST API version 1."""

from fastapi import APIRouter

from playerdesk.web.api.v1 import (
    agents,
    attachments,
    audit,
    bot,
    callbacks,
    canned,
    channels,
    cti,
    floor,
    kb,
    player_context,
    player_links,
    players,
    routing_admin,
    tickets,
    tokens,
    whatsapp_templates,
)
from playerdesk.web.deps import Admitted
from playerdesk.web.schemas.common import PROBLEM_RESPONSES

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)
# The player context takes its database turn itself (until its commit, not while it waits
# for the back office).
router.include_router(player_context.router)
for module in (
    tickets,
    attachments,
    players,
    player_links,
    agents,
    tokens,
    audit,
    routing_admin,
    floor,
    channels,
    canned,
    kb,
    bot,
    cti,
    callbacks,
    whatsapp_templates,
):
    router.include_router(module.router, dependencies=[Admitted])
