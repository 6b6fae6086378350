"""The help centre's "call me back" form over HTTP: pages, spam guards, errors, the queue."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Callback, Player
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from playerdesk.web.app import create_app
from playerdesk.web.helpcenter.callback import desk_time_zone

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # A low per-address limit, reached in a few requests.
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        callback_limit_per_ip=2,
    )


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, runtime=runtime)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def fresh_token(client: httpx.AsyncClient, clock: FrozenClock, path: str) -> str:
    """A form page loaded, then filled in at a person's pace."""
    page = await client.get(path)
    assert page.status_code == 200
    clock.advance(timedelta(seconds=20))
    found = FORM_TOKEN.search(page.text)
    assert found, "the page has no form token"
    return found.group(1)


def fields(token: str, **overrides: str) -> dict[str, str]:
    sent = {
        "form_token": token,
        "lang": "en",
        "website": "",
        "phone": "+48 512 345 678",
        "when": "today",
        "from_time": "14:00",
        "until_time": "16:00",
        "language": "pl",
        "reason": "Pending withdrawal",
    }
    sent.update(overrides)
    return sent


async def callbacks(runtime: Runtime) -> list[Callback]:
    async with runtime.uow() as uow:
        return list((await uow.session.scalars(select(Callback).order_by(Callback.id))).all())


async def players(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Player)) or 0)


@pytest.mark.parametrize(
    ("language", "optional", "polish_name", "example"),
    [
        ("en", "(optional)", "Polish", "+44 20 7946 0958"),
        ("pl", "(opcjonalnie)", "Polski", "+48 512 345 678"),
        ("sv", "(valfritt)", "Polska", "+46 70 123 45 67"),
    ],
)
async def test_the_form_renders_in_each_language(
    client: httpx.AsyncClient, language: str, optional: str, polish_name: str, example: str
) -> None:
    page = await client.get(f"/help/callback?lang={language}")

    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert page.headers["content-language"] == language
    assert page.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert 'action="/help/callback"' in page.text
    assert 'name="form_token"' in page.text and 'name="website"' in page.text
    assert 'type="tel"' in page.text and example in page.text  # a number of the country
    assert optional in page.text
    # The desk's languages by their names in the page's language; the page's own preselected.
    assert f">{polish_name}</option>" in page.text
    assert f'<option value="{language}" selected>' in page.text


async def test_the_language_follows_accept_language(client: httpx.AsyncClient) -> None:
    page = await client.get("/help/callback", headers={"Accept-Language": "sv-SE,sv;q=0.9"})
    assert '<html lang="sv">' in page.text


async def test_the_home_page_links_to_the_form(client: httpx.AsyncClient) -> None:
    home = await client.get("/help/pl")
    assert 'data-testid="channel-callback"' in home.text
    assert 'href="/help/callback?lang=pl"' in home.text


