"""`POST /webhooks/telegram`: the updates Telegram delivers to the bot (docs/CHANNELS.md).

Telegram retries any call that is not answered 2xx, so 403 and 400 are for calls that will
never be taken; everything readable is answered 200, taken or ignored."""

from __future__ import annotations

import structlog
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import JSONResponse, Response

from playerdesk.adapters import telegram
from playerdesk.web.deps import Admitted, RuntimeDep, client_ip
from playerdesk.web.errors import problem

log = structlog.get_logger(__name__)

router = APIRouter()


@router.post("/telegram", dependencies=[Admitted])
async def telegram_update(
    request: Request, runtime: RuntimeDep, background: BackgroundTasks
) -> Response:
    if not telegram.secret_matches(runtime.settings, request.headers.get(telegram.SECRET_HEADER)):
        log.warning("telegram_webhook_refused", ip=client_ip(request))
        return problem(403, detail="the webhook secret is missing or wrong")
    try:
        taken = await telegram.take_update(runtime, raw=await request.body())
    except telegram.MalformedUpdate as error:
        log.warning("telegram_update_malformed", update_id=error.update_id, error=str(error))
        return problem(400, detail=str(error))
    api = telegram.TelegramApi.from_settings(runtime.settings)
    if taken.callback_query_id is not None and api is not None:
        # After the answer: Telegram waits for the webhook, the player for the spinner.
        background.add_task(telegram.answer_button, api, callback_query_id=taken.callback_query_id)
    return JSONResponse({"ok": True})
