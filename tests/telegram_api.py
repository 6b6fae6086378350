"""A local stand-in for the Telegram Bot API over real HTTP (uvicorn on a free loopback
port in the test's event loop): it records every call and answers as Telegram does, or
with the failure a test asks for. Also builders of real-shaped updates."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from playerdesk.settings import Settings
from tests.casino_backoffice import serving

TOKEN = "7011223344:AAH-test-token-for-the-fake-bot-api"
SECRET = "test-webhook-secret_0123456789"
FIXTURES = Path(__file__).parent / "adapters" / "fixtures" / "telegram"


@dataclass
class ApiCall:
    method: str
    body: dict[str, Any]


@dataclass
class FakeTelegram:
    base_url: str = ""
    calls: list[ApiCall] = field(default_factory=list)
    # Answers to give sendMessage instead of success, first one first: (status, description).
    failures: list[tuple[int, str]] = field(default_factory=list)
    # Files players sent, for getFile and the download: file_id -> (file_path, bytes).
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    downloads: list[str] = field(default_factory=list)
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def of(self, method: str) -> list[dict[str, Any]]:
        return [call.body for call in self.calls if call.method == method]

    async def wait_for(self, method: str, count: int = 1) -> list[dict[str, Any]]:
        for _ in range(500):
            if len(self.of(method)) >= count:
                break
            await asyncio.sleep(0.01)
        return self.of(method)

    async def handle(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != TOKEN:
            return JSONResponse(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status_code=404
            )
        method = request.path_params["method"]
        body = await self._body(request)
        self.calls.append(ApiCall(method=method, body=body))
        if method == "sendMessage" and self.failures:
            status, description = self.failures.pop(0)
            answer: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
            if status == 429:
                answer["parameters"] = {"retry_after": 3}
            return JSONResponse(answer, status_code=status)
        if method == "sendMessage":
            result: Any = {
                "message_id": next(self._message_ids),
                "from": {"id": 7011223344, "is_bot": True, "first_name": "Casino Support"},
                "chat": {"id": body["chat_id"], "type": "private"},
                "date": 1793609600,
                "text": body["text"],
            }
            if "reply_markup" in body:
                result["reply_markup"] = body["reply_markup"]
            return JSONResponse({"ok": True, "result": result})
        if method == "answerCallbackQuery":
            return JSONResponse({"ok": True, "result": True})
        if method == "getFile":
            if body.get("file_id") not in self.files:
                return JSONResponse(
                    {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"},
                    status_code=400,
                )
            file_path, data = self.files[body["file_id"]]
            return JSONResponse(
                {
                    "ok": True,
                    "result": {
                        "file_id": body["file_id"],
                        "file_unique_id": "AQAD" + body["file_id"][-4:],
                        "file_size": len(data),
                        "file_path": file_path,
                    },
                }
            )
        if method == "sendDocument":
            document = body["document"]
            result = {
                "message_id": next(self._message_ids),
                "chat": {"id": int(body["chat_id"]), "type": "private"},
                "date": 1793609600,
                "document": {
                    "file_id": "BQACAgQ" + str(len(self.calls)),
                    "file_name": document["filename"],
                    "mime_type": document["content_type"],
                    "file_size": len(document["data"]),
                },
            }
            return JSONResponse({"ok": True, "result": result})
        return JSONResponse(
            {"ok": False, "error_code": 404, "description": "Not Found: method not found"},
            status_code=404,
        )

    async def _body(self, request: Request) -> dict[str, Any]:
        """JSON, a multipart form (an uploaded file as its name, type and bytes) or, for a
        GET, the query string."""
        if request.method == "GET":
            return dict(request.query_params)
        if request.headers.get("content-type", "").startswith("multipart/form-data"):
            form = await request.form()
            body: dict[str, Any] = {}
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    body[key] = {
                        "filename": value.filename,
                        "content_type": value.content_type,
                        "data": await value.read(),
                    }
                else:
                    body[key] = value
            return body
        data: dict[str, Any] = await request.json()
        return data

    async def download(self, request: Request) -> Response:
        if request.path_params["token"] != TOKEN:
            return Response(status_code=404)
        file_path = request.path_params["file_path"]
        self.downloads.append(file_path)
        for path, data in self.files.values():
            if path == file_path:
                return Response(data, media_type="application/octet-stream")
        return Response(status_code=404)


@asynccontextmanager
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    app = Starlette(
        routes=[
            Route("/bot{token}/{method}", fake.handle, methods=["GET", "POST"]),
            Route("/file/bot{token}/{file_path:path}", fake.download, methods=["GET"]),
        ]
    )
    async with serving(app) as url:
        fake.base_url = url
        yield fake


def telegram_settings(*, database_url: str, tmp_path: Path, api_base: str) -> Settings:
    """The tests' settings (as in tests/conftest.py) with Telegram pointed at the fake."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base=api_base,
    )


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


_update_ids = itertools.count(900_000_001)


def text_update(
    text: str,
    *,
    chat_id: int = 5123908871,
    message_id: int = 52,
    first_name: str = "Agnieszka",
    last_name: str | None = "Nowak",
    language_code: str | None = "pl",
    update_id: int | None = None,
) -> dict[str, Any]:
    """The recorded text message, with this text from this chat."""
    update = copy.deepcopy(fixture("text_message"))
    update["update_id"] = update_id or next(_update_ids)
    message = update["message"]
    message["message_id"] = message_id
    message["text"] = text
    message["chat"]["id"] = chat_id
    sender = message["from"]
    sender.update(id=chat_id, first_name=first_name)
    for key, value in (("last_name", last_name), ("language_code", language_code)):
        if value is None:
            sender.pop(key, None)
        else:
            sender[key] = value
    return update


def button_update(
    data: str, *, chat_id: int = 5123908871, query_id: str = "4392017758315690107"
) -> dict[str, Any]:
    """The recorded press of an inline button, with this callback_data in this chat."""
    update = copy.deepcopy(fixture("callback_query"))
    update["update_id"] = next(_update_ids)
    query = update["callback_query"]
    query["id"] = query_id
    query["data"] = data
    query["from"]["id"] = chat_id
    query["message"]["chat"]["id"] = chat_id
    return update


def file_update(
    *,
    photo: bytes | None = None,
    document: tuple[str, str, int] | None = None,
    caption: str | None = None,
    chat_id: int = 5123908871,
    message_id: int = 60,
) -> dict[str, Any]:
    """The recorded photo message (its two sizes), or a document (file name, MIME type,
    size) in its place, with an optional caption."""
    update = copy.deepcopy(fixture("photo"))
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["message_id"] = message_id
    message["chat"]["id"] = chat_id
    message["from"]["id"] = chat_id
    if photo is not None:
        message["photo"][-1]["file_size"] = len(photo)
    if document is not None:
        del message["photo"]
        file_name, mime_type, file_size = document
        message["document"] = {
            "file_id": "BQACAgQAAxkBAAM3ZnQ2",
            "file_unique_id": "AgADs7sxG3",
            "file_name": file_name,
            "mime_type": mime_type,
            "file_size": file_size,
        }
    if caption is not None:
        message["caption"] = caption
    return update


# The file_ids of file_update's largest photo size and of its document.
PHOTO_FILE_ID = "AgACAgQAAxkBAAM2ZnQ1"
DOCUMENT_FILE_ID = "BQACAgQAAxkBAAM3ZnQ2"
