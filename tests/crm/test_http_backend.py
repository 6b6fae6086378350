"""The HTTP adapter against a real back office over real HTTP: a small FastAPI app of this
file, served by uvicorn on a loopback port, that implements the contract for two players,
checks the bearer token or recomputes the HMAC signature, counts the requests that reach it
and misbehaves on demand (delays, 5xx, broken bodies, dropped connections). At the end, the
same adapter against the demo back office (playerdesk.crm.demo_backoffice)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

import pytest
import structlog
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from playerdesk.crm.base import (
    AccountStatus,
    BackOfficeUnavailable,
    BonusStatus,
    CasinoBackend,
    DocumentKind,
    DocumentStatus,
    LimitKind,
    PaymentKind,
    PaymentStatus,
    PlayerConfirmation,
    PlayerNotFound,
    VerificationStatus,
)
from playerdesk.crm.demo_backoffice import DemoFaults, create_demo_backoffice
from playerdesk.crm.http import BackOfficeRefused, CasinoApiConfig, HttpCasinoBackend

BEARER_TOKEN = "test-bearer-token"
HMAC_SECRET = "test-hmac-secret"

# --- the test back office ---------------------------------------------------------------

PLAYERS: dict[str, dict[str, Any]] = {
    "p-1001": {
        "external_id": "p-1001",
        "name": "Anna Svensson",
        "email": "anna@example.com",
        "phone": "+46700000001",
        "status": "active",
        "country": "SE",
        "language": "sv",
        "registered_at": "2024-03-01T10:00:00+01:00",
        "vip_tier": "gold",
        "personal_manager": "maria@casino.example",
    },
    "p/1002": {  # a slash, so that the id must be percent-encoded in paths
        "external_id": "p/1002",
        "name": "Jan Kowalski",
        "email": None,
        "phone": None,
        "status": "self_excluded",
        "country": "PL",
        "language": "pl",
        "registered_at": "2025-01-15T08:30:00+00:00",
        "vip_tier": None,
        "personal_manager": None,
    },
}

BALANCE: dict[str, Any] = {
    "currency": "EUR",
    "real_money": "250.00",
    "bonus_money": "20.50",
    "withdrawable": "200.00",
}

PAYMENTS: list[dict[str, Any]] = [
    {
        "id": f"pay-{number}",
        "kind": "withdrawal" if number % 2 else "deposit",
        "method": "Visa **** 4242",
        "amount": f"{number}0.00",
        "currency": "EUR",
        "status": "failed" if number == 1 else "completed",
        "reason": "bank declined: insufficient funds" if number == 1 else None,
        "created_at": f"2026-11-0{number}T12:00:00+00:00",
        "updated_at": f"2026-11-0{number}T12:05:00Z",
    }
    for number in (3, 2, 1)
]

BONUSES: list[dict[str, Any]] = [
    {
        "id": "bonus-1",
        "name": "Welcome 100%",
        "status": "active",
        "currency": "EUR",
        "amount": "100.00",
        "wagering_required": "3500.00",
        "wagering_done": "1200.50",
        "expires_at": "2026-12-01T00:00:00+00:00",
        "max_bet": "5.00",
        "max_cashout": None,
        "game_contributions": {"slots": 100, "table": 10},
    },
    {  # game_contributions left out: the contract gives it a default
        "id": "bonus-2",
        "name": "Free spins",
        "status": "expired",
        "currency": "EUR",
        "amount": "10.00",
        "wagering_required": "0.00",
        "wagering_done": "0.00",
        "expires_at": None,
        "max_bet": None,
        "max_cashout": "100.00",
    },
]

VERIFICATION: dict[str, Any] = {
    "status": "rejected",
    "documents": [
        {"kind": "id_front", "status": "approved", "reason": None},
        {"kind": "proof_of_address", "status": "rejected", "reason": "older than 3 months"},
    ],
}


def fresh_responsible_gambling() -> dict[str, Any]:
    return {
        "limits": [
            {
                "kind": "deposit",
                "period": "week",
                "amount": "500.00",
                "currency": "EUR",
                "pending_amount": "1000.00",
                "pending_from": "2026-11-09T00:00:00+00:00",
            },
            {"kind": "session_minutes", "period": "day", "amount": "120", "currency": None},
        ],
        "cooling_off_until": None,
        "self_excluded": False,
        "self_excluded_until": None,
        "national_register_hits": ["spelpaus"],
    }


@dataclass
class Fault:
    kind: Literal["delay", "status", "body", "drop"]
    seconds: float = 0.0
    status: int = 500
    body: bytes = b""


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: str
    idempotency_key: str | None


@dataclass
class FakeBackOffice:
    auth: Literal["bearer", "hmac"] = "bearer"
    requests: list[RecordedRequest] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    responsible_gambling: dict[str, dict[str, Any]] = field(default_factory=dict)
    answers_by_idempotency_key: dict[str, tuple[int, Any]] = field(default_factory=dict)
    applied_changes: int = 0
    request_arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def fail_next(self, fault: Fault, *, times: int = 1) -> None:
        self.faults.extend([fault] * times)

    def count(self, path_end: str) -> int:
        return sum(1 for request in self.requests if request.path.endswith(path_end))

    def authentic(self, request: Request, raw_path: bytes, body: bytes) -> bool:
        if self.auth == "bearer":
            return request.headers.get("authorization") == f"Bearer {BEARER_TOKEN}"
        timestamp = request.headers.get("x-playerdesk-timestamp", "")
        signature = request.headers.get("x-playerdesk-signature", "")
        if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
            return False
        query = request.scope["query_string"]
        path_and_query = raw_path + (b"?" + query if query else b"")
        expected = hmac.new(
            HMAC_SECRET.encode(),
            b"\n".join([timestamp.encode(), request.method.encode(), path_and_query, body]),
            hashlib.sha256,
        ).hexdigest()
        return hmac.compare_digest(signature, f"sha256={expected}")


def create_test_back_office(office: FakeBackOffice) -> FastAPI:
    app = FastAPI()

    def not_found() -> JSONResponse:
        return JSONResponse({"error": "player_not_found"}, status_code=404)

    @app.middleware("http")
    async def check_auth_and_misbehave(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        raw_path: bytes = request.scope.get("raw_path") or request.url.path.encode()
        body = await request.body()
        office.requests.append(
            RecordedRequest(
                method=request.method,
                path=raw_path.decode(),
                query=request.url.query,
                idempotency_key=request.headers.get("idempotency-key"),
            )
        )
        office.request_arrived.set()
        if not office.authentic(request, raw_path, body):
            return JSONResponse({"error": "unauthorized"}, status_code=401)
        fault = office.faults.pop(0) if office.faults else None
        if fault is None:
            return await call_next(request)
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
            return await call_next(request)
        if fault.kind == "status":
            return JSONResponse({"error": "internal"}, status_code=fault.status)
        if fault.kind == "body":
            return Response(fault.body, status_code=200, media_type="application/json")
        # "drop" is handled by the ASGI wrapper below, before this middleware.
        raise AssertionError(fault.kind)

    @app.get("/v1/players")
    async def find_player(request: Request) -> Response:
        given = dict(request.query_params.items())
        if len(given) != 1:
            return JSONResponse({"error": "exactly_one_lookup", "field": "query"}, 422)
        ((lookup_by, value),) = given.items()
        for player in PLAYERS.values():
            if player[lookup_by] == value:
                return JSONResponse(player)
        return not_found()

    # `:path` because uvicorn decodes %2F: the id "p/1002" arrives as two segments.
    @app.get("/v1/players/{external_id:path}/{resource}")
    async def player_resource(external_id: str, resource: str, limit: int = 10) -> Response:
        if external_id not in PLAYERS:
            return not_found()
        answers: dict[str, Any] = {
            "balance": BALANCE,
            "payments": {"payments": PAYMENTS[:limit]},
            "bonuses": {"bonuses": BONUSES},
            "verification": VERIFICATION,
            "responsible-gambling": office.responsible_gambling.setdefault(
                external_id, fresh_responsible_gambling()
            ),
        }
        return JSONResponse(answers[resource])

    @app.post("/v1/players/{external_id:path}/{action}")
    async def player_action(external_id: str, action: str, request: Request) -> Response:
        key = request.headers.get("idempotency-key")
        if not key:
            return JSONResponse({"error": "idempotency_key_required"}, 400)
        if key in office.answers_by_idempotency_key:
            status, answer = office.answers_by_idempotency_key[key]
            return JSONResponse(answer, status_code=status)
        if external_id not in PLAYERS:
            return not_found()
        body = json.loads(await request.body())
        status, answer = apply_action(office, external_id, action, body)
        office.answers_by_idempotency_key[key] = (status, answer)
        return JSONResponse(answer, status_code=status)

    return app


def apply_action(
    office: FakeBackOffice, external_id: str, action: str, body: dict[str, Any]
) -> tuple[int, Any]:
    if action == "password-reset":
        office.applied_changes += 1
        return 202, {"sent": True}
    confirmation = body.get("confirmation")
    if not isinstance(confirmation, dict) or not confirmation.get("statement"):
        return 422, {"error": "confirmation_required", "field": "confirmation"}
    until = None if body["until"] is None else datetime.fromisoformat(body["until"])
    if until is not None and until <= datetime.now(UTC):
        return 422, {"error": "must_be_in_the_future", "field": "until"}
    state = office.responsible_gambling.setdefault(external_id, fresh_responsible_gambling())
    if action == "cooling-off":
        state["cooling_off_until"] = body["until"]
    else:
        state["self_excluded"] = True
        state["self_excluded_until"] = body["until"]
    office.applied_changes += 1
    return 200, state


def with_dropped_connections(app: FastAPI, office: FakeBackOffice) -> Any:
    """Drops the connection halfway through a response: uvicorn closes it when the app
    returns without finishing the body it announced."""

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and office.faults and office.faults[0].kind == "drop":
            office.faults.pop(0)
            office.requests.append(
                RecordedRequest(
                    method=scope["method"],
                    path=scope["raw_path"].decode(),
                    query=scope["query_string"].decode(),
                    idempotency_key=dict(scope["headers"]).get(b"idempotency-key", b"").decode()
                    or None,
                )
            )
            await send(
                {
                    "type": "http.response.start",
                    "status": 200,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", b"500"),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": b'{"curr', "more_body": True})
            return
        await app(scope, receive, send)

    return asgi


@asynccontextmanager
async def serving(asgi_app: Any) -> AsyncIterator[str]:
    """A real uvicorn on a free loopback port, in the test's event loop."""
    config = uvicorn.Config(asgi_app, host="127.0.0.1", port=0, log_level="critical")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


