"""The console's control for linking a messenger chat to a casino account, through the app with
a signed-in agent: the form on the player panel, its texts, and the action it sends (the
REST API with the page's CSRF token), after which the panel's data is the casino account."""

from __future__ import annotations

import re

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from playerdesk.db.models import AuditEntry
from playerdesk.domain.enums import Channel
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.services.messengers import (
    MessengerPolicies,
    MessengerSender,
    receive_messenger_message,
)
from tests.casino_backoffice import DemoCasino
from tests.conftest import AgentFactory
from tests.web.test_console_workspace import CSRF_META, config_of, sign_in

PRIYA = "290677"  # Priya Shah in the demo back office
FORM = re.compile(r'<form class="pc-link-chat"[^>]*data-testid="player-link-form"[^>]*>')


@pytest.fixture(autouse=True)
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def viber_conversation(runtime: Runtime) -> int:
    async with runtime.uow() as uow:
        received = await receive_messenger_message(
            uow,
            sender=MessengerSender(
                channel=Channel.VIBER, address="01234567890A==", name="Priya", language_tag="en"
            ),
            body="Hi, is my withdrawal on its way?",
            provider_message_key="viber:1",
            policies=MessengerPolicies(
                players=runtime.policies.players,
                messages=runtime.policies.messages,
                routing=runtime.policies.routing,
            ),
        )
    assert received.ticket_id is not None
    return received.ticket_id


async def test_the_panel_has_the_link_form_and_its_texts(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory
) -> None:
    await sign_in(client, make_agent)
    ticket_id = await viber_conversation(runtime)

    page = await client.get(f"/console/tickets/{ticket_id}")

    assert page.status_code == 200
    form = FORM.search(page.text)
    assert form is not None, "the player panel has the link form"
    # Hidden until the panel knows the chat has no casino account (player_context.js).
    assert " hidden" in form.group(0)
    assert 'data-testid="player-link-input"' in page.text
    assert 'name="external_id" maxlength="100"' in page.text
    assert 'data-testid="player-link-submit"' in page.text
    assert "Link to casino account" in page.text
    assert "Casino player ID" in page.text
    text = config_of(page.text)["player_context"]["text"]
    assert text["linked"] == "This chat is now linked to casino account {external_id}."
    for key in ("link_empty", "link_invalid", "link_elsewhere", "link_unavailable", "link_failed"):
        assert text[key], key
    assert text["not_found"] == "The casino's back office has no player with this ID."


async def test_the_console_links_the_chat_with_the_pages_csrf_token(
    client: httpx.AsyncClient, runtime: Runtime, make_agent: AgentFactory, connected: DemoCasino
) -> None:
    me = await sign_in(client, make_agent)
    ticket_id = await viber_conversation(runtime)
    page = (await client.get(f"/console/tickets/{ticket_id}")).text
    found = CSRF_META.search(page)
    assert found is not None
    context_url = f"/api/v1/tickets/{ticket_id}/player-context"
    assert (await client.get(context_url)).json()["account"]["state"] == "not_linked"

    forged = await client.post(
        f"/api/v1/tickets/{ticket_id}/player-link", json={"external_id": PRIYA}
    )
    linked = await client.post(
        f"/api/v1/tickets/{ticket_id}/player-link",
        json={"external_id": PRIYA},
        headers={"X-CSRF-Token": found.group(1)},
    )

    assert forged.status_code == 403
    assert linked.status_code == 200, linked.text
    # What the panel reloads: the casino account, no longer "not linked".
    context = (await client.get(context_url)).json()
    assert context["player"]["external_id"] == PRIYA
    assert context["account"]["state"] == "available"
    assert context["account"]["profile"]["name"] == "Priya Shah"
    async with runtime.uow() as uow:
        entry = await uow.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "player.linked")
        )
    assert entry is not None
    assert (entry.actor_agent_id, entry.actor_method) == (me.id, "session")
