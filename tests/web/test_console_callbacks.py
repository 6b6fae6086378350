"""The console's callback queue: VIP first, take it, the language check, the outcome."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import select

from playerdesk.clock import FrozenClock
from playerdesk.db.models import Callback
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.permissions import Actor
from playerdesk.domain.phone import CallbackSource
from playerdesk.runtime import Runtime
from playerdesk.services import callbacks as callback_service
from playerdesk.services import players as player_service
from playerdesk.web.phone import callback_policy
from tests.conftest import AgentFactory, AgentLogin
from tests.web.test_console_workspace import (
    CSRF_FIELD,
    PASSWORD,
    cheap_password_hashing,  # noqa: F401  (an autouse fixture, used by every test here)
)

ROW_IDS = re.compile(r'data-testid="callback" data-callback-id="(\d+)"')
SCRIPT = "<script>alert(1)</script>"


async def sign_in(
    client: httpx.AsyncClient, make_agent: AgentFactory, *, languages: list[str]
) -> AgentLogin:
    agent = await make_agent(AgentRole.AGENT, password=PASSWORD, languages=languages)
    page = await client.get("/console/login")
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    signed = await client.post(
        "/console/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert signed.status_code == 303
    return agent


async def ask(
    runtime: Runtime,
    *,
    phone: str,
    language: str = "en",
    reason: str = "",
    vip_tier: str | None = None,
    name: str | None = None,
) -> int:
    """A player asks for a call; a known (and VIP) player when a tier or name is given."""
    if vip_tier or name:
        async with runtime.uow() as uow:
            await player_service.upsert_player(
                uow,
                actor=Actor.system(),
                external_id=f"casino-{phone[-4:]}",
                fields=player_service.PlayerFields(name=name, phone=phone, vip_tier=vip_tier),
                policy=runtime.policies.players,
            )
    async with runtime.uow() as uow:
        callback = await callback_service.request_callback(
            uow,
            phone=phone,
            window_from=None,
            window_until=None,
            language=language,
            reason=reason,
            source=CallbackSource.HELPCENTER,
            ip_key="198.51.100.7",
            policy=callback_policy(runtime),
        )
        return callback.id


async def stored(runtime: Runtime, callback_id: int) -> Callback:
    async with runtime.uow() as uow:
        callback = await uow.session.scalar(select(Callback).where(Callback.id == callback_id))
        assert callback is not None
        return callback


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found is not None
    return found.group(1)


async def test_the_queue_shows_vip_first_with_everything_an_agent_needs(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    first = await ask(runtime, phone="+46701234501", reason=SCRIPT)
    clock.advance(timedelta(minutes=5))
    gold = await ask(runtime, phone="+46701234502", vip_tier="gold", name="Greta Gold")
    clock.advance(timedelta(minutes=5))
    bronze = await ask(runtime, phone="+46701234503", vip_tier="bronze", name="Bo Bronze")
    await sign_in(client, make_agent, languages=["en"])

    page = await client.get("/console/callbacks")

    assert page.status_code == 200
    assert [int(found) for found in ROW_IDS.findall(page.text)] == [gold, bronze, first]
    assert 'href="tel:+46701234502"' in page.text
    assert "Greta Gold" in page.text and "Unknown caller" in page.text
    assert 'data-testid="callback-vip">VIP gold</span>' in page.text
    assert "Help centre" in page.text and "As soon as possible" in page.text
    assert SCRIPT not in page.text and "&lt;script&gt;" in page.text
    # In the top navigation, next to the inbox, on the inbox too.
    assert 'data-testid="nav-callbacks"' in page.text
    inbox = await client.get("/console")
    assert 'href="/console/callbacks"' in inbox.text


async def test_take_it_then_call_now_and_done_needs_a_note(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    callback_id = await ask(runtime, phone="+48512345678", language="pl")
    agent = await sign_in(client, make_agent, languages=["en", "pl"])
    page = await client.get("/console/callbacks")

    taken = await client.post(
        f"/console/callbacks/{callback_id}/take",
        data={"csrf_token": csrf_of(page.text), "show": "mine", "language": "pl"},
    )
    assert taken.status_code == 303
    assert taken.headers["location"] == "/console/callbacks?show=mine&saved=1"
    assert (
        (await stored(runtime, callback_id)).agent_id,
        (await stored(runtime, callback_id)).status,
    ) == (
        agent.id,
        "assigned",
    )
    mine = await client.get(taken.headers["location"])
    assert 'data-testid="saved"' in mine.text
    assert 'data-testid="call-now"' in mine.text and 'href="tel:+48512345678"' in mine.text

    without_note = await client.post(
        f"/console/callbacks/{callback_id}/outcome",
        data={"csrf_token": csrf_of(mine.text), "show": "mine", "outcome": "done", "note": " "},
    )
    assert without_note.status_code == 422
    assert "Say what was agreed on the call" in without_note.text
    assert (await stored(runtime, callback_id)).status == "assigned"

    done = await client.post(
        f"/console/callbacks/{callback_id}/outcome",
        data={
            "csrf_token": csrf_of(mine.text),
            "show": "mine",
            "outcome": "done",
            "note": "Explained the pending withdrawal.",
        },
    )
    assert done.status_code == 303
    finished = await stored(runtime, callback_id)
    assert (finished.status, finished.outcome_note, finished.attempts) == (
        "done",
        "Explained the pending withdrawal.",
        1,
    )


async def test_an_agent_who_does_not_speak_the_language_is_refused_politely(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    callback_id = await ask(runtime, phone="+48512345678", language="pl")
    await sign_in(client, make_agent, languages=["en", "sv"])
    page = await client.get("/console/callbacks")

    refused = await client.post(
        f"/console/callbacks/{callback_id}/take",
        data={"csrf_token": csrf_of(page.text), "show": "all", "language": "pl"},
    )

    assert refused.status_code == 422
    assert "Sorry, this player asked for a call in Polish, which you do not speak" in refused.text
    assert (await stored(runtime, callback_id)).status == "waiting"


async def test_failed_puts_it_back_in_the_queue_for_later(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    callback_id = await ask(runtime, phone="+46701234567")
    await sign_in(client, make_agent, languages=["en"])
    page = await client.get("/console/callbacks")
    token = csrf_of(page.text)
    await client.post(f"/console/callbacks/{callback_id}/take", data={"csrf_token": token})

    failed = await client.post(
        f"/console/callbacks/{callback_id}/outcome",
        data={"csrf_token": token, "outcome": "failed", "note": "Voicemail"},
    )

    assert failed.status_code == 303
    retry = await stored(runtime, callback_id)
    assert (retry.status, retry.agent_id, retry.attempts) == ("waiting", None, 1)
    assert retry.due_at == clock.now() + callback_policy(runtime).retry_delay
    waiting = await client.get("/console/callbacks?show=waiting")
    assert [int(found) for found in ROW_IDS.findall(waiting.text)] == [callback_id]
    assert 'data-testid="take"' in waiting.text


async def test_every_post_needs_the_csrf_token_and_a_session(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    callback_id = await ask(runtime, phone="+46701234567")
    anonymous = await client.get("/console/callbacks")
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/login"
    await sign_in(client, make_agent, languages=["en"])

    forged = await client.post(
        f"/console/callbacks/{callback_id}/take", data={"csrf_token": "0" * 64}
    )

    assert forged.status_code == 403
    assert "Your session expired" in forged.text
    assert (await stored(runtime, callback_id)).status == "waiting"
    fresh = csrf_of((await client.get("/console/callbacks")).text)
    unknown = await client.post(
        "/console/callbacks/999/outcome",
        data={"csrf_token": fresh, "outcome": "done", "note": "x"},
    )
    assert unknown.status_code == 404
    assert "No such callback" in unknown.text
