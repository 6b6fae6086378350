"""Every client mistake is a 4xx problem+json naming the field, and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from playerdesk.db.models import ChannelIdentity, Message, Player, Tag, Ticket
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from playerdesk.settings import Settings
from tests.conftest import AgentFactory, AgentLogin, RecordingBus

API = "/api/v1"
PROBLEM = "application/problem+json"


def ticket_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "channel": "email",
        "subject": "Where is my withdrawal?",
        "body": "I asked for 200 EUR three days ago.",
        "player": {"external_id": "P-100", "email": "anna@example.test"},
    }
    body.update(overrides)
    return body


async def rows(runtime: Runtime, model: type[Any]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def assert_nothing_written(runtime: Runtime, bus: RecordingBus) -> None:
    for model in (Ticket, Player, Message, Tag, ChannelIdentity):
        assert await rows(runtime, model) == 0, model.__name__
    assert bus.types() == []


def assert_problem(response: httpx.Response, status: int, *fields: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    problem: dict[str, Any] = response.json()
    assert problem["status"] == status
    assert problem["type"].startswith("urn:playerdesk:problem:")
    assert problem["title"]
    assert problem["detail"]
    if fields:
        named = [error["field"] for error in problem["errors"]]
        assert sorted(named) == sorted(fields), problem
        assert all(error["message"] for error in problem["errors"])
    return problem


@pytest.fixture
async def agent(make_agent: AgentFactory) -> AgentLogin:
    return await make_agent()


async def post_ticket(
    client: httpx.AsyncClient, agent: AgentLogin, body: Any = None, *, raw: Any = None
) -> httpx.Response:
    if raw is not None:
        headers = {**agent.headers, "content-type": "application/json"}
        return await client.post(f"{API}/tickets", content=raw, headers=headers)
    return await client.post(f"{API}/tickets", json=body, headers=agent.headers)


# --- malformed, unknown, wrong and missing ----------------------------------------------


async def test_malformed_json_is_400(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, bus: RecordingBus
) -> None:
    for raw in [b"{", b'{"channel": "email",}', b"not json", b'{"subject": "\xff\xfe"}', b"\x00"]:
        assert_problem(await post_ticket(client, agent, raw=raw), 400, "body")
    await assert_nothing_written(runtime, bus)


async def test_json_nested_too_deep_is_400_not_500(
    client: httpx.AsyncClient, agent: AgentLogin
) -> None:
    response = await post_ticket(client, agent, raw=b"[" * 50_000 + b"]" * 50_000)
    assert_problem(response, 400, "body")


UNKNOWN_FIELDS: list[tuple[Any, list[str]]] = [
    (ticket_body(colour="red"), ["colour"]),
    (ticket_body(player={"external_id": "P-1", "vip": True}), ["player.vip"]),
    (ticket_body(id=5, number=7), ["id", "number"]),
]


async def test_unknown_fields_are_422(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, bus: RecordingBus
) -> None:
    for body, fields in UNKNOWN_FIELDS:
        problem = assert_problem(await post_ticket(client, agent, body), 422, *fields)
        assert {error["message"] for error in problem["errors"]} == {"unknown field"}
    await assert_nothing_written(runtime, bus)


WRONG_TYPES: list[tuple[Any, list[str]]] = [
    (ticket_body(channel=5), ["channel"]),
    (ticket_body(channel="carrier_pigeon"), ["channel"]),
    (ticket_body(priority="extreme"), ["priority"]),
    (ticket_body(subject=["a"]), ["subject"]),
    (ticket_body(player="P-100"), ["player"]),
    (ticket_body(player={"external_id": 100}), ["player.external_id"]),
    (ticket_body(tags="vip"), ["tags"]),
    (ticket_body(tags=[1, 2]), ["tags.0", "tags.1"]),
    (ticket_body(team_id="one"), ["team_id"]),
    (ticket_body(team_id=2**63), ["team_id"]),
    (ticket_body(assignee_id=0), ["assignee_id"]),
    (ticket_body(subject="x" * 301), ["subject"]),
    ([ticket_body()], ["body"]),
    ("a string", ["body"]),
    (None, ["body"]),
]


async def test_wrong_types_are_422_naming_the_field(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, bus: RecordingBus
) -> None:
    for body, fields in WRONG_TYPES:
        if body is None:
            response = await post_ticket(client, agent, raw=b"null")
        else:
            response = await post_ticket(client, agent, body)
        assert_problem(response, 422, *fields)
    await assert_nothing_written(runtime, bus)


async def test_lone_surrogate_is_422(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, bus: RecordingBus
) -> None:
    raw = (
        b'{"channel": "email", "subject": "Hi \\ud800", "body": "b",'
        b' "player": {"external_id": "P-\\udfff"}}'
    )
    assert_problem(await post_ticket(client, agent, raw=raw), 422, "subject", "player.external_id")
    await assert_nothing_written(runtime, bus)


async def test_missing_fields_are_422_and_required(
    client: httpx.AsyncClient, agent: AgentLogin
) -> None:
    problem = assert_problem(
        await post_ticket(client, agent, {"channel": "email"}), 422, "subject", "body", "player"
    )
    assert {error["message"] for error in problem["errors"]} == {"this field is required"}


REJECTED_CREATES: list[tuple[dict[str, Any], int, str]] = [
    ({"subject": "   "}, 422, "subject"),
    ({"body": "   "}, 422, "body"),
    ({"body": "x" * 20_001}, 422, "body"),
    ({"player": {"name": "No id, no email"}}, 422, "player"),
    ({"player": {"external_id": "   "}}, 422, "player.external_id"),
    ({"player": {"external_id": "P-1", "email": "not-an-email"}}, 422, "player.email"),
    ({"player": {"email": "not-an-email"}}, 422, "player.email"),
    ({"player": {"external_id": "P-1", "language": "xx"}}, 422, "player.language"),
    ({"language": "xx"}, 422, "language"),
    ({"tags": ["two words"]}, 422, "tags"),
    ({"tags": [f"t{n}" for n in range(21)]}, 422, "tags"),
    ({"team_id": 999}, 422, "team_id"),
    ({"assignee_id": 999}, 422, "assignee_id"),
    ({"subject": "nul \x00 byte"}, 422, "subject"),
    ({"body": "nul \x00 byte"}, 422, "body"),
    ({"player": {"external_id": "P\x00"}}, 422, "player.external_id"),
    ({"tags": ["a\x00"]}, 422, "tags"),
]


async def test_rejected_create_writes_no_ticket_and_no_player(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, bus: RecordingBus
) -> None:
    # Each case gets far enough to touch the player, tags or counter before it fails.
    for overrides, status, field in REJECTED_CREATES:
        assert_problem(await post_ticket(client, agent, ticket_body(**overrides)), status, field)
        await assert_nothing_written(runtime, bus)


async def test_email_of_another_player_is_409_and_rolls_everything_back(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, bus: RecordingBus
) -> None:
    first = await post_ticket(client, agent, ticket_body(tags=["kyc"]))
    assert first.status_code == 201
    bus.published.clear()

    clash = await post_ticket(
        client,
        agent,
        ticket_body(player={"external_id": "P-999", "email": "anna@example.test"}, tags=["new"]),
    )
    assert_problem(clash, 409, "player.email")
    assert await rows(runtime, Ticket) == 1
    assert await rows(runtime, Player) == 1
    assert await rows(runtime, Message) == 1
    assert await rows(runtime, Tag) == 1
    assert bus.types() == []


# --- ids, cursors, query parameters ---------------------------------------------------

BAD_IDS = [str(2**63), str(2**64 + 5), "0", "-1", "1.5", "abc", "1e3"]


@pytest.mark.parametrize(
    ("method", "template", "field"),
    [
        ("GET", "/tickets/{}", "ticket_id"),
        ("PATCH", "/tickets/{}", "ticket_id"),
        ("GET", "/tickets/{}/messages", "ticket_id"),
        ("POST", "/tickets/{}/messages", "ticket_id"),
        ("POST", "/tickets/{}/attachments", "ticket_id"),
        ("GET", "/attachments/{}", "attachment_id"),
        ("GET", "/agents/{}", "agent_id"),
        ("PATCH", "/agents/{}", "agent_id"),
        ("PATCH", "/teams/{}", "team_id"),
        ("DELETE", "/tokens/{}", "token_id"),
    ],
)
async def test_bad_ids_in_paths_are_422_not_500(
    client: httpx.AsyncClient, make_agent: AgentFactory, method: str, template: str, field: str
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    for value in BAD_IDS:
        url = API + template.format(value)
        if template.endswith("attachments"):
            files = {"file": ("a.txt", b"hello", "text/plain")}
            response = await client.request(method, url, files=files, headers=admin.headers)
        else:
            body = {"body": "x"} if method == "POST" else ({} if method == "PATCH" else None)
            response = await client.request(method, url, json=body, headers=admin.headers)
        problem = assert_problem(response, 422)
        assert field in [error["field"] for error in problem["errors"]], (value, problem)


BAD_FILTERS = [
    (f"team_id={2**63}", "team_id"),
    ("assignee_id=-3", "assignee_id"),
    ("player_id=x", "player_id"),
    ("status=lost", "status.0"),
    ("status=open&status=lost", "status.1"),
    ("channel=fax", "channel"),
    ("priority=9", "priority"),
    ("limit=0", "limit"),
    ("limit=101", "limit"),
    ("unassigned=perhaps", "unassigned"),
    ("text=" + "x" * 201, "text"),
    ("text=a%00b", "text"),
    ("tag=a%00", "tag"),
]


async def test_bad_ticket_filters_are_422(client: httpx.AsyncClient, agent: AgentLogin) -> None:
    for query, field in BAD_FILTERS:
        response = await client.get(f"{API}/tickets?{query}", headers=agent.headers)
        assert_problem(response, 422, field)


BAD_CURSORS = [
    "zzz",
    "W10",  # base64 of []
    "eyJiZWZvcmUiOiJ4In0",  # {"before":"x"}
    "eyJiZWZvcmUiOi0xfQ",  # {"before":-1}
    "eyJiZWZvcmUiOjkyMjMzNzIwMzY4NTQ3NzU4MDh9",  # {"before":2**63}
    "eyJiZWZvcmUiOnRydWV9",  # {"before":true}
    "%C3%A9%C3%A9",
    "%ED%A0%80",  # a lone surrogate, percent-encoded
    "a%00",
    "x" * 201,
]


@pytest.mark.parametrize("path", ["/tickets", "/audit"])
async def test_bad_cursor_is_422_naming_cursor(
    client: httpx.AsyncClient, make_agent: AgentFactory, path: str
) -> None:
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    for cursor in BAD_CURSORS:
        response = await client.get(f"{API}{path}?cursor={cursor}", headers=supervisor.headers)
        assert_problem(response, 422, "cursor")


# --- sizes ---------------------------------------------------------------------------


async def test_body_over_the_limit_by_content_length_is_413(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    settings: Settings,
    runtime: Runtime,
    bus: RecordingBus,
) -> None:
    padding = "x" * settings.max_request_bytes
    response = await post_ticket(client, agent, ticket_body(body=padding))
    assert_problem(response, 413, "body")
    await assert_nothing_written(runtime, bus)


async def test_streamed_chunked_body_over_the_limit_is_413(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    settings: Settings,
    runtime: Runtime,
    bus: RecordingBus,
) -> None:
    chunk = b" " * 64 * 1024
    chunks = settings.max_request_bytes // len(chunk) + 2

    async def stream() -> AsyncIterator[bytes]:
        yield b'{"channel": "email", "subject": "s", "body": "'
        for _ in range(chunks):
            yield chunk
        yield b'", "player": {"external_id": "P-1"}}'

    response = await post_ticket(client, agent, raw=stream())
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "body")
    await assert_nothing_written(runtime, bus)


async def test_body_just_under_the_limit_is_judged_on_its_fields(
    client: httpx.AsyncClient, agent: AgentLogin, settings: Settings
) -> None:
    # Under the request limit but over the message limit: a 422 on the field, not a 413.
    body = ticket_body(body="y" * (settings.max_request_bytes - 1000))
    assert_problem(await post_ticket(client, agent, body), 422, "body")


# --- states, identities, permissions ---------------------------------------------------


async def test_illegal_transition_is_409_and_changes_nothing(
    client: httpx.AsyncClient, agent: AgentLogin, bus: RecordingBus
) -> None:
    ticket = (await post_ticket(client, agent, ticket_body())).json()
    bus.published.clear()
    response = await client.patch(
        f"{API}/tickets/{ticket['id']}",
        json={"status": "closed", "priority": "urgent"},
        headers=agent.headers,
    )
    problem = assert_problem(response, 409, "status")
    assert problem["type"] == "urn:playerdesk:problem:invalid_transition"
    after = (await client.get(f"{API}/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert (after["status"], after["priority"]) == ("new", "normal")
    assert bus.types() == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": None}, "status"),
        ({"priority": None}, "priority"),
        ({"status": "done"}, "status"),
        ({"assignee_id": 12345}, "assignee_id"),
        ({"team_id": 12345}, "team_id"),
        ({"language": "klingon"}, "language"),
        ({"tags": ["ok", ""]}, "tags"),
        ({"number": 5}, "number"),
    ],
)
async def test_bad_ticket_patch_is_422(
    client: httpx.AsyncClient, agent: AgentLogin, body: dict[str, Any], field: str
) -> None:
    ticket = (await post_ticket(client, agent, ticket_body())).json()
    response = await client.patch(f"{API}/tickets/{ticket['id']}", json=body, headers=agent.headers)
    assert_problem(response, 422, field)
    after = (await client.get(f"{API}/tickets/{ticket['id']}", headers=agent.headers)).json()
    assert after == ticket


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"body": ""}, "body"),
        ({"body": "x", "kind": "shout"}, "kind"),
        ({"body": "x", "client_msg_id": ""}, "client_msg_id"),
        ({"body": "x", "attachment_ids": [99]}, "attachment_ids"),
        ({"body": "x", "author": "player"}, "author"),
    ],
)
async def test_bad_message_is_422(
    client: httpx.AsyncClient,
    agent: AgentLogin,
    runtime: Runtime,
    body: dict[str, Any],
    field: str,
) -> None:
    ticket = (await post_ticket(client, agent, ticket_body())).json()
    response = await client.post(
        f"{API}/tickets/{ticket['id']}/messages", json=body, headers=agent.headers
    )
    assert_problem(response, 422, field)
    assert await rows(runtime, Message) == 1


BAD_CREDENTIALS: list[dict[str, str]] = [
    {},
    {"Authorization": "Bearer"},
    {"Authorization": "Bearer    "},
    {"Authorization": "Basic dXNlcjpwYXNz"},
    {"Authorization": "Bearer pdt_not-a-real-token"},
    {"Cookie": "pd_session=forged"},
]


async def test_missing_or_bad_credentials_are_401(
    client: httpx.AsyncClient, runtime: Runtime, bus: RecordingBus
) -> None:
    for headers in BAD_CREDENTIALS:
        for method, path in [("GET", "/tickets"), ("POST", "/tickets"), ("GET", "/players/P-1")]:
            body = ticket_body() if method == "POST" else None
            response = await client.request(method, API + path, json=body, headers=headers)
            assert_problem(response, 401)
            assert response.headers["www-authenticate"] == "Bearer"
    await assert_nothing_written(runtime, bus)


async def test_unknown_route_and_method_are_problems(
    client: httpx.AsyncClient, agent: AgentLogin
) -> None:
    assert_problem(await client.get(f"{API}/nothing-here", headers=agent.headers), 404)
    assert_problem(await client.delete(f"{API}/tickets", headers=agent.headers), 405)


async def test_form_encoded_body_where_json_is_expected_is_422(
    client: httpx.AsyncClient, agent: AgentLogin
) -> None:
    response = await client.post(f"{API}/tickets", data={"channel": "email"}, headers=agent.headers)
    assert_problem(response, 422)


# --- fuzz ------------------------------------------------------------------------------

# Text with the characters that break naive storage and LIKE patterns mixed in. (Lone
# surrogates cannot be sent by httpx's JSON encoder; test_lone_surrogate_is_422 sends them.)
specials = st.sampled_from(["\x00", "%", "_", "\\", "'", "\u202e"])
texts = st.lists(st.characters(codec="utf-8") | specials, max_size=40).map("".join)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=8,
)


words = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "N", "P", "Zs"]), max_size=40
).filter(str.strip)
valid_players = st.one_of(
    st.fixed_dictionaries({"external_id": st.sampled_from(["P-1", "P-2", " P-3 "]) | words}),
    st.fixed_dictionaries({"email": st.emails() | st.sampled_from(["A@EXAMPLE.test"])}),
).flatmap(
    lambda player: st.fixed_dictionaries(
        {key: st.just(value) for key, value in player.items()},
        optional={"name": words, "language": st.sampled_from(["en", "pl", "SV"])},
    )
)
valid_tickets = st.fixed_dictionaries(
    {
        "channel": st.sampled_from(["email", "web_chat", "phone", "api"]),
        "subject": words,
        "body": words,
        "player": valid_players,
    },
    optional={
        "priority": st.sampled_from(["low", "normal", "urgent"]),
        "language": st.sampled_from(["en", "sv"]),
        "topic": words,
        "assignee_id": st.just(1),
        "tags": st.lists(st.sampled_from(["vip", "KYC", "payout"]), max_size=3),
        "client_msg_id": words,
    },
)
FIELDS = [
    "channel",
    "subject",
    "body",
    "player",
    "priority",
    "language",
    "topic",
    "tags",
    "team_id",
    "assignee_id",
    "client_msg_id",
]
# Well-formed bodies with one text field carrying a character that storage might choke on,
# well-formed bodies with a field or two replaced by anything JSON can hold, and junk.
nasty_texts = st.tuples(words, specials, texts).map("".join)
nasty_tickets = st.builds(
    lambda base, field, value: {**base, field: value},
    valid_tickets,
    st.sampled_from(["subject", "body", "topic", "client_msg_id"]),
    nasty_texts,
) | st.builds(
    lambda base, field, value: {**base, "player": {**base["player"], field: value}},
    valid_tickets,
    st.sampled_from(["name", "external_id"]),
    nasty_texts,
)
mutated_tickets = st.builds(
    lambda base, broken: {**base, **broken},
    valid_tickets,
    st.dictionaries(st.sampled_from([*FIELDS, "unknown"]), texts | json_values, max_size=2),
)
ticket_bodies = st.one_of(nasty_tickets, mutated_tickets, json_values)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # No shrinking: against a database that just failed it can take minutes, and the
    # failing body is reported as it is.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(body=ticket_bodies)
async def test_fuzzed_ticket_bodies_never_cause_a_5xx(
    client: httpx.AsyncClient, agent: AgentLogin, runtime: Runtime, body: Any
) -> None:
    before = await rows(runtime, Ticket)
    response = await client.post(f"{API}/tickets", json=body, headers=agent.headers)
    assert response.status_code < 500, response.text
    after = await rows(runtime, Ticket)
    if response.status_code == 201:
        assert after == before + 1
        assert response.json()["id"] > 0
    else:
        assert response.headers["content-type"] == PROBLEM
        assert after == before
        assert response.json()["status"] == response.status_code
