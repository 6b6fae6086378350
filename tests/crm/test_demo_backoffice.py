"""The demo back office keeps the HTTP contract of docs/casino-api.yaml and tells the same
stories as the demo support floor."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from playerdesk import cli
from playerdesk.crm import base
from playerdesk.crm.demo_backoffice import DemoFaults, create_demo_backoffice
from playerdesk.demo import PLAYERS

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
TOKEN = "test-casino-token"
SECRET = "test-casino-secret"
CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "casino-api.yaml"


class FakeClock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def faults() -> DemoFaults:
    return DemoFaults()


@pytest.fixture
async def client(clock: FakeClock, faults: DemoFaults) -> AsyncIterator[httpx.AsyncClient]:
    app = create_demo_backoffice(bearer_token=TOKEN, hmac_secret=SECRET, clock=clock, faults=faults)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://casino.test",
        headers={"Authorization": f"Bearer {TOKEN}"},
    ) as http:
        yield http


def confirmation(statement: str = "Yes, please block my account.") -> dict[str, Any]:
    return {
        "statement": statement,
        "confirmed_at": (NOW - timedelta(minutes=2)).isoformat(),
        "channel": "web_chat",
        "ticket_number": 1042,
        "agent_email": "sara@demo.playerdesk.test",
    }


def signed_headers(
    method: str, target: str, body: bytes, *, timestamp: int, secret: str = SECRET
) -> dict[str, str]:
    message = f"{timestamp}\n{method}\n{target}\n".encode() + body
    digest = hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return {"X-PlayerDesk-Timestamp": str(timestamp), "X-PlayerDesk-Signature": f"sha256={digest}"}


# --- lookups -------------------------------------------------------------------------------


async def test_every_demo_floor_player_has_the_same_account(client: httpx.AsyncClient) -> None:
    for spec in PLAYERS:
        response = await client.get("/v1/players", params={"external_id": spec.external_id})
        assert response.status_code == 200, spec.external_id
        player = response.json()
        assert player["name"] == spec.name
        assert player["email"] == spec.email
        assert player["language"] == spec.language
        assert player["country"] == spec.country
        assert player["vip_tier"] == spec.vip_tier
        assert player["phone"] == spec.phone
        expected_manager = f"{spec.manager}@demo.playerdesk.test" if spec.manager else None
        assert player["personal_manager"] == expected_manager


async def test_find_player_by_email_and_by_phone(client: httpx.AsyncClient) -> None:
    by_email = await client.get("/v1/players", params={"email": "Anna.Kowalska@example.net"})
    assert by_email.status_code == 200
    assert by_email.json()["external_id"] == "150938"

    # The phone matches however it is spaced.
    by_phone = await client.get("/v1/players", params={"phone": "+46701740642"})
    assert by_phone.status_code == 200
    player = by_phone.json()
    assert player == {
        "external_id": "100317",
        "name": "Lars Eriksson",
        "email": "lars.eriksson@example.com",
        "phone": "+46 70 174 06 42",
        "status": "active",
        "country": "SE",
        "language": "sv",
        "registered_at": player["registered_at"],
        "vip_tier": "platinum",
        "personal_manager": "senior@demo.playerdesk.test",
    }
    assert datetime.fromisoformat(player["registered_at"]) < NOW


async def test_unknown_player_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/players", params={"email": "nobody@example.com"})
    assert response.status_code == 404
    assert response.json() == {"error": "player_not_found"}
    for path in (
        "balance",
        "payments",
        "bonuses",
        "verification",
        "responsible-gambling",
    ):
        response = await client.get(f"/v1/players/999999/{path}")
        assert response.status_code == 404, path
        assert response.json() == {"error": "player_not_found"}
    response = await client.post("/v1/players/999999/password-reset", json={})
    assert response.status_code == 404
    assert response.json() == {"error": "player_not_found"}


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"external_id": "204117", "email": "james.whitfield@example.com"},
        {"external_id": ""},
        {"name": "James Whitfield"},
    ],
)
async def test_a_lookup_needs_exactly_one_criterion(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get("/v1/players", params=params)
    assert response.status_code == 400
    assert "error" in response.json()


# --- account data --------------------------------------------------------------------------


async def test_balance_amounts_are_decimal_strings(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/players/355019/balance")
    assert response.status_code == 200
    assert response.json() == {
        "currency": "EUR",
        "real_money": "0.40",
        "bonus_money": "0.00",
        "withdrawable": "0.40",
    }


async def test_payments_newest_first_with_a_limit(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/players/401846/payments")
    assert response.status_code == 200
    payments = response.json()["payments"]
    created = [datetime.fromisoformat(payment["created_at"]) for payment in payments]
    assert created == sorted(created, reverse=True)
    failed = [payment for payment in payments if payment["status"] == "failed"]
    assert len(failed) == 3
    assert all(payment["reason"] for payment in failed)

    first_two = (await client.get("/v1/players/401846/payments", params={"limit": 2})).json()
    assert first_two["payments"] == payments[:2]


@pytest.mark.parametrize("limit", ["0", "51", "ten", "-1"])
async def test_payments_limit_is_checked(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/v1/players/401846/payments", params={"limit": limit})
    assert response.status_code == 400
    assert response.json()["field"] == "limit"


async def test_payments_tell_the_ticket_stories(client: httpx.AsyncClient) -> None:
    priya = (await client.get("/v1/players/290677/payments")).json()["payments"]
    held = priya[0]
    assert held["kind"] == "withdrawal"
    assert held["status"] == "pending"
    assert held["amount"] == "2500.00"
    assert "source-of-funds" in held["reason"]
    assert datetime.fromisoformat(held["created_at"]) == NOW - timedelta(days=5)

    marek = (await client.get("/v1/players/341556/payments")).json()["payments"]
    assert marek[0]["method"] == "BLIK"
    assert marek[0]["status"] == "processing"

    lukasz = (await client.get("/v1/players/243390/payments")).json()["payments"]
    assert lukasz[0]["status"] == "processing"
    assert "Anna Kamińska" in lukasz[0]["reason"]


async def test_bonus_mid_wagering(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/players/204117/bonuses")
    assert response.status_code == 200
    (bonus,) = response.json()["bonuses"]
    assert bonus["status"] == "active"
    assert bonus["wagering_required"] == "3500.00"
    assert bonus["max_bet"] == "5.00"
    assert bonus["game_contributions"]["slots"] == 100
    assert bonus["game_contributions"]["table"] == 10
    assert datetime.fromisoformat(bonus["expires_at"]) > NOW


async def test_rejected_documents_say_why(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/players/150938/verification")
    assert response.status_code == 200
    verification = response.json()
    assert verification["status"] == "rejected"
    rejected = [doc for doc in verification["documents"] if doc["status"] == "rejected"]
    assert {doc["kind"] for doc in rejected} == {"id_front", "id_back"}
    assert all(doc["reason"] for doc in rejected)


async def test_responsible_gambling_states(client: httpx.AsyncClient) -> None:
    johan = (await client.get("/v1/players/281093/responsible-gambling")).json()
    assert datetime.fromisoformat(johan["cooling_off_until"]) > NOW
    assert johan["limits"][0]["amount"] == "1000.00"

    lars = (await client.get("/v1/players/100317/responsible-gambling")).json()
    (limit,) = lars["limits"]
    assert limit["pending_amount"] == "200000.00"
    assert datetime.fromisoformat(limit["pending_from"]) > NOW

    spelpaus = (await client.get("/v1/players/401122/responsible-gambling")).json()
    gamstop = (await client.get("/v1/players/401377/responsible-gambling")).json()
    assert spelpaus["national_register_hits"] == ["spelpaus"]
    assert gamstop["national_register_hits"] == ["gamstop"]

    excluded = (await client.get("/v1/players/401509/responsible-gambling")).json()
    assert excluded["self_excluded"] is True
    assert datetime.fromisoformat(excluded["self_excluded_until"]) > NOW

    connor = (await client.get("/v1/players/401846/responsible-gambling")).json()
    session = next(limit for limit in connor["limits"] if limit["kind"] == "session_minutes")
    assert session["currency"] is None


# --- actions -------------------------------------------------------------------------------


async def test_password_reset_is_accepted_once_per_idempotency_key(
    client: httpx.AsyncClient,
) -> None:
    headers = {"Idempotency-Key": "reset-1"}
    first = await client.post("/v1/players/318842/password-reset", json={}, headers=headers)
    again = await client.post("/v1/players/318842/password-reset", json={}, headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json() == {"sent": True}


async def test_cooling_off_is_applied(client: httpx.AsyncClient) -> None:
    until = NOW + timedelta(days=7)
    response = await client.post(
        "/v1/players/298815/cooling-off",
        json={"until": until.isoformat().replace("+00:00", "Z"), "confirmation": confirmation()},
    )
    assert response.status_code == 200
    assert datetime.fromisoformat(response.json()["cooling_off_until"]) == until
    stored = (await client.get("/v1/players/298815/responsible-gambling")).json()
    assert stored == response.json()


@pytest.mark.parametrize(
    ("until", "statement", "field"),
    [
        (NOW + timedelta(days=1), "   ", "confirmation.statement"),
        (NOW - timedelta(minutes=1), "Yes", "until"),
        (NOW + timedelta(weeks=6, minutes=1), "Yes", "until"),
    ],
)
async def test_cooling_off_is_refused(
    client: httpx.AsyncClient, until: datetime, statement: str, field: str
) -> None:
    response = await client.post(
        "/v1/players/298815/cooling-off",
        json={"until": until.isoformat(), "confirmation": confirmation(statement)},
    )
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert "error" in response.json()
    state = (await client.get("/v1/players/298815/responsible-gambling")).json()
    assert state["cooling_off_until"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"until": "next week", "confirmation": confirmation()},
        {"until": "2026-11-09T09:00:00", "confirmation": confirmation()},  # no offset
        {"until": (NOW + timedelta(days=3)).isoformat()},
    ],
)
async def test_cooling_off_body_is_validated(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await client.post("/v1/players/298815/cooling-off", json=body)
    assert response.status_code == 422
    assert response.json()["field"] in {"until", "confirmation"}


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/players/298815/cooling-off",
        content=b"until=tomorrow",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400


async def test_six_month_self_exclusion(client: httpx.AsyncClient) -> None:
    until = datetime(2027, 5, 2, 9, 0, tzinfo=UTC)
    response = await client.post(
        "/v1/players/204117/self-exclusion",
        json={"until": until.isoformat(), "confirmation": confirmation()},
    )
    assert response.status_code == 200
    state = response.json()
    assert state["self_excluded"] is True
    assert datetime.fromisoformat(state["self_excluded_until"]) == until
    player = (await client.get("/v1/players", params={"external_id": "204117"})).json()
    assert player["status"] == "self_excluded"
    bonuses = (await client.get("/v1/players/204117/bonuses")).json()["bonuses"]
    assert {bonus["status"] for bonus in bonuses} == {"forfeited"}


async def test_indefinite_self_exclusion_cannot_be_shortened(client: httpx.AsyncClient) -> None:
    indefinite = await client.post(
        "/v1/players/298815/self-exclusion",
        json={"until": None, "confirmation": confirmation()},
    )
    assert indefinite.status_code == 200
    assert indefinite.json()["self_excluded"] is True
    assert indefinite.json()["self_excluded_until"] is None

    shorter = await client.post(
        "/v1/players/298815/self-exclusion",
        json={"until": (NOW + timedelta(days=400)).isoformat(), "confirmation": confirmation()},
    )
    assert shorter.status_code == 422
    assert shorter.json()["field"] == "until"


async def test_self_exclusion_under_six_months_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/players/298815/self-exclusion",
        json={
            "until": datetime(2027, 5, 1, tzinfo=UTC).isoformat(),
            "confirmation": confirmation(),
        },
    )
    assert response.status_code == 422
    assert response.json()["field"] == "until"

    missing = await client.post(
        "/v1/players/298815/self-exclusion", json={"confirmation": confirmation()}
    )
    assert missing.status_code == 422


async def test_the_same_idempotency_key_applies_once(client: httpx.AsyncClient) -> None:
    headers = {"Idempotency-Key": "rg-298815-1"}
    body = {"until": (NOW + timedelta(days=7)).isoformat(), "confirmation": confirmation()}
    first = await client.post("/v1/players/298815/cooling-off", json=body, headers=headers)
    assert first.status_code == 200

    # A different break under the same key is a client bug, not a second request.
    other = {**body, "until": (NOW + timedelta(days=14)).isoformat()}
    reused = await client.post("/v1/players/298815/cooling-off", json=other, headers=headers)
    assert reused.status_code == 422
    assert reused.json()["field"] == "Idempotency-Key"

    retry = await client.post("/v1/players/298815/cooling-off", json=body, headers=headers)
    assert retry.status_code == 200
    assert retry.content == first.content


async def test_posts_change_the_account_for_the_life_of_the_app(clock: FakeClock) -> None:
    app = create_demo_backoffice(bearer_token=TOKEN, hmac_secret=None, clock=clock)
    other_app = create_demo_backoffice(bearer_token=TOKEN, hmac_secret=None, clock=clock)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = {"until": (NOW + timedelta(days=2)).isoformat(), "confirmation": confirmation()}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://a", headers=headers
    ) as first:
        assert (await first.post("/v1/players/362210/cooling-off", json=body)).status_code == 200
        state = (await first.get("/v1/players/362210/responsible-gambling")).json()
        assert state["cooling_off_until"] is not None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=other_app), base_url="http://b", headers=headers
    ) as second:
        state = (await second.get("/v1/players/362210/responsible-gambling")).json()
        assert state["cooling_off_until"] is None


# --- authentication ------------------------------------------------------------------------


async def test_wrong_or_missing_bearer_is_401(client: httpx.AsyncClient) -> None:
    for headers in (
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": ""},
    ):
        response = await client.get("/v1/players/204117/balance", headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "unauthorized"}


async def test_hmac_signed_requests(client: httpx.AsyncClient) -> None:
    stamp = int(NOW.timestamp())
    target = "/v1/players?email=anna.kowalska%40example.net"
    get = await client.get(
        target,
        headers={"Authorization": "", **signed_headers("GET", target, b"", timestamp=stamp)},
    )
    assert get.status_code == 200
    assert get.json()["external_id"] == "150938"

    body = json.dumps({}).encode()
    path = "/v1/players/327461/password-reset"
    post = await client.post(
        path,
        content=body,
        headers={
            "Authorization": "",
            "Content-Type": "application/json",
            **signed_headers("POST", path, body, timestamp=stamp - 299),
        },
    )
    assert post.status_code == 202


@pytest.mark.parametrize(
    ("timestamp_offset", "secret", "signed_body"),
    [
        (0, "wrong-secret", b"{}"),  # wrong secret
        (-301, SECRET, b"{}"),  # stale
        (301, SECRET, b"{}"),  # from the future
        (0, SECRET, b'{"x": 1}'),  # the body was changed after signing
    ],
)
async def test_bad_signatures_are_401(
    client: httpx.AsyncClient, timestamp_offset: int, secret: str, signed_body: bytes
) -> None:
    path = "/v1/players/327461/password-reset"
    headers = signed_headers(
        "POST", path, signed_body, timestamp=int(NOW.timestamp()) + timestamp_offset, secret=secret
    )
    response = await client.post(
        path,
        content=b"{}",
        headers={"Authorization": "", "Content-Type": "application/json", **headers},
    )
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}


async def test_signature_covers_the_query_string(client: httpx.AsyncClient) -> None:
    stamp = int(NOW.timestamp())
    headers = signed_headers("GET", "/v1/players/204117/payments?limit=1", b"", timestamp=stamp)
    response = await client.get(
        "/v1/players/204117/payments?limit=50", headers={"Authorization": "", **headers}
    )
    assert response.status_code == 401


async def test_a_server_with_only_a_secret_refuses_bearer_tokens(clock: FakeClock) -> None:
    app = create_demo_backoffice(bearer_token=None, hmac_secret=SECRET, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://casino.test"
    ) as http:
        response = await http.get(
            "/v1/players/204117/balance", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status_code == 401
        path = "/v1/players/204117/balance"
        signed = signed_headers("GET", path, b"", timestamp=int(NOW.timestamp()))
        assert (await http.get(path, headers=signed)).status_code == 200


def test_an_unauthenticated_back_office_is_refused() -> None:
    with pytest.raises(ValueError, match="token"):
        create_demo_backoffice(bearer_token=None, hmac_secret=None)


# --- faults --------------------------------------------------------------------------------


async def test_fault_fail_status(client: httpx.AsyncClient, faults: DemoFaults) -> None:
    faults.fail_status = 503
    response = await client.get("/v1/players/204117/balance")
    assert response.status_code == 503
    faults.fail_status = None
    assert (await client.get("/v1/players/204117/balance")).status_code == 200


async def test_fault_malformed(client: httpx.AsyncClient, faults: DemoFaults) -> None:
    faults.malformed = True
    response = await client.get("/v1/players/204117/balance")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


async def test_fault_delay(client: httpx.AsyncClient, faults: DemoFaults) -> None:
    faults.delay_seconds = 0.01
    response = await client.get("/v1/players/204117/balance")
    assert response.status_code == 200


# --- the contract document -----------------------------------------------------------------


def test_contract_document_lists_every_path() -> None:
    document = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1")
    paths = document["paths"]
    assert set(paths) == {
        "/players",
        "/players/{external_id}/balance",
        "/players/{external_id}/payments",
        "/players/{external_id}/bonuses",
        "/players/{external_id}/verification",
        "/players/{external_id}/responsible-gambling",
        "/players/{external_id}/password-reset",
        "/players/{external_id}/cooling-off",
        "/players/{external_id}/self-exclusion",
    }
    assert document["servers"][0]["url"].endswith("/v1")
    schemes = document["components"]["securitySchemes"]
    assert {"bearerAuth", "hmacSignature"} <= set(schemes)
    schemas = document["components"]["schemas"]
    for name in (
        "CasinoPlayer",
        "Balance",
        "Payment",
        "Bonus",
        "Document",
        "Verification",
        "Limit",
        "ResponsibleGambling",
        "PlayerConfirmation",
        "Error",
    ):
        assert name in schemas, name


def test_contract_schemas_match_the_dataclasses_and_enums() -> None:
    schemas = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))["components"]["schemas"]
    for dataclass_type in (
        base.CasinoPlayer,
        base.Balance,
        base.Payment,
        base.Bonus,
        base.Document,
        base.Verification,
        base.Limit,
        base.ResponsibleGambling,
        base.PlayerConfirmation,
    ):
        names = {item.name for item in dataclasses.fields(dataclass_type)}
        assert set(schemas[dataclass_type.__name__]["properties"]) == names
    for enum_type in (
        base.AccountStatus,
        base.PaymentKind,
        base.PaymentStatus,
        base.BonusStatus,
        base.VerificationStatus,
        base.DocumentKind,
        base.DocumentStatus,
        base.LimitKind,
        base.LimitPeriod,
    ):
        assert schemas[enum_type.__name__]["enum"] == [member.value for member in enum_type]


# --- the command ---------------------------------------------------------------------------


def test_demo_casino_command_serves_with_the_demo_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import uvicorn

    served: dict[str, Any] = {}

    def fake_run(app: object, **options: Any) -> None:
        served.update(options, app=app)

    monkeypatch.delenv("PLAYERDESK_CASINO_API_TOKEN", raising=False)
    monkeypatch.delenv("PLAYERDESK_CASINO_API_SECRET", raising=False)
    monkeypatch.setattr(uvicorn, "run", fake_run)
    assert cli.main(["demo-casino", "--port", "8123"]) == 0
    assert served["host"] == "127.0.0.1"
    assert served["port"] == 8123
    assert "demo-casino-token" in capsys.readouterr().out
