"""The role matrix: for each endpoint, the status every role (and nobody) gets.

agent < senior < supervisor < admin. Agents cannot manage agents or read the audit log;
supervisors can, but cannot create or edit admins; nobody grants a role above their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from playerdesk.domain.enums import AgentRole
from tests.conftest import AgentFactory

API = "/api/v1"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# Columns: nobody, agent, senior, supervisor, admin.
ROLES: list[AgentRole | None] = [
    None,
    AgentRole.AGENT,
    AgentRole.SENIOR,
    AgentRole.SUPERVISOR,
    AgentRole.ADMIN,
]
EVERYONE = (401, 200, 200, 200, 200)
EVERYONE_CREATES = (401, 201, 201, 201, 201)
SENIOR_UP = (401, 403, 200, 200, 200)
MANAGERS = (401, 403, 403, 200, 200)
MANAGERS_CREATE = (401, 403, 403, 201, 201)
ADMIN_ONLY = (401, 403, 403, 403, 200)
ADMIN_ONLY_CREATES = (401, 403, 403, 403, 201)
ADMIN_ONLY_MISSING = (401, 403, 403, 403, 404)
ADMIN_ONLY_INVALID = (401, 403, 403, 403, 422)


@dataclass(frozen=True)
class Case:
    method: str
    path: str
    expected: tuple[int, int, int, int, int]
    body: dict[str, Any] | None = None
    upload: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


CASES = [
    Case("GET", "/tickets", EVERYONE),
    Case(
        "POST",
        "/tickets",
        EVERYONE_CREATES,
        {"channel": "api", "subject": "s", "body": "b", "player": {"external_id": "{role}"}},
    ),
    Case("GET", "/tickets/{ticket}", EVERYONE),
    Case("PATCH", "/tickets/{ticket}", EVERYONE, {"priority": "high", "tags": ["{role}"]}),
    Case("GET", "/tickets/{ticket}/messages", EVERYONE),
    Case(
        "POST",
        "/tickets/{ticket}/messages",
        EVERYONE_CREATES,
        {"body": "note by {role}", "kind": "note"},
    ),
    Case("POST", "/tickets/{ticket}/attachments", EVERYONE_CREATES, upload=True),
    Case("GET", "/attachments/{attachment}", EVERYONE),
    Case("PUT", "/players/P-{role}", EVERYONE_CREATES, {"name": "Player of {role}"}),
    Case("GET", "/players/{player}", EVERYONE),
    Case("GET", "/agents/me", EVERYONE),
    Case("GET", "/agents", SENIOR_UP),
    Case("GET", "/agents/{agent}", SENIOR_UP),
    Case(
        "POST",
        "/agents",
        MANAGERS_CREATE,
        {"email": "a-{role}@example.test", "name": "New", "role": "agent"},
    ),
    Case(
        "POST",
        "/agents",
        MANAGERS_CREATE,
        {"email": "s-{role}@example.test", "name": "New", "role": "supervisor"},
    ),
    Case(
        "POST",
        "/agents",
        (401, 403, 403, 403, 201),
        {"email": "x-{role}@example.test", "name": "New", "role": "admin"},
    ),
    Case("PATCH", "/agents/{agent}", MANAGERS, {"name": "Renamed by {role}"}),
    Case("PATCH", "/agents/{agent}", MANAGERS, {"role": "senior"}),
    Case("PATCH", "/agents/{agent}", MANAGERS, {"role": "supervisor"}),
    Case("PATCH", "/agents/{agent}", ADMIN_ONLY, {"role": "admin"}),
    Case("PATCH", "/agents/{admin}", ADMIN_ONLY, {"name": "Renamed by {role}"}),
    Case("GET", "/teams", EVERYONE),
    Case("POST", "/teams", MANAGERS_CREATE, {"name": "Team of {role}"}),
    Case("PATCH", "/teams/{team}", MANAGERS, {"description": "by {role}"}),
    Case("GET", "/audit", MANAGERS),
    Case("GET", "/tokens", EVERYONE),
    Case("POST", "/tokens", EVERYONE_CREATES, {"label": "{role}"}),
    # Somebody else's token: not even its existence is shown to those who may not touch it.
    Case("DELETE", "/tokens/{token}", (401, 404, 404, 404, 200)),
    # Routing, SLA and escalation: supervisors read, admins change. Roles are checked before
    # anything is looked up, so a missing id is a 404 only for those who may change it.
    Case("GET", "/floor", MANAGERS),
    Case(
        "POST",
        "/tickets/{ticket}/escalations",
        EVERYONE_CREATES,
        {"reason": "escalated by {role}"},
    ),
    Case("GET", "/tickets/{ticket}/escalations", EVERYONE),
    Case(
        "POST",
        "/tickets/{ticket}/transfer",
        EVERYONE,
        {"team_id": "{team}", "note": "over to the team, from {role}"},
    ),
    Case("GET", "/routing-rules", MANAGERS),
    Case(
        "POST",
        "/routing-rules",
        ADMIN_ONLY_CREATES,
        {"name": "Rule of {role}", "team_id": "{team}", "topic": "{role}"},
    ),
    Case("PUT", "/routing-rules/999999", ADMIN_ONLY_MISSING, {"name": "x", "team_id": "{team}"}),
    Case("DELETE", "/routing-rules/999999", ADMIN_ONLY_MISSING),
    # Not every id (whatever the database holds): only an admin gets as far as the 422.
    Case("POST", "/routing-rules/reorder", ADMIN_ONLY_INVALID, {"ids": [999999]}),
    Case("GET", "/sla-policies", MANAGERS),
    Case(
        "POST",
        "/sla-policies",
        ADMIN_ONLY_CREATES,
        {"name": "SLA of {role}", "priorities": ["urgent"], "first_response_minutes": 5},
    ),
    Case("POST", "/sla-policies/reorder", ADMIN_ONLY_INVALID, {"ids": [999999]}),
    Case("DELETE", "/sla-policies/999999", ADMIN_ONLY_MISSING),
    Case("GET", "/escalation-rules", MANAGERS),
    Case(
        "POST",
        "/escalation-rules",
        ADMIN_ONLY_CREATES,
        {"name": "Escalation of {role}", "trigger": "sla_breach"},
    ),
    Case("DELETE", "/escalation-rules/999999", ADMIN_ONLY_MISSING),
    Case("GET", "/calendars", MANAGERS),
    Case(
        "POST",
        "/calendars",
        ADMIN_ONLY_CREATES,
        {
            "name": "Calendar of {role}",
            "time_zone": "Europe/Warsaw",
            "intervals": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
        },
    ),
    Case("GET", "/calendars/999999", (401, 403, 403, 404, 404)),
    Case("DELETE", "/calendars/999999", ADMIN_ONLY_MISSING),
    Case("GET", "/teams/routing", MANAGERS),
    Case("PATCH", "/teams/{team}/routing", ADMIN_ONLY, {"calendar_id": None}),
    # Shifts and schedules: supervisors and admins.
    Case("GET", "/shifts", MANAGERS),
    Case(
        "POST",
        "/shifts",
        MANAGERS_CREATE,
        {"name": "Shift of {role}", "start": "22:00", "end": "06:00"},
    ),
    Case("DELETE", "/shifts/999999", (401, 403, 403, 404, 404)),
    Case("GET", "/shifts/on-duty", MANAGERS),
    Case("GET", "/schedules", MANAGERS),
    Case(
        "POST",
        "/schedules",
        (401, 403, 403, 422, 422),
        {"agent_id": "{agent}", "shift_id": 999999, "starts_on": "2026-11-02"},
    ),
    Case("PATCH", "/schedules/999999", (401, 403, 403, 404, 404), {"ends_on": "2026-11-30"}),
    Case("GET", "/coverage", MANAGERS),
]


def fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, names) for item in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_role_matrix(client: httpx.AsyncClient, make_agent: AgentFactory, case: Case) -> None:
    owner = await make_agent(AgentRole.ADMIN)
    target = await make_agent(AgentRole.AGENT)
    h = owner.headers
    ticket = await client.post(
        f"{API}/tickets",
        json={"channel": "email", "subject": "s", "body": "b", "player": {"external_id": "P-1"}},
        headers=h,
    )
    team = await client.post(f"{API}/teams", json={"name": "Existing"}, headers=h)
    attachment = await client.post(
        f"{API}/tickets/{ticket.json()['id']}/attachments",
        files={"file": ("a.png", PNG, "image/png")},
        headers=h,
    )
    ids = {
        "ticket": str(ticket.json()["id"]),
        "team": str(team.json()["id"]),
        "attachment": str(attachment.json()["id"]),
        "player": "P-1",
        "agent": str(target.id),
        "admin": str(owner.id),
        "token": str(target.actor.token_id),
    }
    callers = {role: await make_agent(role) for role in ROLES if role is not None}

    actual: list[int] = []
    for role in ROLES:
        names = {**ids, "role": role.value if role else "nobody"}
        headers = callers[role].headers if role else {}
        url = API + fill(case.path, names)
        if case.upload:
            files = {"file": (f"{names['role']}.png", PNG, "image/png")}
            response = await client.request(case.method, url, files=files, headers=headers)
        else:
            body = fill(case.body, names)
            response = await client.request(case.method, url, json=body, headers=headers)
        actual.append(response.status_code)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"
    assert tuple(actual) == case.expected, f"{case}: (nobody, agent, senior, supervisor, admin)"
