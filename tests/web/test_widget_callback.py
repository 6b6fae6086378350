"""The widget's "call me back" over HTTP (POST /widget/v1/callbacks): the widget's player asks,
the callback waits in the agents' queue; refusals name their field in the player's language."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select

from playerdesk.db.models import Callback, ChannelIdentity, Player
from playerdesk.domain import tokens
from playerdesk.domain.enums import AgentRole, Channel
from playerdesk.domain.phone import CallbackStatus
from playerdesk.runtime import Runtime
from playerdesk.services import callbacks as callback_service
from playerdesk.settings import Settings
from playerdesk.web.helpcenter.callback import desk_time_zone
from tests.conftest import START, AgentFactory, client_for
from tests.web.test_console_callbacks import ROW_IDS, sign_in
from tests.web.test_console_workspace import (
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
)

IDENTITY_SECRET = "casino-identity-secret-0123456789"
WARSAW = ZoneInfo("Europe/Warsaw")
PROBLEM = "application/problem+json"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # A low per-address limit, reached in a few requests.
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        widget_identity_secret=IDENTITY_SECRET,
        callback_limit_per_ip=2,
    )


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(settings, runtime, ip="203.0.113.9") as http:
        yield http


async def widget_session(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/widget/v1/session", json={"language": "pl", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


def bearer(session: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}"}


def asked(**overrides: Any) -> dict[str, Any]:
    sent: dict[str, Any] = {
        "phone": "+48 512 345 678",
        "when": "today",
        "from_time": "14:00",
        "until_time": "16:00",
        "reason": "Wypłata nie dotarła",
        "time_zone": "Europe/Warsaw",
    }
    sent.update(overrides)
    return {name: value for name, value in sent.items() if value is not None}


async def stored_callbacks(runtime: Runtime) -> list[Callback]:
    async with runtime.uow() as uow:
        return list((await uow.session.scalars(select(Callback).order_by(Callback.id))).all())


async def player_count(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Player)) or 0)


def field_errors(response: httpx.Response) -> dict[str, str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return {error["field"]: error["message"] for error in response.json()["errors"]}


async def test_a_visitor_asks_for_a_call_and_it_waits_in_the_agents_queue(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    session = await widget_session(client)
    # The widget cannot choose the source, nor whose callback it is.
    sent = await client.post("/widget/v1/callbacks", json=asked(), headers=bearer(session))

    assert sent.status_code == 201, sent.text
    answer = sent.json()
    assert answer["time_zone"] == "Europe/Warsaw"
    # The promise, in the player's language and their own time.
    assert answer["confirmation"] == (
        "Zadzwonimy poniedziałek, 2 listopada 2026 między 14:00 a 16:00 (czas Europe/Warsaw)."
    )
    day = START.astimezone(WARSAW).date()
    [callback] = await stored_callbacks(runtime)
    assert (callback.phone, callback.source, callback.status, callback.language) == (
        "+48512345678",
        "widget",
        "waiting",
        "pl",
    )
    assert callback.reason == "Wypłata nie dotarła"
    assert callback.window_from == datetime.combine(day, time(14, 0), tzinfo=WARSAW)
    assert callback.window_until == datetime.combine(day, time(16, 0), tzinfo=WARSAW)
    assert callback.requested_ip == "203.0.113.9"
    assert datetime.fromisoformat(answer["window_from"]) == callback.window_from

    # It is the visitor's own player's (the one their chats will be on), who now has the number.
    async with runtime.uow() as uow:
        visitor = await uow.session.scalar(
            select(Player)
            .join(ChannelIdentity, ChannelIdentity.player_id == Player.id)
            .where(ChannelIdentity.channel == Channel.WEB_CHAT.value)
        )
    assert visitor is not None and callback.player_id == visitor.id
    assert (visitor.phone, visitor.language) == ("+48512345678", "pl")
    assert await player_count(runtime) == 1

    # The agents' queue has it: the service, and the console page that shows it.
    agent = await sign_in(client, make_agent, languages=["en", "pl"])
    async with runtime.uow() as uow:
        queue = await callback_service.list_callbacks(
            uow,
            actor=agent.actor,
            statuses=[CallbackStatus.WAITING],
            vip_tiers=list(runtime.settings.vip_tiers),
        )
    assert [item.callback.id for item in queue] == [callback.id]
    page = await client.get("/console/callbacks")
    assert page.status_code == 200
    assert [int(found) for found in ROW_IDS.findall(page.text)] == [callback.id]
    assert 'href="tel:+48512345678"' in page.text and "Chat widget" in page.text

    # The same visitor asking again later is still the same player.
    again = await widget_session(client, visitor_token=session["visitor_token"])
    sent = await client.post(
        "/widget/v1/callbacks",
        json=asked(phone="+48 600 100 200", when="asap", time_zone=None),
        headers=bearer(again),
    )
    assert sent.status_code == 201, sent.text
    second = (await stored_callbacks(runtime))[1]
    assert second.player_id == visitor.id
    assert sent.json()["confirmation"] == (
        "Zadzwonimy, gdy tylko któryś z naszych konsultantów będzie wolny."
    )


async def test_a_signed_in_casino_player_s_callback_is_theirs(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    player = {"id": "C-1001", "hash": tokens.player_hash("C-1001", secret=IDENTITY_SECRET)}
    session = await widget_session(client, player=player, language="en")
    sent = await client.post(
        "/widget/v1/callbacks",
        json={"phone": "+46 70 123 45 67", "when": "asap"},
        headers=bearer(session),
    )

    assert sent.status_code == 201, sent.text
    answer = sent.json()
    assert (answer["window_from"], answer["window_until"]) == (None, None)
    assert answer["confirmation"] == "We will call you as soon as one of our agents is free."
    async with runtime.uow() as uow:
        casino_player = await uow.session.scalar(
            select(Player).where(Player.external_id == "C-1001")
        )
    assert casino_player is not None
    [callback] = await stored_callbacks(runtime)
    assert (callback.player_id, callback.language, callback.due_at) == (
        casino_player.id,
        "en",
        START,
    )
    # No second player was made for the number.
    assert await player_count(runtime) == 1


async def test_without_a_time_zone_the_times_are_the_desk_s(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    session = await widget_session(client, language="sv")
    sent = await client.post(
        "/widget/v1/callbacks",
        json=asked(when="tomorrow", time_zone=None),
        headers=bearer(session),
    )
    assert sent.status_code == 201, sent.text
    async with runtime.uow() as uow:
        zone = await desk_time_zone(uow)
    assert sent.json()["time_zone"] == zone.key
    [callback] = await stored_callbacks(runtime)
    tomorrow = START.astimezone(zone).date().replace(day=3)
    assert callback.window_from == datetime.combine(tomorrow, time(14, 0), tzinfo=zone)
    assert "tisdag 3 november 2026" in sent.json()["confirmation"]


async def test_a_bad_number_is_refused_beside_its_field_and_nothing_is_stored(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    session = await widget_session(client)
    sent = await client.post(
        "/widget/v1/callbacks",
        json=asked(phone="12"),
        headers=bearer(session),
    )

    assert sent.status_code == 422
    assert field_errors(sent) == {
        "phone": (
            "To nie jest numer telefonu; podaj go z numerem kierunkowym kraju, np. +48 512 345 678."
        )
    }
    assert sent.json()["type"] == "urn:playerdesk:problem:validation_failed"
    short = await client.post(
        "/widget/v1/callbacks", json=asked(phone="+48 512"), headers=bearer(session)
    )
    assert field_errors(short) == {"phone": "Ten numer telefonu jest nieprawidłowy."}
    missing = await client.post(
        "/widget/v1/callbacks", json=asked(phone=""), headers=bearer(session)
    )
    assert field_errors(missing) == {"phone": "Podaj numer telefonu."}
    # Nothing queued, and no player made for the visitor either.
    assert await stored_callbacks(runtime) == []
    assert await player_count(runtime) == 0


async def test_window_mistakes_are_refused_beside_the_times(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    session = await widget_session(client, language="en")
    # 09:00 UTC is 10:00 in Warsaw: 07:00-08:00 today has passed.
    past = await client.post(
        "/widget/v1/callbacks",
        json=asked(from_time="07:00", until_time="08:00"),
        headers=bearer(session),
    )
    assert past.status_code == 422
    assert field_errors(past) == {"until_time": "The window has already passed."}
    backwards = await client.post(
        "/widget/v1/callbacks",
        json=asked(when="tomorrow", from_time="16:00", until_time="15:00"),
        headers=bearer(session),
    )
    assert field_errors(backwards) == {"until_time": "The window ends before it starts."}
    unreadable = await client.post(
        "/widget/v1/callbacks",
        json=asked(from_time="", until_time="soon"),
        headers=bearer(session),
    )
    assert field_errors(unreadable) == {
        "from_time": "Enter a time of day like 14:30.",
        "until_time": "Enter a time of day like 16:00.",
    }
    never = await client.post(
        "/widget/v1/callbacks", json=asked(when="someday"), headers=bearer(session)
    )
    assert field_errors(never) == {"when": "Choose when we should call you."}
    assert await stored_callbacks(runtime) == []


async def test_only_a_widget_session_may_ask(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(AgentRole.ADMIN)
    for headers in (
        {},
        {"Authorization": "Bearer forged.token"},
        agent.headers,  # an agent's API token is not a widget session
    ):
        refused = await client.post("/widget/v1/callbacks", json=asked(), headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"] == PROBLEM
    assert await stored_callbacks(runtime) == []


async def test_requests_are_limited_per_address_like_the_help_centre_s(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    session = await widget_session(client)
    for number in ("+46701234501", "+46701234502"):
        ok = await client.post(
            "/widget/v1/callbacks", json=asked(phone=number), headers=bearer(session)
        )
        assert ok.status_code == 201, ok.text
    # A new visitor from the same address is the same address.
    fresh = await widget_session(client)
    limited = await client.post(
        "/widget/v1/callbacks", json=asked(phone="+46701234503"), headers=bearer(fresh)
    )

    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["detail"].startswith(
        "W krótkim czasie poprosiłeś o kilka połączeń. Spróbuj ponownie za "
    )
    assert len(await stored_callbacks(runtime)) == 2
    # Another address is not held back.
    async with client_for(settings, runtime, ip="198.51.100.4") as elsewhere:
        other = await widget_session(elsewhere)
        ok = await elsewhere.post(
            "/widget/v1/callbacks", json=asked(phone="+46701234503"), headers=bearer(other)
        )
    assert ok.status_code == 201, ok.text
