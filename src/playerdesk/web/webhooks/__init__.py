"""Endpoints that messaging providers call (no agent session: each checks the provider's
own signature or secret before anything is read)."""

from __future__ import annotations

from fastapi import APIRouter

from playerdesk.web.webhooks import telegram, viber, whatsapp

router = APIRouter(prefix="/webhooks", include_in_schema=False)
router.include_router(telegram.router)
router.include_router(whatsapp.router)
router.include_router(viber.router)