class ManualMonotonic:
    """The breaker's and the cache's clock, moved by the test instead of by waiting."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def office() -> FakeBackOffice:
    return FakeBackOffice()


@pytest.fixture
async def base_url(office: FakeBackOffice) -> AsyncIterator[str]:
    async with serving(with_dropped_connections(create_test_back_office(office), office)) as url:
        yield url


@pytest.fixture
def monotonic() -> ManualMonotonic:
    return ManualMonotonic()


BackendFactory = Callable[..., HttpCasinoBackend]


@pytest.fixture
async def make_backend(base_url: str, monotonic: ManualMonotonic) -> AsyncIterator[BackendFactory]:
    created: list[HttpCasinoBackend] = []

    def make(**overrides: Any) -> HttpCasinoBackend:
        settings: dict[str, Any] = {
            "base_url": base_url,
            "bearer_token": BEARER_TOKEN,
            # Generous: a busy test machine must not turn an answer into a timeout. The tests
            # of timeouts set their own.
            "timeout_seconds": 5.0,
            "retries": 2,
            "backoff_seconds": 0.01,
            "cache_seconds": 0,
        }
        settings.update(overrides)
        backend = HttpCasinoBackend(CasinoApiConfig(**settings), monotonic=monotonic)
        created.append(backend)
        return backend

    yield make
    for backend in created:
        await backend.close()


def breaker_state(backend: HttpCasinoBackend) -> str:
    # A function, not the property inline: mypy would keep a narrowed state across awaits.
    return backend.breaker.state


def confirmation() -> PlayerConfirmation:
    return PlayerConfirmation(
        statement="Yes, please block my account for 6 months",
        confirmed_at=datetime(2026, 11, 2, 9, 0, tzinfo=UTC),
        channel="web_chat",
        ticket_number=42,
        agent_email="agent@casino.example",
    )


# --- reads ------------------------------------------------------------------------------


async def test_every_read_parses_into_the_dataclasses(make_backend: BackendFactory) -> None:
    backend = make_backend()

    player = await backend.find_player(external_id="p-1001")
    assert player is not None
    assert player.status is AccountStatus.ACTIVE
    assert player.registered_at == datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
    assert player.personal_manager == "maria@casino.example"
    assert await backend.find_player(email="anna@example.com") == player
    # "+" must travel percent-encoded, or the back office reads a space.
    assert await backend.find_player(phone="+46700000001") == player
    assert await backend.find_player(email="nobody@example.com") is None

    other = await backend.find_player(external_id="p/1002")
    assert other is not None
    assert other.email is None
    assert other.status is AccountStatus.SELF_EXCLUDED

    balance = await backend.balance("p-1001")
    assert balance.real_money == Decimal("250.00")
    assert balance.bonus_money == Decimal("20.50")

    payments = await backend.payments("p/1002", limit=2)
    assert [payment.id for payment in payments] == ["pay-3", "pay-2"]
    assert payments[0].kind is PaymentKind.WITHDRAWAL
    assert payments[1].status is PaymentStatus.COMPLETED
    everything = await backend.payments("p-1001")
    assert everything[-1].reason == "bank declined: insufficient funds"
    assert everything[-1].updated_at.tzinfo is not None

    bonuses = await backend.bonuses("p-1001")
    assert bonuses[0].game_contributions == {"slots": 100, "table": 10}
    assert bonuses[0].max_cashout is None
    assert bonuses[1].status is BonusStatus.EXPIRED
    assert bonuses[1].game_contributions == {}

    verification = await backend.verification("p-1001")
    assert verification.status is VerificationStatus.REJECTED
    assert verification.documents[1].kind is DocumentKind.PROOF_OF_ADDRESS
    assert verification.documents[1].status is DocumentStatus.REJECTED

    protection = await backend.responsible_gambling("p-1001")
    assert protection.limits[0].pending_amount == Decimal("1000.00")
    assert protection.limits[1].kind is LimitKind.SESSION_MINUTES
    assert protection.limits[1].pending_from is None
    assert protection.national_register_hits == ["spelpaus"]


async def test_lookups_by_id_of_an_unknown_player_raise_player_not_found(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend()
    with pytest.raises(PlayerNotFound):
        await backend.balance("p-9999")
    with pytest.raises(PlayerNotFound):
        await backend.set_cooling_off(
            "p-9999", until=datetime.now(UTC) + timedelta(days=1), confirmation=confirmation()
        )
    assert breaker_state(backend) == "closed"


async def test_find_player_takes_exactly_one_key(make_backend: BackendFactory) -> None:
    backend = make_backend()
    with pytest.raises(ValueError, match="exactly one"):
        await backend.find_player()
    with pytest.raises(ValueError, match="exactly one"):
        await backend.find_player(email="anna@example.com", phone="+46700000001")


# --- authentication ---------------------------------------------------------------------


async def test_hmac_signature_is_verified_by_the_back_office(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    office.auth = "hmac"
    backend = make_backend(bearer_token=None, hmac_secret=HMAC_SECRET)

    assert await backend.find_player(phone="+46700000001") is not None
    assert len(await backend.payments("p/1002", limit=2)) == 2
    protection = await backend.set_self_exclusion("p-1001", until=None, confirmation=confirmation())
    assert protection.self_excluded
    assert protection.self_excluded_until is None

    forged = make_backend(bearer_token=None, hmac_secret="not-the-secret")
    with pytest.raises(BackOfficeUnavailable):
        await forged.balance("p-1001")


async def test_bearer_token_is_checked_by_the_back_office(make_backend: BackendFactory) -> None:
    assert (await make_backend().balance("p-1001")).currency == "EUR"
    with pytest.raises(BackOfficeUnavailable):
        await make_backend(bearer_token="wrong").balance("p-1001")


def test_config_needs_credentials() -> None:
    with pytest.raises(ValueError, match="bearer token or an HMAC secret"):
        CasinoApiConfig(base_url="http://casino.example")


# --- timeouts, retries, broken answers --------------------------------------------------


async def test_timeouts_are_retried_then_reported_unavailable(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(timeout_seconds=0.2, retries=2)
    office.fail_next(Fault("delay", seconds=0.6), times=3)
    with pytest.raises(BackOfficeUnavailable):
        await backend.balance("p-1001")
    assert office.count("/balance") == 3


async def test_a_slow_answer_then_a_quick_one_succeeds(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(timeout_seconds=0.2, retries=1)
    office.fail_next(Fault("delay", seconds=0.6))
    assert (await backend.balance("p-1001")).withdrawable == Decimal("200.00")
    assert office.count("/balance") == 2


async def test_server_errors_are_retried_until_an_answer(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(retries=2)
    office.fail_next(Fault("status", status=503), times=2)
    assert len(await backend.bonuses("p-1001")) == 2
    assert office.count("/bonuses") == 3


async def test_a_dropped_connection_is_retried(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(retries=1)
    office.fail_next(Fault("drop"))
    assert (await backend.verification("p-1001")).status is VerificationStatus.REJECTED
    assert office.count("/verification") == 2


def player_with(**changes: Any) -> bytes:
    player = {**PLAYERS["p-1001"], **changes}
    return json.dumps({key: value for key, value in player.items() if value is not ...}).encode()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"external_id": "p-1001", "name": ', id="malformed JSON"),
        pytest.param(b"<html>Bad gateway</html>", id="HTML"),
        pytest.param(b"[]", id="not an object"),
        pytest.param(player_with(name=...), id="missing field"),
        pytest.param(player_with(status="banned"), id="unknown enum value"),
        pytest.param(player_with(email=42), id="wrong type"),
        pytest.param(player_with(registered_at="2024-03-01T10:00:00"), id="no offset"),
        pytest.param(player_with(registered_at=1709283600), id="number timestamp"),
    ],
)
async def test_contract_violations_are_reported_unavailable_without_retrying(
    body: bytes, office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(retries=2)
    office.fail_next(Fault("body", body=body))
    with structlog.testing.capture_logs() as logs, pytest.raises(BackOfficeUnavailable):
        await backend.find_player(email="anna@example.com")
    assert office.count("/v1/players") == 1
    warnings = [entry for entry in logs if entry["log_level"] == "warning"]
    assert [entry["event"] for entry in warnings] == ["casino_api.contract_violation"]
    assert warnings[0]["lookup_by"] == "email"
    # Neither the body nor the player's personal data reach the logs.
    assert "anna" not in repr(logs).lower()
    assert "svensson" not in repr(logs).lower()


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({**BALANCE, "real_money": 250.0}, id="float amount"),
        pytest.param({**BALANCE, "real_money": "1e3"}, id="exponent amount"),
        pytest.param({**BALANCE, "withdrawable": None}, id="null amount"),
    ],
)
async def test_amounts_must_be_decimal_strings(
    body: dict[str, Any], office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    office.fail_next(Fault("body", body=json.dumps(body).encode()))
    with pytest.raises(BackOfficeUnavailable):
        await make_backend().balance("p-1001")


async def test_wrong_types_deep_inside_lists_are_caught(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    broken = {**PAYMENTS[0], "kind": "refund"}
    office.fail_next(Fault("body", body=json.dumps({"payments": [broken]}).encode()))
    with pytest.raises(BackOfficeUnavailable):
        await make_backend().payments("p-1001")
    broken_bonus = {**BONUSES[0], "game_contributions": {"slots": "100"}}
    office.fail_next(Fault("body", body=json.dumps({"bonuses": [broken_bonus]}).encode()))
    with pytest.raises(BackOfficeUnavailable):
        await make_backend().bonuses("p-1001")


async def test_unexpected_statuses_are_contract_violations(
    office: FakeBackOffice, make_backend: BackendFactory, base_url: str
) -> None:
    office.fail_next(Fault("status", status=418))
    with pytest.raises(BackOfficeUnavailable):
        await make_backend().balance("p-1001")
    assert office.count("/balance") == 1, "not retried"
    # A 404 that is not player_not_found means a wrong URL, not a missing player.
    misconfigured = make_backend(base_url=f"{base_url}/wrong-prefix")
    with pytest.raises(BackOfficeUnavailable):
        await misconfigured.balance("p-1001")
    with pytest.raises(BackOfficeUnavailable):
        await misconfigured.find_player(email="anna@example.com")


# --- circuit breaker --------------------------------------------------------------------


async def test_breaker_opens_fails_fast_half_opens_and_closes(
    office: FakeBackOffice, make_backend: BackendFactory, monotonic: ManualMonotonic
) -> None:
    backend = make_backend(retries=0, breaker_failures=3, breaker_reset_seconds=30)
    office.fail_next(Fault("status", status=503), times=3)
    for _ in range(3):
        with pytest.raises(BackOfficeUnavailable):
            await backend.balance("p-1001")
    assert breaker_state(backend) == "open"
    assert len(office.requests) == 3

    with pytest.raises(BackOfficeUnavailable, match="circuit is open"):
        await backend.balance("p-1001")
    with pytest.raises(BackOfficeUnavailable, match="circuit is open"):
        await backend.find_player(external_id="p-1001")
    assert len(office.requests) == 3, "an open circuit sends nothing"

    monotonic.advance(29)
    with pytest.raises(BackOfficeUnavailable, match="circuit is open"):
        await backend.balance("p-1001")
    monotonic.advance(1)
    assert breaker_state(backend) == "half_open"
    # The trial fails: open again for a whole reset period.
    office.fail_next(Fault("status", status=500))
    with pytest.raises(BackOfficeUnavailable):
        await backend.balance("p-1001")
    assert len(office.requests) == 4
    assert breaker_state(backend) == "open"
    with pytest.raises(BackOfficeUnavailable, match="circuit is open"):
        await backend.balance("p-1001")
    assert len(office.requests) == 4

    monotonic.advance(30)
    assert (await backend.balance("p-1001")).currency == "EUR"
    assert breaker_state(backend) == "closed"
    assert len(office.requests) == 5
    assert (await backend.bonuses("p-1001"))[0].id == "bonus-1"
    assert len(office.requests) == 6


async def test_half_open_lets_a_single_trial_through(
    office: FakeBackOffice, make_backend: BackendFactory, monotonic: ManualMonotonic
) -> None:
    backend = make_backend(retries=0, breaker_failures=1, breaker_reset_seconds=30)
    office.fail_next(Fault("status", status=503))
    with pytest.raises(BackOfficeUnavailable):
        await backend.balance("p-1001")
    monotonic.advance(30)
    office.fail_next(Fault("delay", seconds=0.3))
    office.request_arrived.clear()
    trial = asyncio.create_task(backend.balance("p-1001"))
    await asyncio.wait_for(office.request_arrived.wait(), timeout=5)
    with pytest.raises(BackOfficeUnavailable, match="circuit is open"):
        await backend.bonuses("p-1001")
    assert (await trial).currency == "EUR"
    assert breaker_state(backend) == "closed"
    assert len(office.requests) == 2


async def test_not_found_and_refusals_do_not_open_the_breaker(
    make_backend: BackendFactory,
) -> None:
    backend = make_backend(breaker_failures=1)
    with pytest.raises(PlayerNotFound):
        await backend.balance("p-9999")
    with pytest.raises(BackOfficeRefused):
        await backend.set_cooling_off(
            "p-1001", until=datetime(2020, 1, 1, tzinfo=UTC), confirmation=confirmation()
        )
    assert breaker_state(backend) == "closed"


# --- cache ------------------------------------------------------------------------------


async def test_cache_serves_repeated_reads_until_it_expires(
    office: FakeBackOffice, make_backend: BackendFactory, monotonic: ManualMonotonic
) -> None:
    backend = make_backend(cache_seconds=10)
    first = await backend.balance("p-1001")
    assert await backend.balance("p-1001") == first
    assert office.count("/balance") == 1
    await backend.payments("p-1001", limit=1)
    await backend.payments("p-1001", limit=3)
    assert office.count("/payments") == 2, "the query is part of the key"

    monotonic.advance(10)
    await backend.balance("p-1001")
    assert office.count("/balance") == 2


async def test_cached_answers_survive_an_open_circuit(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(cache_seconds=10, retries=0, breaker_failures=1)
    balance = await backend.balance("p-1001")
    office.fail_next(Fault("status", status=503))
    with pytest.raises(BackOfficeUnavailable):
        await backend.bonuses("p-1001")
    assert breaker_state(backend) == "open"
    assert await backend.balance("p-1001") == balance


async def test_a_post_invalidates_the_players_cached_reads(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(cache_seconds=10)
    before = await backend.responsible_gambling("p-1001")
    assert await backend.find_player(email="anna@example.com") is not None
    await backend.balance("p/1002")
    assert before.cooling_off_until is None

    until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    answered = await backend.set_cooling_off("p-1001", until=until, confirmation=confirmation())
    assert answered.cooling_off_until == until

    after = await backend.responsible_gambling("p-1001")
    assert after.cooling_off_until == until
    assert office.count("/responsible-gambling") == 2
    await backend.find_player(email="anna@example.com")
    assert office.count("/v1/players") == 2, "a lookup by email of that player is forgotten too"
    await backend.balance("p/1002")
    assert office.count("/balance") == 1, "other players stay cached"


# --- changes ----------------------------------------------------------------------------


async def test_password_reset_is_accepted(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    await make_backend().send_password_reset("p-1001")
    assert office.applied_changes == 1
    office.fail_next(Fault("body", body=b'{"sent": false}'))
    with pytest.raises(BackOfficeUnavailable):
        await make_backend().send_password_reset("p-1001")


async def test_a_timed_out_post_is_retried_once_with_the_same_idempotency_key(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(timeout_seconds=0.3, retries=2)
    office.fail_next(Fault("delay", seconds=0.6))
    until = datetime.now(UTC) + timedelta(days=1)
    protection = await backend.set_cooling_off("p-1001", until=until, confirmation=confirmation())
    assert protection.cooling_off_until is not None

    posts = [request for request in office.requests if request.method == "POST"]
    assert len(posts) == 2
    assert posts[0].idempotency_key is not None
    assert posts[0].idempotency_key == posts[1].idempotency_key

    # The slow first attempt still lands later; the key makes it a repeat, not a second change.
    await asyncio.sleep(0.5)
    assert office.applied_changes == 1

    await backend.send_password_reset("p-1001")
    keys = {request.idempotency_key for request in office.requests if request.method == "POST"}
    assert len(keys) == 2, "a new action gets a new key"


async def test_a_post_is_tried_at_most_twice(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(retries=5)
    office.fail_next(Fault("drop"), times=3)
    with pytest.raises(BackOfficeUnavailable):
        await backend.send_password_reset("p-1001")
    posts = [request for request in office.requests if request.method == "POST"]
    assert len(posts) == 2
    assert len({request.idempotency_key for request in posts}) == 1


async def test_a_post_answered_with_a_server_error_is_not_repeated(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    backend = make_backend(retries=2)
    office.fail_next(Fault("status", status=500))
    with pytest.raises(BackOfficeUnavailable):
        await backend.set_self_exclusion("p-1001", until=None, confirmation=confirmation())
    assert len([request for request in office.requests if request.method == "POST"]) == 1


async def test_a_refused_change_raises_back_office_refused_with_the_field(
    make_backend: BackendFactory,
) -> None:
    with pytest.raises(BackOfficeRefused) as refused:
        await make_backend().set_self_exclusion(
            "p-1001", until=datetime(2020, 1, 1, tzinfo=UTC), confirmation=confirmation()
        )
    assert refused.value.field == "until"
    assert refused.value.error == "must_be_in_the_future"
    assert isinstance(refused.value, ValueError)


async def test_naive_datetimes_are_refused_before_sending(
    office: FakeBackOffice, make_backend: BackendFactory
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        await make_backend().set_cooling_off(
            "p-1001", until=datetime(2030, 1, 1), confirmation=confirmation()
        )
    assert office.requests == []


async def test_backend_is_an_async_context_manager(base_url: str) -> None:
    config = CasinoApiConfig(base_url=base_url, bearer_token=BEARER_TOKEN)
    async with HttpCasinoBackend(config) as backend:
        # Typed as the protocol, so that mypy checks the adapter implements all of it.
        as_protocol: CasinoBackend = backend
        assert (await as_protocol.balance("p-1001")).currency == "EUR"


# --- against the demo back office -------------------------------------------------------

# Players of the demo back office whose stories these tests rely on.
DEMO_MID_WAGERING = "204117"
DEMO_WITH_PHONE = "100482"  # phone "+44 7700 900481"
DEMO_COOLING_OFF = "281093"
DEMO_SELF_EXCLUDED = "401509"


@dataclass
class DemoBackOffice:
    base_url: str
    faults: DemoFaults


@pytest.fixture
async def demo() -> AsyncIterator[DemoBackOffice]:
    faults = DemoFaults()
    app = create_demo_backoffice(bearer_token=BEARER_TOKEN, hmac_secret=HMAC_SECRET, faults=faults)
    async with serving(app) as url:
        yield DemoBackOffice(base_url=url, faults=faults)


@asynccontextmanager
async def demo_backend(demo: DemoBackOffice, **overrides: Any) -> AsyncIterator[HttpCasinoBackend]:
    settings: dict[str, Any] = {
        "base_url": demo.base_url,
        "timeout_seconds": 5.0,
        "backoff_seconds": 0.01,
        "cache_seconds": 0,
        **overrides,
    }
    async with HttpCasinoBackend(CasinoApiConfig(**settings)) as backend:
        yield backend


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"bearer_token": BEARER_TOKEN}, id="bearer"),
        pytest.param({"hmac_secret": HMAC_SECRET}, id="hmac"),
    ],
)
async def test_every_read_against_the_demo_back_office(
    demo: DemoBackOffice, credentials: dict[str, str]
) -> None:
    async with demo_backend(demo, **credentials) as backend:
        player = await backend.find_player(external_id=DEMO_MID_WAGERING)
        assert player is not None
        assert player.name == "James Whitfield"
        assert player.registered_at.tzinfo is not None
        assert await backend.find_player(email="james.whitfield@example.com") == player
        by_phone = await backend.find_player(phone="+44 7700 900481")
        assert by_phone is not None
        assert by_phone.external_id == DEMO_WITH_PHONE
        assert await backend.find_player(email="nobody@example.com") is None

        balance = await backend.balance(DEMO_MID_WAGERING)
        assert balance.currency == "GBP"
        assert balance.bonus_money == Decimal("50.00")
        payments = await backend.payments(DEMO_COOLING_OFF, limit=2)
        assert len(payments) == 2
        assert payments[0].created_at >= payments[1].created_at
        bonuses = await backend.bonuses(DEMO_MID_WAGERING)
        assert bonuses[0].status is BonusStatus.ACTIVE
        assert bonuses[0].wagering_done < bonuses[0].wagering_required
        assert bonuses[0].game_contributions["slots"] == 100
        assert (await backend.verification(DEMO_MID_WAGERING)).status is (
            VerificationStatus.VERIFIED
        )
        cooling_off = await backend.responsible_gambling(DEMO_COOLING_OFF)
        assert cooling_off.cooling_off_until is not None
        excluded = await backend.responsible_gambling(DEMO_SELF_EXCLUDED)
        assert excluded.self_excluded

        with pytest.raises(PlayerNotFound):
            await backend.verification("999999")


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param({"bearer_token": BEARER_TOKEN}, id="bearer"),
        pytest.param({"hmac_secret": HMAC_SECRET}, id="hmac"),
    ],
)
async def test_every_change_against_the_demo_back_office(
    demo: DemoBackOffice, credentials: dict[str, str]
) -> None:
    async with demo_backend(demo, **credentials) as backend:
        await backend.send_password_reset(DEMO_MID_WAGERING)

        until = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
        cooling_off = await backend.set_cooling_off(
            DEMO_MID_WAGERING, until=until, confirmation=confirmation()
        )
        assert cooling_off.cooling_off_until == until
        assert (await backend.responsible_gambling(DEMO_MID_WAGERING)).cooling_off_until == until

        excluded = await backend.set_self_exclusion(
            DEMO_MID_WAGERING, until=None, confirmation=confirmation()
        )
        assert excluded.self_excluded
        assert excluded.self_excluded_until is None
        player = await backend.find_player(external_id=DEMO_MID_WAGERING)
        assert player is not None
        assert player.status is AccountStatus.SELF_EXCLUDED

        with pytest.raises(BackOfficeRefused) as refused:
            await backend.set_cooling_off(
                DEMO_WITH_PHONE,
                until=datetime.now(UTC) + timedelta(weeks=10),
                confirmation=confirmation(),
            )
        assert refused.value.field == "until"
        with pytest.raises(PlayerNotFound):
            await backend.send_password_reset("999999")


async def test_wrong_credentials_against_the_demo_back_office(demo: DemoBackOffice) -> None:
    async with demo_backend(demo, bearer_token="wrong") as backend:
        with pytest.raises(BackOfficeUnavailable):
            await backend.balance(DEMO_MID_WAGERING)
    async with demo_backend(demo, hmac_secret="wrong") as backend:
        with pytest.raises(BackOfficeUnavailable):
            await backend.balance(DEMO_MID_WAGERING)


async def test_demo_faults_make_the_back_office_unavailable(demo: DemoBackOffice) -> None:
    async with demo_backend(demo, bearer_token=BEARER_TOKEN, retries=1) as backend:
        demo.faults.fail_status = 503
        with pytest.raises(BackOfficeUnavailable):
            await backend.balance(DEMO_MID_WAGERING)
        demo.faults.fail_status = None
        demo.faults.malformed = True
        with pytest.raises(BackOfficeUnavailable):
            await backend.find_player(external_id=DEMO_MID_WAGERING)
        demo.faults.malformed = False
        assert (await backend.balance(DEMO_MID_WAGERING)).currency == "GBP"

    async with demo_backend(
        demo, bearer_token=BEARER_TOKEN, timeout_seconds=0.2, retries=0
    ) as backend:
        demo.faults.delay_seconds = 0.5
        with pytest.raises(BackOfficeUnavailable):
            await backend.bonuses(DEMO_MID_WAGERING)
        demo.faults.delay_seconds = 0
