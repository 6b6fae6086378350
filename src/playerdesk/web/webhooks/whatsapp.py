"""`GET /webhooks/whatsapp` (Meta's verification of the callback URL) and `POST
/webhooks/whatsapp` (the notifications of the WhatsApp Cloud API; docs/CHANNELS.md).

Meta retries any call that is not answered 200, so 401/403 and 400 are for calls that will
never be taken; everything readable is answered 200, taken or ignored."""

from __future__ import annotations

from typing import Annotated

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from playerdesk.adapters import whatsapp
from playerdesk.web.deps import Admitted, RuntimeDep, client_ip
from playerdesk.web.errors import problem

log = structlog.get_logger(__name__)

router = APIRouter()


@router.get("/whatsapp", dependencies=[Admitted])
async def whatsapp_verification(
    request: Request,
    runtime: RuntimeDep,
    mode: Annotated[str | None, Query(alias="hub.mode", max_length=50)] = None,
    token: Annotated[str | None, Query(alias="hub.verify_token", max_length=500)] = None,
    challenge: Annotated[str | None, Query(alias="hub.challenge", max_length=500)] = None,
) -> Response:
    answer = whatsapp.verification_answer(
        runtime.settings, mode=mode, token=token, challenge=challenge
    )
    if answer is None:
        log.warning("whatsapp_verification_refused", ip=client_ip(request))
        return problem(403, detail="the verify token is missing or wrong")
    return PlainTextResponse(answer)


@router.post("/whatsapp", dependencies=[Admitted])
async def whatsapp_notification(request: Request, runtime: RuntimeDep) -> Response:
    raw = await request.body()
    refused = whatsapp.signature_check(
        runtime.settings, raw=raw, presented=request.headers.get(whatsapp.SIGNATURE_HEADER)
    )
    if refused is not None:
        log.warning("whatsapp_webhook_refused", ip=client_ip(request), status=refused)
        detail = "the signature is missing" if refused == 401 else "the signature is wrong"
        return problem(refused, detail=detail)
    try:
        taken = await whatsapp.take_notification(runtime, raw=raw)
    except whatsapp.MalformedNotification as error:
        log.warning(
            "whatsapp_notification_malformed",
            entry_ids=error.entry_ids,
            message_ids=error.message_ids,
            error=str(error),
        )
        return problem(400, detail=str(error))
    return JSONResponse({"ok": True, "taken": len(taken.outcomes)})