async def test_a_good_request_queues_a_waiting_callback_from_the_help_centre(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    # A caller cannot choose the source: the server says it is the help centre.
    sent = await client.post("/help/callback", data={**fields(token), "source": "missed_call"})

    assert sent.status_code == 303, sent.text
    location = urlsplit(sent.headers["location"])
    assert location.path == "/help/callback/thanks"
    [callback] = await callbacks(runtime)
    async with runtime.uow() as uow:
        zone = await desk_time_zone(uow)
    today = clock.now().astimezone(zone).date()
    assert (callback.phone, callback.source, callback.status) == (
        "+48512345678",
        "helpcenter",
        "waiting",
    )
    assert (callback.language, callback.reason) == ("pl", "Pending withdrawal")
    assert callback.window_from == datetime.combine(today, time(14, 0), tzinfo=zone)
    assert callback.window_until == datetime.combine(today, time(16, 0), tzinfo=zone)
    assert callback.requested_ip == "127.0.0.1"

    thanks = await client.get(sent.headers["location"])
    assert thanks.status_code == 200
    assert "We will call you on" in thanks.text and "between 2:00" in thanks.text
    assert zone.key in thanks.text
    # The thank-you page is in the player's language, whatever the browser says.
    polish = await client.get(sent.headers["location"] + "&lang=pl")
    assert '<html lang="pl">' in polish.text


async def test_as_soon_as_possible_says_so_on_the_thank_you_page(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    sent = await client.post(
        "/help/callback", data=fields(token, when="asap", from_time="", until_time="")
    )
    assert sent.status_code == 303, sent.text
    [callback] = await callbacks(runtime)
    assert (callback.window_from, callback.due_at) == (None, clock.now())
    thanks = await client.get(sent.headers["location"])
    assert "as soon as one of our agents is free" in thanks.text


async def test_a_forged_thank_you_link_shows_nothing(client: httpx.AsyncClient) -> None:
    page = await client.get("/help/callback/thanks?t=forged.token")
    assert page.status_code == 404
    assert "This page has expired" in page.text


async def test_a_bad_phone_shows_the_field_error_and_stores_nothing(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    sent = await client.post("/help/callback", data=fields(token, phone="12", reason=SCRIPT))

    assert sent.status_code == 422
    assert 'data-testid="error-phone"' in sent.text
    assert 'href="#phone"' in sent.text  # the summary links to the field
    assert 'aria-invalid="true"' in sent.text
    # What was typed comes back, escaped.
    assert ESCAPED_SCRIPT in sent.text and SCRIPT not in sent.text
    assert await callbacks(runtime) == [] and await players(runtime) == 0


async def test_window_mistakes_are_shown_next_to_the_times(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    unreadable = await client.post("/help/callback", data=fields(token, from_time="soon"))
    assert unreadable.status_code == 422
    assert 'data-testid="error-from_time"' in unreadable.text
    backwards = await client.post(
        "/help/callback", data=fields(token, when="tomorrow", from_time="16:00", until_time="15:00")
    )
    assert backwards.status_code == 422
    assert 'data-testid="error-until_time"' in backwards.text
    assert "The window ends before it starts." in backwards.text
    assert await callbacks(runtime) == []


async def test_the_honeypot_gets_a_thank_you_page_and_nothing_is_stored(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    sent = await client.post("/help/callback", data=fields(token, website="http://spam.example"))
    assert sent.status_code == 303
    assert urlsplit(sent.headers["location"]).path == "/help/callback/thanks"
    assert await callbacks(runtime) == [] and await players(runtime) == 0


async def test_without_a_good_token_the_request_is_not_sent(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    missing = await client.post("/help/callback", data=fields(""))
    assert missing.status_code == 400
    assert 'data-testid="form-alert"' in missing.text
    # The contact form's token is no good here.
    contact = await fresh_token(client, clock, "/help/contact")
    other = await client.post("/help/callback", data=fields(contact))
    assert other.status_code == 400
    # Sent sooner than a person can fill it in: a bot, dropped.
    page = await client.get("/help/callback")
    found = FORM_TOKEN.search(page.text)
    assert found
    hasty = await client.post("/help/callback", data=fields(found.group(1)))
    assert hasty.status_code == 303
    assert await callbacks(runtime) == []


async def test_the_per_address_limit_refuses_politely(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    for number in ("+46701234501", "+46701234502"):
        ok = await client.post("/help/callback", data=fields(token, phone=number))
        assert ok.status_code == 303, ok.text
    limited = await client.post("/help/callback", data=fields(token, phone="+46701234503"))

    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "several calls in a short time" in limited.text
    assert 'value="+46701234503"' in limited.text  # the form comes back filled in
    assert len(await callbacks(runtime)) == 2


async def test_an_overlong_field_comes_back_as_the_page_not_json(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "/help/callback")
    sent = await client.post("/help/callback", data=fields(token, reason="x" * 600))
    assert sent.status_code == 422
    assert sent.headers["content-type"].startswith("text/html")
    assert 'data-testid="error-reason"' in sent.text
    assert await callbacks(runtime) == []
