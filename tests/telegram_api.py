"""A local stand-in for the Telegram Bot API over real HTTP (uvicorn on a free loopback
port in the test's event loop): it records every call and answers as Telegram does, or
with the failure a test asks for, and keeps the bot's queue of updates for `getUpdates`
(long polling: offset, timeout, limit; 409 while a webhook is set, and to a poll that a
newer one cut short). Also builders of real-shaped updates."""

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
    # The bot's updates not yet confirmed, for getUpdates (push() adds to them).
    queued: list[dict[str, Any]] = field(default_factory=list)
    # Set with setWebhook: Telegram then refuses getUpdates with 409.
    webhook_url: str | None = None
    # Answers to give getUpdates instead of updates, first one first: (status, description).
    poll_failures: list[tuple[int, str]] = field(default_factory=list)
    # getUpdates calls being answered at this moment, the most there ever were at once, and
    # how many were cut short by a newer one (Telegram's "terminated by other getUpdates").
    polling_now: int = 0
    most_polling: int = 0
    terminated: int = 0
    _poll_generation: int = 0
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    def push(self, *updates: dict[str, Any]) -> None:
        """Updates that happen now: the next getUpdates (or the one waiting) returns them."""
        self.queued.extend(copy.deepcopy(list(updates)))

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
        if method == "getUpdates":
            return await self._get_updates(body, request)
        if method == "setWebhook":
            self.webhook_url = str(body.get("url") or "") or None
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was set"})
        if method == "deleteWebhook":
            self.webhook_url = None
            return JSONResponse({"ok": True, "result": True, "description": "Webhook was deleted"})
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

    async def _get_updates(self, body: dict[str, Any], request: Request) -> JSONResponse:
        """Long polling as Telegram does it: updates before `offset` are confirmed (gone for
        good); the rest, at most `limit` in order, at once if there are any, else as soon as
        one comes within `timeout` seconds, else an empty list. A newer getUpdates cuts a
        waiting one short with 409."""
        if self.webhook_url is not None:
            return _refusal(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if self.poll_failures:
            return _refusal(*self.poll_failures.pop(0))
        offset, timeout = body.get("offset"), float(body.get("timeout", 0))
        limit = int(body.get("limit", 100))
        if isinstance(offset, int):
            self.queued = [update for update in self.queued if update["update_id"] >= offset]
        self._poll_generation += 1
        mine = self._poll_generation
        self.polling_now += 1
        self.most_polling = max(self.most_polling, self.polling_now)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while True:
                if mine != self._poll_generation:
                    self.terminated += 1
                    return _refusal(
                        409,
                        "Conflict: terminated by other getUpdates request; make sure that "
                        "only one bot instance is running",
                    )
                ready = sorted(self.queued, key=lambda update: int(update["update_id"]))[:limit]
                if ready or loop.time() >= deadline:
                    return JSONResponse({"ok": True, "result": ready})
                if await request.is_disconnected():
                    # The poller went away (it was stopped): no longer a poll in progress.
                    return JSONResponse({"ok": True, "result": []})
                await asyncio.sleep(0.01)
        finally:
            self.polling_now -= 1

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


def _refusal(status: int, description: str) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": status, "description": description}, status_code=status
    )


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


def telegram_settings(
    *, database_url: str, tmp_path: Path, api_base: str, **overrides: Any
) -> Settings:
    """The tests' settings (as in tests/conftest.py) with Telegram pointed at the fake."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        telegram_bot_token=TOKEN,
        telegram_webhook_secret=SECRET,
        telegram_api_base=api_base,
        **overrides,
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


def command_update(
    text: str, *, chat_id: int = 5123908871, message_id: int = 80, language_code: str = "pl"
) -> dict[str, Any]:
    """The recorded /start a deep link sends (with its bot_command entity), with this text."""
    update = copy.deepcopy(fixture("start_command"))
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["message_id"] = message_id
    message["text"] = text
    message["entities"][0]["length"] = len(text.split()[0])
    message["chat"]["id"] = chat_id
    message["from"].update(id=chat_id, language_code=language_code)
    return update


def contact_update(
    phone_number: str,
    *,
    user_id: int | None = 5123908871,
    chat_id: int = 5123908871,
    message_id: int = 81,
) -> dict[str, Any]:
    """The recorded contact a request_contact button shares (the sender's own: its user_id
    is theirs), or another contact (another user_id, or none)."""
    update = copy.deepcopy(fixture("contact"))
    update["update_id"] = next(_update_ids)
    message = update["message"]
    message["message_id"] = message_id
    message["chat"]["id"] = chat_id
    message["from"]["id"] = chat_id
    contact = message["contact"]
    contact["phone_number"] = phone_number
    if user_id is None:
        contact.pop("user_id", None)
    else:
        contact["user_id"] = user_id
    return update


def edited_update(
    text: str,
    *,
    message_id: int = 52,
    edit_date: int = 1793609490,
    chat_id: int = 5123908871,
    caption: bool = False,
) -> dict[str, Any]:
    """The recorded edit of a text message (or of a photo's caption), now reading `text`."""
    update = copy.deepcopy(fixture("edited_message"))
    update["update_id"] = next(_update_ids)
    message = update["edited_message"]
    message["message_id"] = message_id
    message["edit_date"] = edit_date
    message["chat"]["id"] = chat_id
    message["from"]["id"] = chat_id
    if caption:
        del message["text"]
        message["caption"] = text
        message["photo"] = copy.deepcopy(fixture("photo")["message"]["photo"])
    else:
        message["text"] = text
    return update
