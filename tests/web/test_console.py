"""The agent console's server-rendered pages: sign-in, sign-out, language and the inbox.

The workspace's views, filters, conversations and presence: tests/web/test_console_workspace.py.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import AuditEntry, LoginAttempt, Ticket, WebSession
from playerdesk.domain.enums import AgentRole, Channel, Priority
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.services import tickets as ticket_service
from playerdesk.services.players import PlayerFields
from playerdesk.settings import Settings
from playerdesk.web.console import routes
from playerdesk.web.deps import csrf_token_for
from tests.conftest import AgentFactory, AgentLogin

PASSWORD = "correct horse battery"
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)
CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with the smallest cost: the same code path, without 64 MiB per sign-in."""
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


def csrf_from(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF token field"
    return found.group(1)


def set_cookie_header(response: httpx.Response, name: str) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(f"{name}="):
            return header
    return None


async def login_token(client: httpx.AsyncClient) -> str:
    page = await client.get("/console/login")
    assert page.status_code == 200
    return csrf_from(page.text)


async def submit_login(
    client: httpx.AsyncClient, *, email: str, password: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    token = await login_token(client)
    return await client.post(
        "/console/login",
        data={"email": email, "password": password, "csrf_token": token},
        headers=headers,
    )


async def agent_with_password(make_agent: AgentFactory) -> AgentLogin:
    return await make_agent(AgentRole.AGENT, email="anna.agent@example.test", password=PASSWORD)


async def signed_in(client: httpx.AsyncClient, make_agent: AgentFactory) -> AgentLogin:
    agent = await agent_with_password(make_agent)
    response = await submit_login(client, email=agent.email, password=PASSWORD)
    assert response.status_code == 303
    return agent


async def audit_actions(runtime: Runtime) -> list[tuple[str, int | None, str | None]]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(row.action, row.actor_agent_id, row.entity_id) for row in rows.all()]


async def audit_entries(runtime: Runtime, action: str) -> list[AuditEntry]:
    async with runtime.uow() as uow:
        rows = await uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
        return list(rows.all())


async def session_count(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(WebSession)) or 0)


async def open_ticket(
    runtime: Runtime,
    actor: Actor,
    *,
    subject: str,
    channel: Channel = Channel.EMAIL,
    priority: Priority = Priority.NORMAL,
    external_id: str = "P-1",
) -> Ticket:
    async with runtime.uow() as uow:
        return await ticket_service.create_ticket(
            uow,
            actor=actor,
            new=ticket_service.NewTicket(
                channel=channel,
                subject=subject,
                body="Hello, I need help.",
                player_external_id=external_id,
                player=PlayerFields(name="Player"),
                priority=priority,
                language="pl",
            ),
            player_policy=runtime.policies.players,
            limits=runtime.policies.messages,
            routing_policy=runtime.policies.routing,
        )


# Sign-in page ---------------------------------------------------------------------------


