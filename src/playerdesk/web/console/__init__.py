"""The agent console: server-rendered pages and the JSON its scripts read."""

from fastapi import APIRouter

from playerdesk.web.console import conversations, routes

router = APIRouter()
router.include_router(routes.router)
router.include_router(conversations.router)

__all__ = ["router"]
