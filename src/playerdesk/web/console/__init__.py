"""The agent console: server-rendered pages and the JSON its scripts read."""

from fastapi import APIRouter

from playerdesk.web.console import (
    admin,
    bot,
    callbacks,
    canned,
    channels,
    conversations,
    floor,
    knowledge,
    routes,
)

router = APIRouter()
router.include_router(routes.router)
router.include_router(conversations.router)
router.include_router(admin.router)
router.include_router(floor.router)
router.include_router(channels.router)
router.include_router(knowledge.router)
router.include_router(canned.router)
router.include_router(bot.router)
router.include_router(callbacks.router)

__all__ = ["router"]
