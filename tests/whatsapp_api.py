"""A local stand-in for the WhatsApp Cloud API (Graph API) over real HTTP (uvicorn on a
free loopback port in the test's event loop): it records every message sent and answers as
the Graph API does, or with the failure a test asks for; serves the media players sent
(`GET /{media-id}` for a short-lived URL, then the bytes with the access token) and the
business account's templates (`GET /{waba-id}/message_templates`, page by page). Also
builders of real-shaped webhook notifications and their signatures."""

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
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from playerdesk.settings import Settings
from tests.casino_backoffice import serving

APP_SECRET = "test-app-secret-0123456789abcdef"
VERIFY_TOKEN = "test-verify-token_0123456789"
ACCESS_TOKEN = "EAAGtestaccesstoken0123456789"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "48601234567"
BUSINESS_ACCOUNT_ID = "102290129340398"
FIXTURES = Path(__file__).parent / "adapters" / "fixtures" / "whatsapp"


@dataclass
class FakeMedia:
    data: bytes
    mime_type: str
    # What `GET /{media-id}` says the size is (Meta's example gives it as a string); None:
    # the real size.
    declared_size: int | None = None


@dataclass
class FakeGraphApi:
    base_url: str = ""
    # The bodies of the messages sent, in order.
    sent: list[dict[str, Any]] = field(default_factory=list)
    # Answers to give instead of success, first one first: (status, error code, message).
    failures: list[tuple[int, int, str]] = field(default_factory=list)
    # Files players sent, by media id; the ids whose bytes were downloaded, in order.
    media: dict[str, FakeMedia] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    # The business account's templates as the Graph API lists them; how many pages were
    # asked for; an error to answer the listing with instead (status, code, message).
    templates: list[dict[str, Any]] = field(default_factory=list)
    template_pages: int = 0
    template_failure: tuple[int, int, str] | None = None
    template_page_size: int | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def authorised(self, request: Request) -> bool:
        return request.headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"

    async def handle(self, request: Request) -> JSONResponse:
        if not self.authorised(request):
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

    async def media_url(self, request: Request) -> JSONResponse:
        """`GET /{media-id}`: the media's metadata and a URL valid for a few minutes."""
        if not self.authorised(request):
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        media_id = request.path_params["media_id"]
        found = self.media.get(media_id)
        if found is None or request.query_params.get("phone_number_id") not in (
            None,
            PHONE_NUMBER_ID,
        ):
            return self._error(
                400,
                100,
                f"Unsupported get request. Object with ID '{media_id}' does not exist, cannot "
                "be loaded due to missing permissions, or does not support this operation.",
            )
        size = found.declared_size if found.declared_size is not None else len(found.data)
        root = self.base_url.rsplit("/", 1)[0]
        return JSONResponse(
            {
                "messaging_product": "whatsapp",
                "url": f"{root}/whatsapp_business/attachments/?mid={media_id}&ext=1793610300",
                "mime_type": found.mime_type,
                "sha256": hashlib.sha256(found.data).hexdigest(),
                "file_size": str(size),
                "id": media_id,
            }
        )

    async def media_bytes(self, request: Request) -> Response:
        """The download: only with the access token, like lookaside.fbsbx.com."""
        if not self.authorised(request):
            return Response(status_code=401)
        media_id = request.query_params.get("mid", "")
        found = self.media.get(media_id)
        if found is None:
            return Response(status_code=404)
        self.downloads.append(media_id)
        return Response(found.data, media_type=found.mime_type)

    async def message_templates(self, request: Request) -> JSONResponse:
        """`GET /{waba-id}/message_templates`, a page at a time with `after` cursors."""
        if not self.authorised(request):
            return self._error(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.path_params["waba_id"] != BUSINESS_ACCOUNT_ID:
            return self._error(400, 100, "Unsupported get request.")
        self.template_pages += 1
        if self.template_failure is not None:
            return self._error(*self.template_failure)
        size = self.template_page_size or int(request.query_params.get("limit", "25"))
        start = int(request.query_params.get("after", "0") or 0)
        page = self.templates[start : start + size]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + size)}}
        if start + size < len(self.templates):
            paging["next"] = (
                f"https://graph.facebook.com/v20.0/{BUSINESS_ACCOUNT_ID}/message_templates"
                f"?limit={size}&after={start + size}"
            )
        return JSONResponse({"data": page, "paging": paging})

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
        routes=[
            Route("/v20.0/{phone_number_id}/messages", fake.handle, methods=["POST"]),
            Route("/v20.0/{waba_id}/message_templates", fake.message_templates, methods=["GET"]),
            Route("/v20.0/{media_id}", fake.media_url, methods=["GET"]),
            Route("/whatsapp_business/attachments/", fake.media_bytes, methods=["GET"]),
        ]
    )
    async with serving(app) as url:
        fake.base_url = f"{url}/v20.0"
        yield fake


def whatsapp_settings(
    *, database_url: str, tmp_path: Path, api_base: str, **overrides: Any
) -> Settings:
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
        whatsapp_business_account_id=BUSINESS_ACCOUNT_ID,
        whatsapp_api_base=api_base,
        **overrides,
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


def media_message(
    kind: str,
    *,
    media_id: str,
    message_id: str,
    caption: str | None = None,
    filename: str | None = None,
    wa_id: str = WA_ID,
) -> dict[str, Any]:
    """The recorded image (or document) message, with this media id, caption and name."""
    notification = copy.deepcopy(fixture(kind))
    message = _first_message(notification)
    message.update({"from": wa_id, "id": message_id})
    media = message[kind]
    media["id"] = media_id
    if caption is None:
        media.pop("caption", None)
    else:
        media["caption"] = caption
    if kind == "document" and filename is not None:
        media["filename"] = filename
    return notification


def template(
    name: str,
    *,
    language: str = "pl",
    status: str = "APPROVED",
    body: str = "Dzień dobry {{1}}, odpowiedzieliśmy na Twoje zgłoszenie nr {{2}}.",
    **extra: Any,
) -> dict[str, Any]:
    """One template as `GET /{waba-id}/message_templates` lists it: the recorded one, with
    another name, language, status or body."""
    [recorded] = [
        item
        for item in fixture("message_templates")["data"]
        if (item["name"], item["language"]) == ("ticket_update", "pl")
    ]
    item = copy.deepcopy(recorded)
    item.update({"name": name, "language": language, "status": status, **extra})
    for component in item["components"]:
        if component["type"] == "BODY":
            component["text"] = body
    return item
