"""`POST /webhooks/viber`: the callbacks Viber delivers to the bot (docs/CHANNELS.md).

Viber retries a callback that is not answered 200, so 401, 403 and 400 are for calls that
will never be taken; everything readable is answered 200, taken or ignored."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from playerdesk.adapters import viber
from playerdesk.web.deps import Admitted, RuntimeDep, client_ip
from playerdesk.web.errors import problem

log = structlog.get_logger(__name__)

router = APIRouter()


@router.post("/viber", dependencies=[Admitted])
async def viber_callback(request: Request, runtime: RuntimeDep) -> Response:
    raw = await request.body()
    presented = request.headers.get(viber.SIGNATURE_HEADER)
    if not presented:
        log.warning("viber_webhook_refused", ip=client_ip(request), reason="no signature")
        return problem(401, detail="the X-Viber-Content-Signature header is missing")
    if not viber.signature_matches(runtime.settings, raw=raw, presented=presented):
        log.warning("viber_webhook_refused", ip=client_ip(request), reason="wrong signature")
        return problem(403, detail="the callback's signature is wrong")
    try:
        taken = await viber.take_callback(runtime, raw=raw)
    except viber.MalformedCallback as error:
        log.warning("viber_callback_malformed", message_token=error.message_token, error=str(error))
        return problem(400, detail=str(error))
    # A welcome message, when there is one (conversation_started), is the response's body.
    return JSONResponse(taken.response or {})
