"""Routing rules, SLA policies, escalation rules, calendars, team routing, shifts, schedules
and coverage through the REST API: status codes, bodies and problem details."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import delete, select

from playerdesk.db.models import AuditEntry, EscalationRuleRow, SlaPolicyRow
from playerdesk.domain.enums import AgentRole
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import auth, routing_admin
from tests.conftest import AgentFactory, AgentLogin

API = "/api/v1"
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
async def no_shipped_configuration(runtime: Runtime) -> None:
    """The migration ships default SLA policies and escalation rules (the SQLite template
    keeps them, the PostgreSQL run truncates them): every test here starts from none."""
    async with runtime.uow() as uow:
        await uow.session.execute(delete(EscalationRuleRow))
        await uow.session.execute(delete(SlaPolicyRow))
        await uow.session.commit()


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


async def team(client: httpx.AsyncClient, admin: AgentLogin, name: str) -> int:
    response = await client.post(f"{API}/teams", json={"name": name}, headers=admin.headers)
    assert response.status_code == 201
    return int(response.json()["id"])


async def test_routing_rules_round_trip(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
    payments = await team(client, admin, "Payments")

    created = await client.post(
        f"{API}/routing-rules",
        json={"name": "Payments", "team_id": payments, "topic": "payments"},
        headers=h,
    )
    assert created.status_code == 201
    body = created.json()
    assert body["position"] == 1
    assert (body["topic"], body["language"], body["channel"], body["vip"]) == (
        "payments",
        None,
        None,
        "any",
    )
    second = await client.post(
        f"{API}/routing-rules",
        json={"name": "Polish VIP chat", "team_id": payments, "language": "pl", "vip": "vip"},
        headers=h,
    )
    assert second.status_code == 201

    updated = await client.put(
        f"{API}/routing-rules/{body['id']}",
        json={
            "name": "Payments (all)",
            "team_id": payments,
            "topic": "payments",
            "channel": "email",
        },
        headers=h,
    )
    assert updated.status_code == 200 and updated.json()["channel"] == "email"

    reordered = await client.post(
        f"{API}/routing-rules/reorder", json={"ids": [second.json()["id"], body["id"]]}, headers=h
    )
    assert reordered.status_code == 200
    assert [(rule["id"], rule["position"]) for rule in reordered.json()] == [
        (second.json()["id"], 1),
        (body["id"], 2),
    ]
    listed = await client.get(f"{API}/routing-rules", headers=h)
    assert [rule["name"] for rule in listed.json()] == ["Polish VIP chat", "Payments (all)"]

    partial = await client.post(
        f"{API}/routing-rules/reorder", json={"ids": [body["id"]]}, headers=h
    )
    assert partial.status_code == 422 and problem_fields(partial) == ["ids"]

    deleted = await client.delete(f"{API}/routing-rules/{body['id']}", headers=h)
    assert deleted.status_code == 204 and deleted.content == b""
    again = await client.delete(f"{API}/routing-rules/{body['id']}", headers=h)
    assert again.status_code == 404
    missing = await client.put(
        f"{API}/routing-rules/999", json={"name": "x", "team_id": payments}, headers=h
    )
    assert missing.status_code == 404

    async with runtime.uow() as uow:
        actions = list(
            (
                await uow.session.scalars(
                    select(AuditEntry.action)
                    .where(AuditEntry.entity_type == "routing_rule")
                    .order_by(AuditEntry.id)
                )
            ).all()
        )
    assert actions == [
        "routing_rule.created",
        "routing_rule.created",
        "routing_rule.updated",
        "routing_rules.reordered",
        "routing_rule.deleted",
    ]


async def test_bad_input_is_a_422_naming_the_field(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
    general = await team(client, admin, "General")
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("/routing-rules", {"name": "r", "team_id": 424242}, "team_id"),
        ("/routing-rules", {"name": "r", "team_id": general, "language": "xx"}, "language"),
        ("/routing-rules", {"name": "r", "team_id": general, "topic": "two words"}, "topic"),
        ("/routing-rules", {"name": "r", "team_id": general, "colour": "red"}, "colour"),
        ("/sla-policies", {"name": "p", "first_response_minutes": 0}, "first_response_minutes"),
        ("/sla-policies", {"name": "p"}, "targets"),
        ("/sla-policies", {"name": "p", "resolution_minutes": 60, "channels": ["fax"]}, "channels"),
        (
            "/sla-policies",
            {"name": "p", "resolution_minutes": 60, "warning_percent": 120},
            "warning_percent",
        ),
        ("/escalation-rules", {"name": "e", "trigger": "sometimes"}, "trigger"),
        (
            "/escalation-rules",
            {"name": "e", "trigger": "sla_breach", "move_to_team_id": 777},
            "move_to_team_id",
        ),
        (
            "/calendars",
            {"name": "c", "time_zone": "Europe/Warsaw", "intervals": []},
            "intervals",
        ),
        (
            "/calendars",
            {
                "name": "c",
                "time_zone": "Not/AZone",
                "intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
            },
            "time_zone",
        ),
        (
            "/calendars",
            {
                "name": "c",
                "time_zone": "UTC",
                "intervals": [{"weekday": 0, "start": "9am", "end": "17:00"}],
            },
            "intervals.0.start",
        ),
        ("/shifts", {"name": "s", "start": "08:00", "end": "08:00"}, "end"),
        ("/shifts", {"name": "s", "start": "08:00", "end": "16:00", "weekdays": []}, "weekdays"),
        (
            "/schedules",
            {"agent_id": admin.id, "shift_id": 5555, "starts_on": "2026-11-02"},
            "shift_id",
        ),
    ]
    for path, body, field in cases:
        response = await client.post(API + path, json=body, headers=h)
        assert response.status_code == 422, (path, body, response.text)
        assert problem_fields(response) == [field], (path, body)
        if field in ("team_id", "first_response_minutes", "intervals"):
            assert response.json()["detail"]


async def test_sla_policies_and_escalation_rules(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
    vip = await team(client, admin, "VIP")
    first = await client.post(
        f"{API}/sla-policies",
        json={
            "name": "VIP chat",
            "channels": ["web_chat"],
            "vip": "vip",
            "vip_tiers": ["gold"],
            "team_ids": [vip],
            "first_response_minutes": 1,
            "resolution_minutes": 15,
        },
        headers=h,
    )
    assert first.status_code == 201, first.text
    assert first.json()["warning_percent"] == 80
    assert first.json()["next_response_minutes"] is None
    second = await client.post(
        f"{API}/sla-policies",
        json={"name": "Chat", "channels": ["web_chat"], "first_response_minutes": 5},
        headers=h,
    )
    assert second.status_code == 201
    # The broad policy above the VIP one would hide it.
    hidden = await client.post(
        f"{API}/sla-policies/reorder",
        json={"ids": [second.json()["id"], first.json()["id"]]},
        headers=h,
    )
    assert hidden.status_code == 422 and problem_fields(hidden) == ["rules"]
    put = await client.put(
        f"{API}/sla-policies/{second.json()['id']}",
        json={"name": "Chat", "channels": ["web_chat"], "first_response_minutes": 3},
        headers=h,
    )
    assert put.status_code == 200 and put.json()["first_response_minutes"] == 3
    assert (
        await client.delete(f"{API}/sla-policies/{first.json()['id']}", headers=h)
    ).status_code == 204
    assert [p["name"] for p in (await client.get(f"{API}/sla-policies", headers=h)).json()] == [
        "Chat"
    ]

    senior = await team(client, admin, "Senior")
    no_senior = await client.post(
        f"{API}/escalation-rules",
        json={
            "name": "Late",
            "trigger": "unresolved",
            "topics": ["payments"],
            "move_to_senior": True,
        },
        headers=h,
    )
    assert no_senior.status_code == 422 and problem_fields(no_senior) == ["move_to_senior"]
    purpose = await client.patch(
        f"{API}/teams/{senior}/routing", json={"purpose": "senior"}, headers=h
    )
    assert purpose.status_code == 200
    assert purpose.json() == {
        "id": senior,
        "name": "Senior",
        "purpose": "senior",
        "calendar_id": None,
    }
    rule = await client.post(
        f"{API}/escalation-rules",
        json={
            "name": "Late",
            "trigger": "unresolved",
            "topics": ["payments"],
            "move_to_senior": True,
        },
        headers=h,
    )
    assert rule.status_code == 201
    assert (rule.json()["after_minutes"], rule.json()["raise_priority"]) == (60, True)
    clear = await client.patch(f"{API}/teams/{senior}/routing", json={"purpose": None}, headers=h)
    assert clear.status_code == 409 and problem_fields(clear) == ["purpose"]
    changed = await client.put(
        f"{API}/escalation-rules/{rule.json()['id']}",
        json={"name": "Breach", "trigger": "sla_breach", "metric": "resolution"},
        headers=h,
    )
    assert changed.status_code == 200
    assert (changed.json()["metric"], changed.json()["after_minutes"]) == ("resolution", None)
    assert (
        await client.delete(f"{API}/escalation-rules/{rule.json()['id']}", headers=h)
    ).status_code == 204


async def test_calendars_and_team_routing(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    admin = await make_agent(AgentRole.ADMIN)
    h = admin.headers
    payments = await team(client, admin, "Payments")
    body = {
        "name": "Office",
        "time_zone": "Europe/Stockholm",
        "intervals": [
            {"weekday": 0, "start": "13:00", "end": "17:00"},
            {"weekday": 0, "start": "08:00", "end": "12:00"},
            {"weekday": 4, "start": "08:00", "end": "24:00"},
        ],
        "holidays": ["2026-12-24", "2026-12-25"],
    }
    created = await client.post(f"{API}/calendars", json=body, headers=h)
    assert created.status_code == 201
    calendar = created.json()
    assert calendar["intervals"] == [
        {"weekday": 0, "start": "08:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "17:00"},
        {"weekday": 4, "start": "08:00", "end": "24:00"},
    ]
    assert calendar["holidays"] == ["2026-12-24", "2026-12-25"]
    duplicate = await client.post(f"{API}/calendars", json=body, headers=h)
    assert duplicate.status_code == 409 and problem_fields(duplicate) == ["name"]
    overlapping = {
        **body,
        "intervals": [
            {"weekday": 2, "start": "08:00", "end": "12:00"},
            {"weekday": 2, "start": "11:00", "end": "15:00"},
        ],
    }
    refused = await client.put(f"{API}/calendars/{calendar['id']}", json=overlapping, headers=h)
    assert refused.status_code == 422 and problem_fields(refused) == ["intervals"]
    assert (await client.get(f"{API}/calendars/{calendar['id']}", headers=h)).json() == calendar

    assigned = await client.patch(
        f"{API}/teams/{payments}/routing", json={"calendar_id": calendar["id"]}, headers=h
    )
    assert assigned.status_code == 200 and assigned.json()["calendar_id"] == calendar["id"]
    listing = await client.get(f"{API}/teams/routing", headers=h)
    assert {row["name"]: row["calendar_id"] for row in listing.json()} == {
        "Payments": calendar["id"]
    }
    in_use = await client.delete(f"{API}/calendars/{calendar['id']}", headers=h)
    assert in_use.status_code == 409 and problem_fields(in_use) == ["calendar_id"]
    gone = await client.patch(
        f"{API}/teams/{payments}/routing", json={"calendar_id": 999}, headers=h
    )
    assert gone.status_code == 422 and problem_fields(gone) == ["calendar_id"]
    assert (await client.patch(f"{API}/teams/999/routing", json={}, headers=h)).status_code == 404
    await client.patch(f"{API}/teams/{payments}/routing", json={"calendar_id": None}, headers=h)
    assert (await client.delete(f"{API}/calendars/{calendar['id']}", headers=h)).status_code == 204
    assert (await client.get(f"{API}/calendars/{calendar['id']}", headers=h)).status_code == 404


async def test_shifts_schedules_on_duty_and_coverage(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    # The test clock is Monday 2026-11-02 09:00 UTC.
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    h = supervisor.headers
    agent = await make_agent(AgentRole.AGENT, languages=["pl"])
    night = await client.post(
        f"{API}/shifts", json={"name": "Night", "start": "22:00", "end": "06:00"}, headers=h
    )
    assert night.status_code == 201
    assert (night.json()["start"], night.json()["end"], night.json()["weekdays"]) == (
        "22:00",
        "06:00",
        [0, 1, 2, 3, 4, 5, 6],
    )
    day = await client.post(
        f"{API}/shifts",
        json={"name": "Day", "start": "08:00", "end": "16:00", "weekdays": [0, 1, 2, 3, 4]},
        headers=h,
    )
    assert day.status_code == 201
    entry = await client.post(
        f"{API}/schedules",
        json={"agent_id": agent.id, "shift_id": day.json()["id"], "starts_on": "2026-11-02"},
        headers=h,
    )
    assert entry.status_code == 201 and entry.json()["ends_on"] is None

    on_duty = await client.get(f"{API}/shifts/on-duty", headers=h)
    assert on_duty.status_code == 200
    [row] = on_duty.json()
    assert (row["agent_id"], row["shift_name"], row["languages"]) == (agent.id, "Day", ["pl"])
    assert row["ends_at"] == "2026-11-02T16:00:00Z"

    coverage = await client.get(f"{API}/coverage", params={"days": 1}, headers=h)
    assert coverage.status_code == 200
    result = coverage.json()
    assert (result["starts_at"], result["hours"]) == ("2026-11-02T09:00:00Z", 24)
    gaps = {gap["starts_at"]: gap["missing_languages"] for gap in result["gaps"]}
    assert gaps["2026-11-02T10:00:00Z"] == ["en", "sv"]  # the Polish speaker is on
    assert gaps["2026-11-02T16:00:00Z"] == ["en", "pl", "sv"]
    assert len(result["gaps"]) == 24  # nobody speaks English all day
    assert (await client.get(f"{API}/coverage", params={"days": 15}, headers=h)).status_code == 422

    in_use = await client.delete(f"{API}/shifts/{day.json()['id']}", headers=h)
    assert in_use.status_code == 409 and problem_fields(in_use) == ["shift_id"]
    ended = await client.patch(
        f"{API}/schedules/{entry.json()['id']}", json={"ends_on": "2026-11-30"}, headers=h
    )
    assert ended.status_code == 200 and ended.json()["ends_on"] == "2026-11-30"
    mine = await client.get(f"{API}/schedules", params={"agent_id": agent.id}, headers=h)
    assert [item["id"] for item in mine.json()] == [entry.json()["id"]]
    other = await client.get(f"{API}/schedules", params={"agent_id": supervisor.id}, headers=h)
    assert other.json() == []
    assert (
        await client.delete(f"{API}/schedules/{entry.json()['id']}", headers=h)
    ).status_code == 204
    assert (await client.delete(f"{API}/shifts/{day.json()['id']}", headers=h)).status_code == 204
    renamed = await client.put(
        f"{API}/shifts/{night.json()['id']}",
        json={"name": "Late night", "start": "23:00", "end": "07:00", "time_zone": "Europe/Warsaw"},
        headers=h,
    )
    assert renamed.status_code == 200
    assert (renamed.json()["name"], renamed.json()["time_zone"]) == ("Late night", "Europe/Warsaw")


# The console pages ------------------------------------------------------------------------

CSRF_FIELD = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PASSWORD = "correct horse battery"


@pytest.fixture
def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(auth, "_hasher", hasher)
    monkeypatch.setattr(auth, "_DUMMY_HASH", hasher.hash("not a password"))


async def console_login(
    client: httpx.AsyncClient, make_agent: AgentFactory, role: AgentRole
) -> tuple[AgentLogin, str]:
    agent = await make_agent(role, password=PASSWORD)
    page = await client.get("/console/login")
    token = CSRF_FIELD.search(page.text)
    assert token is not None
    response = await client.post(
        "/console/login",
        data={"email": agent.email, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    page = await client.get("/console/admin/shifts")
    fresh = CSRF_FIELD.search(page.text)
    return agent, fresh.group(1) if fresh else ""


@pytest.mark.usefixtures("cheap_password_hashing")
@pytest.mark.parametrize("language", ["en", "pl", "sv"])
async def test_console_pages_render_for_an_admin_in_every_language(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime, language: str
) -> None:
    await console_login(client, make_agent, AgentRole.ADMIN)
    async with runtime.uow() as uow:
        await routing_admin.install_standard_floor(uow, actor=Actor.system())
    client.cookies.set("pd_lang", language)
    expected = {"en": "Routing rules", "pl": "Reguły przydziału", "sv": "Routningsregler"}[language]
    for section in ("routing", "sla", "calendars", "shifts"):
        page = await client.get(f"/console/admin/{section}")
        assert page.status_code == 200, (section, page.text[:500])
        assert page.headers["content-language"] == language
    routing = await client.get("/console/admin/routing")
    assert expected in routing.text
    assert routing.text.count('data-testid="rule-row"') == 8
    sla = await client.get("/console/admin/sla")
    assert sla.text.count('data-testid="policy-row"') == 4
    assert sla.text.count('data-testid="escalation-row"') == 3


@pytest.mark.usefixtures("cheap_password_hashing")
async def test_console_refusal_keeps_the_input_and_escapes_it(
    client: httpx.AsyncClient, make_agent: AgentFactory, runtime: Runtime
) -> None:
    _, token = await console_login(client, make_agent, AgentRole.ADMIN)
    response = await client.post(
        "/console/admin/sla/policies",
        data={
            "csrf_token": token,
            "name": "<script>alert(1)</script>",
            "first_response_minutes": "0",
            "channels": ["web_chat", "email"],
            "is_active": "1",
        },
    )
    assert response.status_code == 422
    assert 'data-field="first_response_minutes"' in response.text
    assert "A target must be longer than zero" in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>alert(1)" not in response.text
    assert 'value="web_chat" checked' in response.text and 'value="email" checked' in response.text

    forged = await client.post(
        "/console/admin/routing/rules",
        data={"csrf_token": "0" * 64, "name": "Forged", "team_id": "1"},
    )
    assert forged.status_code == 403
    async with runtime.uow() as uow:
        assert await uow.session.scalar(select(SlaPolicyRow.id)) is None

    saved = await client.post(
        "/console/admin/calendars",
        data={
            "csrf_token": token,
            "name": "Office",
            "time_zone": "Europe/Warsaw",
            "day_0": "09:00-17:00",
            "holidays": "2026-12-24",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == "/console/admin/calendars?saved=1"


@pytest.mark.usefixtures("cheap_password_hashing")
async def test_console_pages_by_role(client: httpx.AsyncClient, make_agent: AgentFactory) -> None:
    await console_login(client, make_agent, AgentRole.AGENT)
    inbox = await client.get("/console")
    assert 'data-testid="nav-admin"' not in inbox.text
    for section in ("routing", "sla", "calendars", "shifts"):
        page = await client.get(f"/console/admin/{section}")
        assert page.status_code == 403
        assert 'data-testid="forbidden"' in page.text


@pytest.mark.usefixtures("cheap_password_hashing")
async def test_a_supervisor_reads_routing_and_manages_shifts(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    _, token = await console_login(client, make_agent, AgentRole.SUPERVISOR)
    inbox = await client.get("/console")
    assert 'data-testid="nav-admin"' in inbox.text
    home = await client.get("/console/admin")
    assert home.headers["location"] == "/console/admin/shifts"
    routing = await client.get("/console/admin/routing")
    assert routing.status_code == 200 and 'data-testid="rule-form"' not in routing.text
    refused = await client.post(
        "/console/admin/calendars",
        data={"csrf_token": token, "name": "x", "time_zone": "UTC", "day_0": "09:00-17:00"},
    )
    assert refused.status_code == 403
    created = await client.post(
        "/console/admin/shifts/shifts",
        data={
            "csrf_token": token,
            "name": "Night",
            "start": "22:00",
            "end": "06:00",
            "weekdays": ["0", "1"],
            "time_zone": "UTC",
        },
    )
    assert created.status_code == 303
    page = await client.get("/console/admin/shifts")
    assert "22:00–06:00" in page.text
