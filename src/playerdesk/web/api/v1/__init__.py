"""REST API version 1."""

from fastapi import APIRouter

from playerdesk.web.api.v1 import agents, attachments, audit, players, tickets, tokens

router = APIRouter(prefix="/api/v1")
for module in (tickets, attachments, players, agents, tokens, audit):
    router.include_router(module.router)
