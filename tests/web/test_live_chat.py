"""Live chat over real websockets against a real uvicorn server on loopback."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from playerdesk.clock import FrozenClock
from playerdesk.db.models import AuditEntry, Message
from playerdesk.domain import tokens
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from playerdesk.services import auth
from playerdesk.settings import Settings
from tests.conftest import AgentFactory, AgentLogin, LiveServer

PASSWORD = "correct horse battery"


async def widget_session(server: LiveServer, **body: Any) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url) as http:
        response = await http.post("/widget/v1/session", json={"language": "pl", **body})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def receive(socket: ClientConnection, wanted: str, *, within: float = 5) -> dict[str, Any]:
    """The next frame of type `wanted`, skipping others."""
    async with asyncio.timeout(within):
        while True:
            frame = json.loads(await socket.recv())
            if frame["type"] == wanted:
                return dict(frame)


async def console_login(runtime: Runtime, agent: AgentLogin) -> str:
    async with runtime.uow() as uow:
        result = await auth.login(
            uow,
            email=agent.email,
            password=PASSWORD,
            ip="127.0.0.1",
            user_agent=None,
            policy=runtime.policies.login,
        )
    return result.session_token


def console_connect(server: LiveServer, session_token: str) -> Any:
    return connect(
        f"{server.ws_url}/ws/console",
        additional_headers={"Cookie": f"pd_session={session_token}"},
        origin=server.base_url,  # type: ignore[arg-type]
    )


async def test_player_and_agent_chat_live_both_ways(
    live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(password=PASSWORD)
    cookie = await console_login(runtime, agent)
    session = await widget_session(live_server)
    assert session["conversation"] is None and session["strings"]["send"] == "Wyślij"

    async with (
        console_connect(live_server, cookie) as console,
        connect(f"{live_server.ws_url}/ws/widget?token={session['token']}") as widget,
    ):
        await console.send(json.dumps({"type": "hello"}))
        welcome = await receive(console, "welcome")
        assert welcome["agent"]["id"] == agent.id

        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        assert (await receive(widget, "welcome"))["conversation"] is None

        client_msg_id = str(uuid.uuid4())
        await widget.send(
            json.dumps(
                {
                    "type": "message.send",
                    "client_msg_id": client_msg_id,
                    "body": "Gdzie moja wypłata?",
                }
            )
        )
        ack = await receive(widget, "message.ack")
        assert ack["client_msg_id"] == client_msg_id
        ticket_id = ack["message"]["ticket_id"]

        created = await receive(console, "ticket.created")
        assert created["ticket"]["id"] == ticket_id
        assert created["ticket"]["channel"] == "web_chat"
        activity = await receive(console, "inbox.activity")
        assert "body" not in activity  # unwatched conversations get no message text

        await console.send(json.dumps({"type": "watch", "ticket_id": ticket_id}))
        assert (await receive(console, "watching"))["ticket_id"] == ticket_id
        await widget.send(json.dumps({"type": "typing", "typing": True}))
        typing = await receive(console, "typing")
        assert typing == {"type": "typing", "ticket_id": ticket_id, "typing": True}

        await console.send(json.dumps({"type": "typing", "ticket_id": ticket_id, "typing": True}))
        assert (await receive(widget, "typing"))["typing"] is True

        async with httpx.AsyncClient(base_url=live_server.base_url) as http:
            note = await http.post(
                f"/api/v1/tickets/{ticket_id}/messages",
                json={"body": "internal: check PSP", "kind": "note"},
                headers=agent.headers,
            )
            reply = await http.post(
                f"/api/v1/tickets/{ticket_id}/messages",
                json={"body": "Już sprawdzam!", "kind": "reply"},
                headers=agent.headers,
            )
        assert note.status_code == reply.status_code == 201
        posted = await receive(console, "message.posted")
        assert posted["message"]["body"] == "internal: check PSP"
        assert posted["message"]["kind"] == "note"
        new = await receive(widget, "message.new")
        # The note was posted first but never reaches the player: the first frame is the reply.
        assert new["message"]["body"] == "Już sprawdzam!"
        assert new["message"]["author"] == "agent"

        await widget.send(json.dumps({"type": "receipt", "read_up_to": new["message"]["id"]}))
        receipt = await receive(console, "receipt")
        assert receipt["read_up_to"] == new["message"]["id"]


async def test_reconnect_catches_up_without_loss_or_duplicates(
    live_server: LiveServer, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    session = await widget_session(live_server)
    url = f"{live_server.ws_url}/ws/widget?token={session['token']}"
    async with connect(url) as widget:
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        await receive(widget, "welcome")
        await widget.send(
            json.dumps({"type": "message.send", "client_msg_id": "m-1", "body": "Hi"})
        )
        ack = await receive(widget, "message.ack")
    ticket_id, last_seen = ack["message"]["ticket_id"], ack["message"]["id"]

    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        for text in ("one", "two"):
            response = await http.post(
                f"/api/v1/tickets/{ticket_id}/messages",
                json={"body": text},
                headers=agent.headers,
            )
            assert response.status_code == 201

    async with connect(url) as widget:
        await widget.send(json.dumps({"type": "hello", "last_seen_id": last_seen}))
        welcome = await receive(widget, "welcome")
        assert [m["body"] for m in welcome["messages"]] == ["one", "two"]
        # The unacknowledged message is resent with its id after the reconnect: stored once.
        await widget.send(
            json.dumps({"type": "message.send", "client_msg_id": "m-1", "body": "Hi"})
        )
        again = await receive(widget, "message.ack")
        assert again["message"]["id"] == last_seen

    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        history = await http.get(f"/api/v1/tickets/{ticket_id}/messages", headers=agent.headers)
    assert [m["body"] for m in history.json()] == ["Hi", "one", "two"]


async def test_bad_or_expired_token_closes_with_4401(
    live_server: LiveServer, clock: FrozenClock
) -> None:
    for token in ("", "garbage", "a.b"):
        async with connect(f"{live_server.ws_url}/ws/widget?token={token}") as widget:
            with pytest.raises(ConnectionClosed) as closed:
                await widget.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    session = await widget_session(live_server)
    clock.advance(timedelta(hours=2))
    async with connect(f"{live_server.ws_url}/ws/widget?token={session['token']}") as widget:
        with pytest.raises(ConnectionClosed) as closed:
            await widget.recv()
    assert closed.value.rcvd is not None
    assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "the token has expired")


async def test_console_socket_needs_a_session_and_our_origin(
    live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory
) -> None:
    async with connect(f"{live_server.ws_url}/ws/console") as console:
        with pytest.raises(ConnectionClosed) as closed:
            await console.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401

    agent = await make_agent(password=PASSWORD)
    cookie = await console_login(runtime, agent)
    async with connect(
        f"{live_server.ws_url}/ws/console",
        additional_headers={"Cookie": f"pd_session={cookie}"},
        origin="https://evil.example",  # type: ignore[arg-type]
    ) as console:
        with pytest.raises(ConnectionClosed) as closed:
            await console.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403


async def flood(socket: ClientConnection) -> None:
    for _ in range(200):
        await socket.send(json.dumps({"type": "ping"}))
    while True:
        await socket.recv()


async def test_a_flood_is_cut_off_without_affecting_others(live_server: LiveServer) -> None:
    calm_session, loud_session = (
        await widget_session(live_server),
        await widget_session(live_server),
    )
    async with (
        connect(f"{live_server.ws_url}/ws/widget?token={calm_session['token']}") as calm,
        connect(f"{live_server.ws_url}/ws/widget?token={loud_session['token']}") as loud,
    ):
        for socket in (calm, loud):
            await socket.send(json.dumps({"type": "hello"}))
            await receive(socket, "welcome")
        with pytest.raises(ConnectionClosed) as closed:
            await flood(loud)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4429
        await calm.send(json.dumps({"type": "ping"}))
        assert (await receive(calm, "pong"))["type"] == "pong"


async def test_a_message_to_someone_elses_conversation_is_refused_and_audited(
    live_server: LiveServer, runtime: Runtime
) -> None:
    victim, attacker = await widget_session(live_server), await widget_session(live_server)
    async with connect(f"{live_server.ws_url}/ws/widget?token={victim['token']}") as socket:
        await socket.send(json.dumps({"type": "hello"}))
        await receive(socket, "welcome")
        await socket.send(json.dumps({"type": "message.send", "client_msg_id": "v1", "body": "x"}))
        victim_ticket = (await receive(socket, "message.ack"))["message"]["ticket_id"]
    async with connect(f"{live_server.ws_url}/ws/widget?token={attacker['token']}") as socket:
        await socket.send(json.dumps({"type": "hello"}))
        await receive(socket, "welcome")
        await socket.send(
            json.dumps(
                {
                    "type": "message.send",
                    "client_msg_id": "a1",
                    "body": "hi",
                    "ticket_id": victim_ticket,
                }
            )
        )
        error = await receive(socket, "error")
    assert error["code"] == "forbidden" and error["client_msg_id"] == "a1"
    async with runtime.uow() as uow:
        refused = (
            await uow.session.scalars(
                select(AuditEntry).where(AuditEntry.action == "widget.foreign_ticket_refused")
            )
        ).all()
    assert [entry.entity_id for entry in refused] == [str(victim_ticket)]


async def test_identity_verification_binds_the_widget_to_the_casino_player(
    live_server: LiveServer, runtime: Runtime, settings: Settings, make_agent: AgentFactory
) -> None:
    runtime.settings = settings.model_copy(update={"widget_identity_secret": "casino-shared"})
    good = tokens.player_hash("C-77", secret="casino-shared")
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        forged = await http.post(
            "/widget/v1/session", json={"player": {"id": "C-78", "hash": good}}
        )
        assert forged.status_code == 401
        assert forged.json()["errors"][0]["field"] == "player.hash"
        ok = await http.post("/widget/v1/session", json={"player": {"id": "C-77", "hash": good}})
        assert ok.status_code == 200 and ok.json()["visitor_token"] is None
    async with connect(f"{live_server.ws_url}/ws/widget?token={ok.json()['token']}") as socket:
        await socket.send(json.dumps({"type": "hello"}))
        await receive(socket, "welcome")
        await socket.send(
            json.dumps({"type": "message.send", "client_msg_id": "c1", "body": "hej"})
        )
        ticket_id = (await receive(socket, "message.ack"))["message"]["ticket_id"]
    agent = await make_agent(AgentRole.AGENT)
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        ticket = (await http.get(f"/api/v1/tickets/{ticket_id}", headers=agent.headers)).json()
        player = await http.get("/api/v1/players/C-77", headers=agent.headers)
    assert player.json()["id"] == ticket["player_id"]


async def test_a_failing_frame_is_refused_but_the_socket_lives_on(
    live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from playerdesk.services import chat

    real = chat.post_widget_message
    calls = 0

    async def flaky(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("no database connection free")  # as under overload
        return await real(*args, **kwargs)

    monkeypatch.setattr(chat, "post_widget_message", flaky)
    session = await widget_session(live_server)
    async with connect(f"{live_server.ws_url}/ws/widget?token={session['token']}") as widget:
        await widget.send(json.dumps({"type": "hello"}))
        await receive(widget, "welcome")
        frame = {"type": "message.send", "client_msg_id": "retry-me", "body": "Hallo?"}
        await widget.send(json.dumps(frame))
        error = await receive(widget, "error")
        assert (error["code"], error["client_msg_id"]) == ("unavailable", "retry-me")
        await widget.send(json.dumps(frame))  # the widget's resend
        ack = await receive(widget, "message.ack")
        assert ack["message"]["body"] == "Hallo?"


async def test_inbox_activity_is_coalesced_without_losing_unread_counts(
    live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(password=PASSWORD)
    cookie = await console_login(runtime, agent)
    session = await widget_session(live_server)
    async with (
        console_connect(live_server, cookie) as console,
        connect(f"{live_server.ws_url}/ws/widget?token={session['token']}") as widget,
    ):
        await console.send(json.dumps({"type": "hello"}))
        await receive(console, "welcome")
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        await receive(widget, "welcome")
        acks = []
        for index in range(5):
            frame = {"type": "message.send", "client_msg_id": f"c-{index}", "body": f"m{index}"}
            await widget.send(json.dumps(frame))
            acks.append(await receive(widget, "message.ack"))
        newest = acks[-1]["message"]["id"]
        first = await receive(console, "inbox.activity")
        assert first["message_id"] == acks[0]["message"]["id"]  # after a quiet spell: at once
        entries = [first]
        async with asyncio.timeout(5):
            while entries[-1]["message_id"] != newest:
                frame = json.loads(await console.recv())
                if frame["type"] == "inbox.activity":
                    entries.append(frame)
                elif frame["type"] == "inbox.activities":
                    entries.extend(frame["items"])
        # However they were gathered, the entries count every player message once.
        assert sum(entry["player_messages"] for entry in entries) == 5
        assert sum(entry["messages"] for entry in entries) == 5
        assert all(entry["author"] == "player" and "body" not in entry for entry in entries)


async def test_an_agent_replies_over_the_console_socket(
    live_server: LiveServer, runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(password=PASSWORD)
    cookie = await console_login(runtime, agent)
    session = await widget_session(live_server)
    async with (
        console_connect(live_server, cookie) as console,
        connect(f"{live_server.ws_url}/ws/widget?token={session['token']}") as widget,
    ):
        await widget.send(json.dumps({"type": "hello", "last_seen_id": 0}))
        await receive(widget, "welcome")
        await widget.send(
            json.dumps({"type": "message.send", "client_msg_id": "p-1", "body": "Hej?"})
        )
        ticket_id = (await receive(widget, "message.ack"))["message"]["ticket_id"]
        await console.send(json.dumps({"type": "hello"}))
        await receive(console, "welcome")

        note = {"type": "message.send", "ticket_id": ticket_id, "client_msg_id": "a-1"}
        await console.send(json.dumps({**note, "kind": "note", "body": "check the PSP"}))
        noted = await receive(console, "message.ack")
        reply = {**note, "client_msg_id": "a-2", "body": "Już sprawdzam!"}
        await console.send(json.dumps(reply))
        acked = await receive(console, "message.ack")
        assert acked["client_msg_id"] == "a-2" and acked["replayed"] is False
        new = await receive(widget, "message.new")
        while new["message"]["author"] != "agent":  # the player's own message comes back too
            new = await receive(widget, "message.new")
        assert new["message"]["id"] == acked["message"]["id"] != noted["message"]["id"]
        assert acked["message"]["body"] == "Już sprawdzam!" and acked["message"]["kind"] == "reply"
        assert new["message"]["body"] == "Już sprawdzam!"  # the note never reached the player

        # A resend (the console lost the ack) stores nothing new and gets the first message.
        await console.send(json.dumps(reply))
        again = await receive(console, "message.ack")
        assert (again["message"]["id"], again["replayed"]) == (acked["message"]["id"], True)

        await console.send(json.dumps({**note, "client_msg_id": "a-3", "kind": "shout"}))
        wrong = await receive(console, "error")
        assert (wrong["code"], wrong["field"], wrong["client_msg_id"]) == ("invalid", "kind", "a-3")
        too_long = "x" * (runtime.policies.messages.max_chars + 1)
        await console.send(json.dumps({**note, "client_msg_id": "a-4", "body": too_long}))
        refused = await receive(console, "error")
        assert refused["client_msg_id"] == "a-4" and refused["field"] == "body"

        # Replies are stored beside the socket's other frames, but in one conversation
        # in the order they were sent.
        for index in range(5):
            quick = {**note, "client_msg_id": f"q-{index}", "body": f"part {index}"}
            await console.send(json.dumps(quick))
        acks = [await receive(console, "message.ack") for _ in range(5)]
        assert [ack["client_msg_id"] for ack in acks] == [f"q-{index}" for index in range(5)]

    async with runtime.read_uow() as uow:
        bodies = await uow.session.scalars(
            select(Message.body).where(Message.ticket_id == ticket_id).order_by(Message.id)
        )
        parts = [f"part {index}" for index in range(5)]
        assert list(bodies) == ["Hej?", "check the PSP", "Już sprawdzam!", *parts]
