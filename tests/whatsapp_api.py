"""A local stand-in for the WhatsApp Cloud API (Graph API) over real HTTP (uvicorn on a
free loopback port in the test's event loop): it records every message sent and answers as
the Graph API does, or with the failure a test asks for. Also builders of real-shaped
webhook notifications and their signatures."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from playerdesk.settings import Settings
from tests.casino_backoffice import serving

APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "test-verify-token_0123456789"
ACCESS_TOKEN = "EAAGtestaccesstoken0123456789"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "48601234567"
FIXTURES = Path(__file__).parent / "adapters" / "fixtures" / "whatsapp"


@dataclass
class FakeGraphApi:
    base_url: str = ""
    # The bodies of the messages sent, in order.
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Answers to give instead of success, first one first: (status, error code, message).
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def handle(self, request: Request) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {ACCESS_TOKEN}":
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.path_params["phone_number_id"] != PHONE_NUMBER_ID:
            return self._error(400, 100, "Unsupported post request.")
        body = await request.json()
        self.sent.append(body)
        if self.failures:
            return self._error(*self.failures.pop(0))
        wamid = f"wamid.FAKE{next(self._ids):06d}"
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                "messages": [{"id": wamid}],
            }
        )

    @staticmethod
    def _error(status: int, code: int, message: str) -> JSONResponse:
        return JSONResponse(
            {
                "error": {
                    "message": message,
                    "type": "OAuthException",
                    "code": code,
                    "fbtrace_id": "AbCdEfGhIjKlMnOp",
                }
            },
            status_code=status,
        )


@asynccontextmanager
async def fake_graph_api() -> AsyncIterator[FakeGraphApi]:
    fake = FakeGraphApi()
    app = Starlette(
        routes=[Route("/v20.0/{phone_number_id}/messages", fake.handle, methods=["POST"])]
    )
    async with serving(app) as url:
        fake.base_url = f"{url}/v20.0"
        yield fake


def whatsapp_settings(*, database_url: str, tmp_path: Path, api_base: str) -> Settings:
    """The tests' settings (as in tests/conftest.py) with WhatsApp pointed at the fake."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        whatsapp_app_secret=APP_SECRET,
        whatsapp_verify_token=VERIFY_TOKEN,
        whatsapp_access_token=ACCESS_TOKEN,
        whatsapp_phone_number_id=PHONE_NUMBER_ID,
        whatsapp_api_base=api_base,
    )


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def signature(raw: bytes, *, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def _first_message(notification: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = notification["entry"][0]["changes"][0]["value"]["messages"][0]
    return message


def text_message(
    text: str, *, message_id: str, wa_id: str = WA_ID, name: str = "Agnieszka Nowak"
) -> dict[str, Any]:
    """The recorded text message, with this text and id from this number."""
    notification = copy.deepcopy(fixture("text_message"))
    value = notification["entry"][0]["changes"][0]["value"]
    value["contacts"] = [{"profile": {"name": name}, "wa_id": wa_id}]
    message = _first_message(notification)
    message.update({"from": wa_id, "id": message_id})
    message["text"]["body"] = text
    return notification


def button_reply(button_id: str, *, message_id: str, wa_id: str = WA_ID) -> dict[str, Any]:
    """The recorded press of a reply button with this id."""
    notification = copy.deepcopy(fixture("button_reply"))
    message = _first_message(notification)
    message.update({"from": wa_id, "id": message_id})
    message["interactive"]["button_reply"]["id"] = button_id
    return notification


def status(wamid: str, state: str) -> dict[str, Any]:
    """The recorded status (`failed` with its error, else `delivered`'s shape) of a message."""
    notification = copy.deepcopy(
        fixture("status_failed" if state == "failed" else "status_delivered")
    )
    item = notification["entry"][0]["changes"][0]["value"]["statuses"][0]
    item.update({"id": wamid, "status": state})
    return notification
