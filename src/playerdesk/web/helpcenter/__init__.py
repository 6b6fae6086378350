"""The public help centre: the knowledge base's pages and the contact and feedback forms
players send without signing in."""

from fastapi import APIRouter

from playerdesk.web.helpcenter import articles, callback, routes
from playerdesk.web.helpcenter.routes import FORM_PATHS, request_limit

router = APIRouter()
# The forms first: their fixed paths (/help/contact, ...) would otherwise be taken for a
# language by the articles' /help/{lang}.
router.include_router(routes.router)
router.include_router(callback.router)
router.include_router(articles.router)

__all__ = ["FORM_PATHS", "request_limit", "router"]
