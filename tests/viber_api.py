"""A local stand-in for the Viber REST bot API over real HTTP (uvicorn on a free loopback
port in the test's event loop): it records every call and answers as Viber does (HTTP 200
with a `status` code), or with the failure a test asks for; and serves the media URLs of the
players' pictures, videos and files, as Viber's media servers do (public, for an hour), one
of them endless. Also builders of real-shaped callbacks and their signatures."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from playerdesk.settings import Settings
from tests.casino_backoffice import serving

TOKEN = "4453b6ac12345678-e02c5f12174805f9-9a8e7d6c5b4a3f21"
USER = "01234567890A="
# What the casino signs its deep links with (PLAYERDESK_MESSENGER_LINK_SECRET).
LINK_SECRET = "test-link-secret-0123456789abcdef"
FIXTURES = Path(__file__).parent / "adapters" / "fixtures" / "viber"


@dataclass
class ApiCall:
    method: str
    body: dict[str, Any]


@dataclass
class FakeViber:
    base_url: str = ""
    calls: list[ApiCall] = field(default_factory=list)
    # Answers to give send_message instead of success, first one first: (status, message);
    # a status of 500 or more is an HTTP error instead of a Viber answer.
    failures: list[tuple[int, str]] = field(default_factory=list)
    _tokens: itertools.count[int] = field(
        default_factory=lambda: itertools.count(5_741_311_803_571_800_000)
    )
    # Files behind media URLs (`media_url(name)`), by name; a name not here is a 404 (a URL
    # whose hour has passed).
    media: dict[str, bytes] = field(default_factory=dict)
    # Names served as a stream that never ends after these first bytes, without a length.
    endless: dict[str, bytes] = field(default_factory=dict)
    # Every media download asked for, by name, with the headers it came with.
    downloads: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    # How many bytes an endless stream produced before the client stopped reading.
    streamed: dict[str, int] = field(default_factory=dict)

    def media_url(self, name: str) -> str:
        return f"{self.base_url}/media/{name}"

    async def download(self, request: Request) -> Response:
        name = request.path_params["name"]
        self.downloads.append((name, dict(request.headers)))
        if name.startswith("moved-"):
            # A CDN in front of the media: the file is one redirect away.
            return RedirectResponse(self.media_url(name.removeprefix("moved-")), 302)
        if name in self.endless:
            return StreamingResponse(self._forever(name), media_type="application/octet-stream")
        if name not in self.media:
            return Response(status_code=404)
        return Response(self.media[name], media_type="application/octet-stream")

    def _forever(self, name: str) -> Iterator[bytes]:
        self.streamed[name] = 0
        chunk = self.endless[name]
        while True:
            self.streamed[name] += len(chunk)
            yield chunk
            chunk = bytes(64 * 1024)

    def of(self, method: str) -> list[dict[str, Any]]:
        return [call.body for call in self.calls if call.method == method]

    async def handle(self, request: Request) -> JSONResponse:
        method = request.path_params["method"]
        if request.headers.get("X-Viber-Auth-Token") != TOKEN:
            # Viber answers HTTP 200 even for a wrong token.
            return JSONResponse({"status": 2, "status_message": "invalidAuthToken"})
        body = await request.json()
        self.calls.append(ApiCall(method=method, body=body))
        if method == "send_message" and self.failures:
            status, message = self.failures.pop(0)
            if status >= 500:
                return JSONResponse({"error": message}, status_code=status)
            return JSONResponse({"status": status, "status_message": message})
        if method == "send_message":
            return JSONResponse(
                {
                    "status": 0,
                    "status_message": "ok",
                    "message_token": next(self._tokens),
                    "chat_hostname": "SN-CHAT-05_",
                    "billing_status": 1,
                }
            )
        if method == "set_webhook":
            return JSONResponse(
                {"status": 0, "status_message": "ok", "event_types": ["delivered", "failed"]}
            )
        return JSONResponse({"status": 3, "status_message": "badData"})


@asynccontextmanager
async def fake_viber() -> AsyncIterator[FakeViber]:
    fake = FakeViber()
    app = Starlette(
        routes=[
            Route("/pa/{method}", fake.handle, methods=["POST"]),
            Route("/media/{name}", fake.download, methods=["GET"]),
        ]
    )
    async with serving(app) as url:
        fake.base_url = url
        yield fake


def viber_settings(*, database_url: str, tmp_path: Path, api_base: str) -> Settings:
    """The tests' settings (as in tests/conftest.py) with Viber pointed at the fake."""
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        viber_auth_token=TOKEN,
        viber_api_base=api_base,
        viber_sender_name="Casino Support",
        messenger_link_secret=LINK_SECRET,
    )


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


def sign(raw: bytes, *, token: str = TOKEN) -> str:
    """X-Viber-Content-Signature for this body."""
    return hmac.new(token.encode(), raw, hashlib.sha256).hexdigest()


_message_tokens = itertools.count(5_741_311_803_571_730_001)


def text_callback(
    text: str,
    *,
    user_id: str = USER,
    message_token: int | None = None,
    name: str | None = "Agnieszka Nowak",
    language: str | None = "pl",
) -> dict[str, Any]:
    """The recorded text message, with this text from this user."""
    callback = copy.deepcopy(fixture("text_message"))
    callback["message_token"] = message_token or next(_message_tokens)
    callback["message"]["text"] = text
    sender = callback["sender"]
    sender["id"] = user_id
    for key, value in (("name", name), ("language", language)):
        if value is None:
            sender.pop(key, None)
        else:
            sender[key] = value
    return callback


def event_callback(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded callback of this kind, with these top-level fields changed."""
    callback = copy.deepcopy(fixture(name))
    callback.update(changes)
    return callback


UNSET: Any = object()


def media_callback(
    kind: str,
    *,
    media: str | None = UNSET,
    size: int | None = UNSET,
    file_name: str | None = UNSET,
    text: str | None = UNSET,
    message_token: int | None = None,
) -> dict[str, Any]:
    """The recorded picture, video or file message (`picture_message.json`...) with these
    fields changed; None leaves a field out."""
    callback = copy.deepcopy(fixture(f"{kind}_message"))
    callback["message_token"] = message_token or next(_message_tokens)
    message = callback["message"]
    for key, value in (("media", media), ("size", size), ("file_name", file_name), ("text", text)):
        if value is None:
            message.pop(key, None)
        elif value is not UNSET:
            message[key] = value
    return callback