async def test_login_page_sets_csrf_cookie_and_renders_a_bound_token(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    response = await client.get("/console/login")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    cookie_header = set_cookie_header(response, "pd_csrf")
    assert cookie_header is not None
    assert "HttpOnly" in cookie_header
    assert "samesite=lax" in cookie_header.lower()
    nonce = client.cookies["pd_csrf"]
    # The form carries the HMAC of the cookie's nonce: the double-submit pair.
    assert csrf_from(response.text) == csrf_token_for(nonce, secret_key=settings.secret_key)
    for testid in ("login-email", "login-password", "login-submit", "language-switcher"):
        assert f'data-testid="{testid}"' in response.text
    assert 'action="/console/login"' in response.text


async def test_login_page_reuses_an_existing_csrf_cookie(client: httpx.AsyncClient) -> None:
    first = await client.get("/console/login")
    second = await client.get("/console/login")

    assert set_cookie_header(first, "pd_csrf") is not None
    assert set_cookie_header(second, "pd_csrf") is None
    assert csrf_from(first.text) == csrf_from(second.text)


@pytest.mark.parametrize("path", ["/console/login", "/console"])
async def test_console_pages_send_the_strict_csp_and_no_inline_code(
    client: httpx.AsyncClient, make_agent: AgentFactory, path: str
) -> None:
    if path == "/console":
        await signed_in(client, make_agent)

    response = await client.get(path)

    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    assert response.headers["cache-control"] == "no-store"
    # The CSP forbids inline code, so the page must not depend on any: scripts are files, and
    # the only other <script> is the workspace's JSON data block, which is never executed.
    for tag in re.findall(r"<script[^>]*>", response.text):
        assert tag in (
            '<script type="module" src="/static/console/app.js">',
            '<script type="application/json" id="console-config">',
        )
    assert "<style" not in response.text
    assert " style=" not in response.text
    assert re.search(r"\son[a-z]+=", response.text) is None


async def test_error_pages_also_carry_the_csp(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await agent_with_password(make_agent)

    response = await submit_login(client, email=agent.email, password="not the password")

    assert response.status_code == 401
    assert response.headers["content-security-policy"] == CSP


# Signing in -----------------------------------------------------------------------------


async def test_successful_login_sets_an_httponly_session_and_audits_it(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await agent_with_password(make_agent)
    token = await login_token(client)
    nonce_before = client.cookies["pd_csrf"]

    response = await client.post(
        "/console/login",
        data={"email": "  Anna.Agent@Example.TEST ", "password": PASSWORD, "csrf_token": token},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    session_header = set_cookie_header(response, "pd_session")
    assert session_header is not None
    assert "HttpOnly" in session_header
    assert "samesite=lax" in session_header.lower()
    assert "Max-Age=" in session_header
    # The CSRF nonce is renewed on sign-in, so one planted beforehand is useless.
    assert client.cookies["pd_csrf"] != nonce_before
    logins = await audit_entries(runtime, "auth.login")
    assert [(row.actor_agent_id, row.entity_id, row.ip) for row in logins] == [
        (agent.id, str(agent.id), "127.0.0.1")
    ]
    assert await session_count(runtime) == 1

    inbox = await client.get("/console")
    assert inbox.status_code == 200
    assert "Signed in as Agent 1" in inbox.text


async def test_wrong_password_shows_an_error_and_audits_the_failure(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await agent_with_password(make_agent)

    response = await submit_login(client, email=agent.email, password="correct horse battery!")

    assert response.status_code == 401
    assert 'data-testid="login-error"' in response.text
    assert "Wrong email or password." in response.text
    assert f'value="{agent.email}"' in response.text
    assert set_cookie_header(response, "pd_session") is None
    assert "pd_session" not in client.cookies
    failures = await audit_entries(runtime, "auth.login_failed")
    assert len(failures) == 1
    assert failures[0].entity_id == str(agent.id)
    assert failures[0].details == {"email": agent.email}
    assert await audit_entries(runtime, "auth.login") == []
    assert await session_count(runtime) == 0


async def test_unknown_email_gets_the_same_answer_as_a_wrong_password(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await agent_with_password(make_agent)

    response = await submit_login(client, email="nobody@example.test", password=PASSWORD)

    assert response.status_code == 401
    assert "Wrong email or password." in response.text
    failures = await audit_entries(runtime, "auth.login_failed")
    assert [(row.entity_id, row.details) for row in failures] == [
        (None, {"email": "nobody@example.test"})
    ]


@pytest.mark.parametrize("case", ["missing token", "wrong token", "no cookie"])
async def test_login_without_a_valid_csrf_token_is_refused_before_checking_the_password(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, case: str
) -> None:
    agent = await agent_with_password(make_agent)
    token = await login_token(client)
    data = {"email": agent.email, "password": PASSWORD}
    if case == "wrong token":
        data["csrf_token"] = "0" * len(token)
    elif case == "no cookie":
        data["csrf_token"] = token
        client.cookies.delete("pd_csrf")

    response = await client.post("/console/login", data=data)

    assert response.status_code == 403
    assert "Your session expired. Please try again." in response.text
    assert set_cookie_header(response, "pd_session") is None
    assert await session_count(runtime) == 0
    actions = [action for action, _, _ in await audit_actions(runtime)]
    assert "auth.login" not in actions
    assert "auth.login_failed" not in actions
    async with runtime.uow() as uow:
        assert await uow.session.scalar(select(func.count()).select_from(LoginAttempt)) == 0
    # The refusal page offers a fresh, working form.
    retry = await client.post(
        "/console/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": csrf_from(response.text)},
    )
    assert retry.status_code == 303


async def test_lockout_after_five_failures_then_unlocks_when_the_time_has_passed(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    clock: FrozenClock,
    settings: Settings,
) -> None:
    agent = await agent_with_password(make_agent)
    assert settings.login_max_failures == 5
    for _ in range(5):
        failed = await submit_login(client, email=agent.email, password="wrong password 1")
        assert failed.status_code == 401

    locked = await submit_login(client, email=agent.email, password=PASSWORD)

    assert locked.status_code == 429
    retry_after = int(locked.headers["retry-after"])
    assert settings.login_lockout_seconds <= retry_after <= settings.login_lockout_seconds + 1
    assert "Too many failed attempts. Try again in" in locked.text
    assert set_cookie_header(locked, "pd_session") is None
    assert await session_count(runtime) == 0
    assert await audit_entries(runtime, "auth.login") == []

    clock.advance(timedelta(seconds=settings.login_lockout_seconds - 1))
    still_locked = await submit_login(client, email=agent.email, password=PASSWORD)
    assert still_locked.status_code == 429
    assert 0 < int(still_locked.headers["retry-after"]) <= 2
    assert "Try again in 1 minute." in still_locked.text

    clock.advance(timedelta(seconds=2))
    unlocked = await submit_login(client, email=agent.email, password=PASSWORD)
    assert unlocked.status_code == 303
    assert set_cookie_header(unlocked, "pd_session") is not None
    assert len(await audit_entries(runtime, "auth.login")) == 1


async def test_signed_in_agent_visiting_the_login_page_goes_to_the_inbox(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    await signed_in(client, make_agent)

    response = await client.get("/console/login")

    assert response.status_code == 303
    assert response.headers["location"] == "/console"


# Signing out ----------------------------------------------------------------------------


async def test_logout_deletes_the_session_on_the_server(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await signed_in(client, make_agent)
    session_token = client.cookies["pd_session"]
    inbox = await client.get("/console")
    assert 'data-testid="logout"' in inbox.text

    response = await client.post("/console/logout", data={"csrf_token": csrf_from(inbox.text)})

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login?signed_out=1"
    assert "pd_session" not in client.cookies
    assert await session_count(runtime) == 0
    logouts = await audit_entries(runtime, "auth.logout")
    assert [row.actor_agent_id for row in logouts] == [agent.id]
    after = await client.get("/console")
    assert after.status_code == 303
    assert after.headers["location"] == "/console/login"
    # The old token is dead on the server too, not merely forgotten by the browser.
    client.cookies.set("pd_session", session_token)
    replayed = await client.get("/console")
    assert replayed.status_code == 303
    assert replayed.headers["location"] == "/console/login"
    client.cookies.delete("pd_session")
    notice = await client.get("/console/login?signed_out=1")
    assert 'data-testid="login-notice"' in notice.text
    assert "You have signed out." in notice.text


async def test_logout_without_csrf_token_keeps_the_session(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    await signed_in(client, make_agent)

    response = await client.post("/console/logout", data={"csrf_token": "f" * 64})

    assert response.status_code == 303
    assert response.headers["location"] == "/console"
    assert await session_count(runtime) == 1
    assert await audit_entries(runtime, "auth.logout") == []
    assert (await client.get("/console")).status_code == 200


@pytest.mark.parametrize("session_cookie", [None, "not-a-session-token"])
async def test_inbox_without_a_session_redirects_to_login(
    client: httpx.AsyncClient, session_cookie: str | None
) -> None:
    if session_cookie:
        client.cookies.set("pd_session", session_cookie)

    response = await client.get("/console")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


async def test_expired_session_redirects_to_login(
    client: httpx.AsyncClient, make_agent: AgentFactory, clock: FrozenClock, settings: Settings
) -> None:
    await signed_in(client, make_agent)
    clock.advance(timedelta(seconds=settings.session_ttl_seconds))

    response = await client.get("/console")

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"


# The inbox ------------------------------------------------------------------------------


async def test_inbox_escapes_player_controlled_text(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await signed_in(client, make_agent)
    await open_ticket(runtime, agent.actor, subject="<script>alert(1)</script>")

    response = await client.get("/console")

    assert response.status_code == 200
    assert response.text.count('data-testid="inbox-item"') == 1
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text


async def test_inbox_shows_translated_labels_and_keeps_raw_values_in_css_classes(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    agent = await signed_in(client, make_agent)
    ticket = await open_ticket(
        runtime,
        agent.actor,
        subject="Withdrawal pending",
        channel=Channel.WEB_CHAT,
        priority=Priority.URGENT,
    )

    english = await client.get("/console")
    polish = await client.get("/console", headers={"Accept-Language": "pl"})

    assert f'<span class="inbox-number">{ticket.number}</span>' in english.text
    assert 'data-priority="urgent"' in english.text
    assert '<span class="channel channel-web_chat">Live chat</span>' in english.text
    assert '<span class="status status-new">New</span>' in english.text
    assert '<span class="priority priority-urgent">Urgent</span>' in english.text
    assert ">web_chat<" not in english.text
    assert '<span class="channel channel-web_chat">Czat na żywo</span>' in polish.text
    assert '<span class="status status-new">Nowe</span>' in polish.text
    assert '<span class="priority priority-urgent">Pilny</span>' in polish.text
    assert '<span class="inbox-language" title="Polski">PL</span>' in polish.text
    assert '<span class="inbox-language" title="Polish">PL</span>' in english.text


async def test_inbox_pages_with_a_cursor(
    client: httpx.AsyncClient,
    make_agent: AgentFactory,
    runtime: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(routes, "INBOX_PAGE_SIZE", 2)
    agent = await signed_in(client, make_agent)
    for number in range(3):
        await open_ticket(runtime, agent.actor, subject=f"Question {number}")

    first = await client.get("/console")
    older = re.search(
        r'href="(/console\?cursor=[^"]+)" data-inbox-nav data-testid="inbox-older"', first.text
    )
    assert older is not None
    second = await client.get(older.group(1).replace("&amp;", "&"))

    assert re.findall(r"Question \d", first.text) == ["Question 2", "Question 1"]
    assert re.findall(r"Question \d", second.text) == ["Question 0"]
    assert 'data-testid="inbox-older"' not in second.text
    assert "Back to newest" in second.text
    bogus = await client.get("/console?cursor=not-a-cursor")
    assert bogus.status_code == 303
    assert bogus.headers["location"] == "/console"


async def test_empty_inbox_says_so(client: httpx.AsyncClient, make_agent: AgentFactory) -> None:
    await signed_in(client, make_agent)

    response = await client.get("/console", headers={"Accept-Language": "sv"})

    assert 'data-testid="inbox-empty"' in response.text
    assert "Inga konversationer ännu." in response.text
    assert 'data-testid="inbox-item"' not in response.text


# Languages ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept_language", "html_lang", "expected", "absent"),
    [
        (None, "en", ["Sign in", "Password", "Email"], ["Zaloguj", "Logga in"]),
        ("pl-PL,pl;q=0.9,en;q=0.5", "pl", ["Zaloguj się", "Hasło", "Adres e-mail"], ["Password"]),
        ("sv-SE, en;q=0.8", "sv", ["Logga in", "Lösenord", "E-postadress"], ["Password"]),
        ("de-DE, fr;q=0.9", "en", ["Sign in", "Password"], ["Zaloguj", "Logga in"]),
    ],
)
async def test_login_page_follows_accept_language(
    client: httpx.AsyncClient,
    accept_language: str | None,
    html_lang: str,
    expected: list[str],
    absent: list[str],
) -> None:
    headers = {"Accept-Language": accept_language} if accept_language else {}

    response = await client.get("/console/login", headers=headers)

    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in response.text
    assert response.headers["content-language"] == html_lang
    for text in expected:
        assert text in response.text
    for text in absent:
        assert text not in response.text


@pytest.mark.parametrize(
    ("language", "error", "greeting"),
    [
        ("pl", "Nieprawidłowy adres e-mail lub hasło.", "Zalogowano jako Agent 1"),
        ("sv", "Fel e-postadress eller lösenord.", "Inloggad som Agent 1"),
    ],
)
async def test_errors_and_inbox_are_translated(
    client: httpx.AsyncClient, make_agent: AgentFactory, language: str, error: str, greeting: str
) -> None:
    agent = await agent_with_password(make_agent)
    headers = {"Accept-Language": language}

    wrong = await submit_login(
        client, email=agent.email, password="nope nope nope", headers=headers
    )
    right = await submit_login(client, email=agent.email, password=PASSWORD, headers=headers)
    inbox = await client.get("/console", headers=headers)

    assert wrong.status_code == 401
    assert error in wrong.text
    assert right.status_code == 303
    assert greeting in inbox.text


async def test_language_switcher_remembers_the_choice_in_a_cookie(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/console/login", headers={"Accept-Language": "pl"})
    assert 'data-testid="language-sv"' in page.text
    pressed = re.findall(r'aria-pressed="true"\s+data-testid="language-(\w+)"', page.text)
    assert pressed == ["pl"]

    response = await client.post(
        "/console/language",
        data={"language": "sv", "next": "/console/login", "csrf_token": csrf_from(page.text)},
    )

    assert response.status_code == 303
    assert response.headers["location"] == "/console/login"
    cookie_header = set_cookie_header(response, "pd_lang")
    assert cookie_header is not None
    assert "Max-Age=31536000" in cookie_header
    assert client.cookies["pd_lang"] == "sv"
    # The cookie beats the browser's Accept-Language from now on.
    again = await client.get("/console/login", headers={"Accept-Language": "pl"})
    assert '<html lang="sv">' in again.text
    assert "Logga in" in again.text


@pytest.mark.parametrize(
    ("language", "csrf_ok"),
    [("sv", False), ("de", True), ("", True)],
)
async def test_language_switcher_ignores_forged_or_unsupported_choices(
    client: httpx.AsyncClient, language: str, csrf_ok: bool
) -> None:
    page = await client.get("/console/login")
    token = csrf_from(page.text) if csrf_ok else "0" * 64

    response = await client.post(
        "/console/language",
        data={"language": language, "next": "/console/login", "csrf_token": token},
    )

    assert response.status_code == 303
    assert set_cookie_header(response, "pd_lang") is None
    assert "pd_lang" not in client.cookies


@pytest.mark.parametrize(
    ("next_path", "location"),
    [
        ("/console", "/console"),
        ("/console?cursor=abc", "/console?cursor=abc"),
        ("https://evil.example/console", "/console"),
        ("//evil.example/console", "/console"),
        ("/\\evil.example", "/console"),
        ("/api/v1/tickets", "/console"),
        ("/consolation", "/console"),
    ],
)
async def test_language_switcher_only_redirects_within_the_console(
    client: httpx.AsyncClient, next_path: str, location: str
) -> None:
    page = await client.get("/console/login")

    response = await client.post(
        "/console/language",
        data={"language": "pl", "next": next_path, "csrf_token": csrf_from(page.text)},
    )

    assert response.status_code == 303
    assert urlsplit(response.headers["location"]).netloc == ""
    assert response.headers["location"] == location
    assert client.cookies["pd_lang"] == "pl"


async def test_lang_query_parameter_overrides_for_one_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/console/login?lang=sv", headers={"Accept-Language": "pl"})

    assert '<html lang="sv">' in response.text
    assert "pd_lang" not in client.cookies
