"""The help centre's contact and feedback forms over HTTP: pages, spam guards, errors."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.base import Base
from playerdesk.db.models import Attachment, FormSubmission, Message, OutboxItem, Player, Ticket
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from playerdesk.web import helpcenter
from playerdesk.web.app import create_app

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SCRIPT = "<script>alert(1)</script>"
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
FILE_LIMIT = 4096


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Small files and low limits: an oversize file stays under the app's request limit,
    # and the rate limit is reached in a few requests.
    return Settings(
        database_url=database_url,
        data_dir=tmp_path / "data",
        secret_key="test-secret-key-0123456789abcdef0123456789",
        redis_url=None,
        attachment_max_bytes=FILE_LIMIT,
        form_limit_per_ip=3,
        form_limit_per_email=2,
    )


def with_helpcenter(app: FastAPI) -> FastAPI:
    """The help centre's routes, unless create_app includes them already."""
    if not any(getattr(route, "path", None) == "/help/contact" for route in app.routes):
        app.include_router(helpcenter.router)
    return app


@pytest.fixture
async def client(settings: Settings, runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = with_helpcenter(create_app(settings, runtime=runtime))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


def token_from(html: str) -> str:
    found = FORM_TOKEN.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def fresh_token(client: httpx.AsyncClient, clock: FrozenClock, form: str = "contact") -> str:
    """A form page loaded, then filled in at a person's pace."""
    page = await client.get(f"/help/{form}")
    assert page.status_code == 200
    clock.advance(timedelta(seconds=20))
    return token_from(page.text)


def contact_fields(token: str, **overrides: str) -> dict[str, str]:
    fields = {
        "form_token": token,
        "lang": "en",
        "website": "",
        "topic": "withdrawals",
        "name": "Ola Nowak",
        "email": "ola@example.pl",
        "message": "My withdrawal has not arrived.",
    }
    fields.update(overrides)
    return fields


async def post_form(
    client: httpx.AsyncClient,
    fields: dict[str, str],
    *,
    form: str = "contact",
    files: list[tuple[str, bytes]] | None = None,
    **options: Any,
) -> httpx.Response:
    parts = [
        ("attachments", (name, data, "application/octet-stream")) for name, data in files or []
    ]
    return await client.post(f"/help/{form}", data=fields, files=parts or None, **options)


async def count(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def nothing_stored(runtime: Runtime) -> bool:
    models: list[type[Base]] = [Ticket, Player, Message, Attachment, OutboxItem, FormSubmission]
    return all([await count(runtime, model) == 0 for model in models])


def thanks_token(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["location"])
    assert location.path == "/help/thanks"
    return parse_qs(location.query)["t"][0]


# Pages ----------------------------------------------------------------------------------


async def test_the_contact_page_in_english(client: httpx.AsyncClient) -> None:
    page = await client.get("/help/contact", headers={"Accept-Language": "en-GB"})

    assert page.status_code == 200
    html = page.text
    assert '<html lang="en">' in html
    for text in (
        "Contact us",
        "What is your message about?",
        "Withdrawals",
        "Verification (KYC)",
        "Responsible gambling",
        "Email address",
        "Your message",
        "Up to 5 files, each at most 4 KB: PNG, JPEG, GIF, WEBP, PDF, TXT.",
        "Send message",
    ):
        assert text in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html  # the honeypot
    assert "/static/helpcenter.css" in html and "//" not in html.split("<body")[0].replace(
        "http://", ""
    ).replace('"/', '"')  # nothing from another host
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["content-language"] == "en"
    assert "set-cookie" not in page.headers


async def test_the_feedback_page_in_english(client: httpx.AsyncClient) -> None:
    page = await client.get("/help/feedback")

    assert page.status_code == 200
    for text in ("Tell us what you think", "How would you rate our support?", "Excellent"):
        assert text in page.text
    assert page.text.count('type="radio" name="rating"') == 5


@pytest.mark.parametrize("form", ["contact", "feedback"])
@pytest.mark.parametrize(
    ("query", "headers", "language"),
    [
        ("?lang=pl", {}, "pl"),
        ("?lang=sv", {"Accept-Language": "pl"}, "sv"),
        ("", {"Accept-Language": "sv-SE,sv;q=0.9,en;q=0.5"}, "sv"),
        ("", {"Cookie": "pd_lang=pl"}, "pl"),
        ("?lang=xx", {"Accept-Language": "de"}, "en"),
    ],
)
async def test_the_page_language(
    client: httpx.AsyncClient, form: str, query: str, headers: dict[str, str], language: str
) -> None:
    page = await client.get(f"/help/{form}{query}", headers=headers)

    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    assert f'<input type="hidden" name="lang" value="{language}">' in page.text
    assert f'data-testid="language-{language}" aria-current="true"' in page.text
    assert page.headers["content-language"] == language


async def test_the_switcher_links_every_language_by_its_own_name(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/help/contact?topic=bonuses&lang=sv")

    assert 'href="/help/contact?topic=bonuses&amp;lang=pl" lang="pl"' in page.text
    assert (
        ">Polski</a>" in page.text and ">Svenska</a>" in page.text and ">English</a>" in page.text
    )
    assert '<option value="bonuses" selected>' in page.text


async def test_help_leads_to_the_help_centre_home(client: httpx.AsyncClient) -> None:
    response = await client.get("/help?lang=pl")
    assert response.status_code == 307
    assert response.headers["location"] == "/help/pl"


# Sending --------------------------------------------------------------------------------


async def test_a_contact_form_with_a_file_becomes_a_ticket_and_the_thanks_page_shows_its_number(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    response = await post_form(
        client, contact_fields(token, lang="pl"), files=[("screenshot.png", PNG)]
    )

    thanks = await client.get(f"/help/thanks?t={thanks_token(response)}")
    async with runtime.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
        submission = await uow.session.scalar(select(FormSubmission))
    assert ticket is not None and submission is not None
    assert ticket.channel == "form" and ticket.language == "pl" and ticket.topic == "payments"
    assert submission.ip == "127.0.0.1" and submission.ticket_id == ticket.id
    assert await count(runtime, Attachment) == 1
    assert await count(runtime, OutboxItem) == 1
    assert thanks.status_code == 200
    assert '<html lang="pl">' in thanks.text
    assert f'data-testid="ticket-number">#{ticket.number}</strong>' in thanks.text
    assert thanks.headers["cache-control"] == "no-store"


async def test_a_feedback_form_is_sent_with_its_rating(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock, "feedback")
    fields = contact_fields(token, topic="", rating="5", message="Great help with my bonus.")

    response = await post_form(client, fields, form="feedback")

    thanks = await client.get(f"/help/thanks?t={thanks_token(response)}")
    assert "Thank you for your feedback" in thanks.text
    async with runtime.uow() as uow:
        ticket = await uow.session.scalar(select(Ticket))
    assert ticket is not None and ticket.priority == "low"
    assert f"#{ticket.number}" in thanks.text


async def test_an_urlencoded_post_without_files_works_too(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)
    response = await client.post("/help/contact", data=contact_fields(token))
    thanks_token(response)
    assert await count(runtime, Ticket) == 1


async def test_the_thanks_link_cannot_be_forged_and_expires(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)
    link = thanks_token(await post_form(client, contact_fields(token)))
    body, _, mac = link.partition(".")

    forged = await client.get(f"/help/thanks?t={body[:-2]}xx.{mac}")
    missing = await client.get("/help/thanks")
    switched = await client.get(f"/help/thanks?t={link}&lang=sv")
    clock.advance(timedelta(days=1, seconds=1))
    expired = await client.get(f"/help/thanks?t={link}")

    for page in (forged, missing, expired):
        assert page.status_code == 404
        assert "This page has expired" in page.text
        assert "ticket-number" not in page.text
    # The language switcher keeps the token: the page is the same, in another language.
    assert switched.status_code == 200 and '<html lang="sv">' in switched.text
    assert 'data-testid="ticket-number">#' in switched.text


# Mistakes -------------------------------------------------------------------------------


async def test_field_errors_come_back_next_to_the_fields_with_the_input_kept(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    page = await post_form(
        client,
        contact_fields(token, topic="", email="ola(at)example.pl", message="Where is my money?"),
    )

    assert page.status_code == 422
    html = page.text
    assert 'data-testid="error-summary"' in html
    assert '<a href="#topic">Please choose what your message is about.</a>' in html
    assert (
        'data-testid="error-email"><span class="visually-hidden">Error: </span>'
        "Please enter a valid email address, like name@example.com.</p>"
    ) in html
    assert (
        'value="ola(at)example.pl" aria-describedby="email-hint email-error" aria-invalid="true"'
        in (" ".join(html.split()))
    )
    assert 'value="Ola Nowak"' in html
    assert ">Where is my money?</textarea>" in html
    assert token_from(html) != token  # a fresh token: the corrected form can be sent
    assert await nothing_stored(runtime)


async def test_the_error_page_speaks_the_language_of_the_form_it_came_from(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    page = await post_form(client, contact_fields(token, lang="sv", email=""))

    assert page.status_code == 422 and '<html lang="sv">' in page.text


async def test_input_is_escaped_when_it_comes_back(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    page = await post_form(
        client,
        contact_fields(
            token,
            name=f'"><{SCRIPT}',
            email=f"{SCRIPT}@x",
            message=f"</textarea>{SCRIPT}",
            topic=f'"><{SCRIPT}',
        ),
        files=[(f"{SCRIPT}.exe", b"MZ\x00\x00binary")],
    )

    assert page.status_code == 422
    assert SCRIPT not in page.text
    assert "<script" not in page.text
    assert page.text.count(ESCAPED_SCRIPT) >= 4
    assert "&lt;/textarea&gt;" in page.text
    assert await nothing_stored(runtime)


async def test_a_file_too_large_or_of_the_wrong_type_is_a_field_error(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    page = await post_form(
        client,
        contact_fields(token),
        files=[("big.png", PNG + b"\x00" * FILE_LIMIT), ("tool.exe", b"MZ\x90\x00\xff")],
    )

    assert page.status_code == 422
    assert "“big.png” is too large: each file may be at most 4 KB." in page.text
    assert "“tool.exe” cannot be attached: please use PNG" in page.text
    assert 'data-testid="files-dropped"' in page.text
    assert ">My withdrawal has not arrived.</textarea>" in page.text
    assert await nothing_stored(runtime)


async def test_six_files_are_one_too_many(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    page = await post_form(
        client, contact_fields(token), files=[(f"{n}.png", PNG) for n in range(6)]
    )

    assert page.status_code == 422
    assert "You can attach up to 5 files at once." in page.text
    assert await nothing_stored(runtime)


async def test_an_empty_file_input_is_no_attachment(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    # What a browser sends for a file input left empty: a part with an empty file name.
    boundary = "----browser-boundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in contact_fields(token).items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="attachments"; filename=""\r\n'
        "Content-Type: application/octet-stream\r\n\r\n\r\n"
    )
    response = await client.post(
        "/help/contact",
        content=("".join(parts) + f"--{boundary}--\r\n").encode(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    thanks_token(response)
    assert await count(runtime, Attachment) == 0


async def test_a_text_where_a_file_belongs_is_not_a_server_error(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)
    response = await client.post(
        "/help/contact", data={**contact_fields(token), "attachments": "not a file"}
    )
    assert 400 <= response.status_code < 500


# Spam and floods ------------------------------------------------------------------------


async def test_a_bot_filling_the_honeypot_is_thanked_and_forgotten(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    token = await fresh_token(client, clock)

    response = await post_form(
        client, contact_fields(token, website="https://cheap-pills.example"), files=[("a.png", PNG)]
    )

    thanks = await client.get(f"/help/thanks?t={thanks_token(response)}")
    assert thanks.status_code == 200
    assert "Thank you, we have received your message" in thanks.text
    assert "ticket-number" not in thanks.text
    assert await nothing_stored(runtime)


async def test_a_submit_faster_than_a_person_counts_as_a_bot(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    page = await client.get("/help/contact")
    clock.advance(timedelta(seconds=1))

    response = await post_form(client, contact_fields(token_from(page.text)))

    thanks_token(response)
    assert await nothing_stored(runtime)


@pytest.mark.parametrize("problem", ["missing", "forged", "expired", "other form"])
async def test_a_post_without_a_fresh_page_is_refused_with_the_input_kept(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, problem: str
) -> None:
    token = await fresh_token(client, clock, "feedback" if problem == "other form" else "contact")
    if problem == "missing":
        token = ""
    elif problem == "forged":
        token = token[:-3] + "abc"
    elif problem == "expired":
        clock.advance(timedelta(hours=6, seconds=1))

    page = await post_form(client, contact_fields(token, message="Please call me back."))

    assert page.status_code == 400
    assert 'data-testid="form-alert"' in page.text
    assert "This page was open for a long time" in page.text
    assert ">Please call me back.</textarea>" in page.text and 'value="Ola Nowak"' in page.text
    assert await nothing_stored(runtime)

    # Sent again from the page that came back, it goes through.
    clock.advance(timedelta(seconds=5))
    thanks_token(await post_form(client, contact_fields(token_from(page.text))))


async def test_too_many_forms_from_one_ip_get_429_with_the_input_kept(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    for number in range(3):
        token = await fresh_token(client, clock)
        thanks_token(await post_form(client, contact_fields(token, email=f"p{number}@example.com")))

    token = await fresh_token(client, clock)
    page = await post_form(client, contact_fields(token, email="p9@example.com"))

    assert page.status_code == 429
    assert int(page.headers["retry-after"]) > 0
    assert "You have sent us several messages in a short time." in page.text
    assert "Please try again in 59 minutes." in page.text
    assert 'value="p9@example.com"' in page.text
    assert await count(runtime, Ticket) == 3


async def test_too_many_forms_for_one_address_get_429(
    client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock
) -> None:
    for _ in range(2):
        token = await fresh_token(client, clock)
        thanks_token(await post_form(client, contact_fields(token)))

    token = await fresh_token(client, clock, "feedback")
    page = await post_form(client, contact_fields(token, topic="", rating="2"), form="feedback")

    assert page.status_code == 429
    assert await count(runtime, Ticket) == 2


def test_the_request_limit_fits_five_files_at_their_largest(settings: Settings) -> None:
    assert helpcenter.request_limit(settings) > 5 * settings.attachment_max_bytes
    assert sorted(helpcenter.FORM_PATHS) == ["/help/contact", "/help/feedback"]
