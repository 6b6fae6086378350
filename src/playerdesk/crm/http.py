"""The casino's back office over HTTP: the `CasinoBackend` a real installation uses.

Support pages and the bot call this while a player waits, so a slow or broken back office
must cost little: a short timeout per request, a few retries for reads only, a circuit breaker
that stops calling a back office that keeps failing, and a short cache for reads. Whatever the
back office answers is checked field by field: a contract violation is logged (never the
body: it carries personal data) and shown to support as "account data unavailable".
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import quote, urlencode

import httpx
import structlog

from playerdesk.crm.base import (
    AccountStatus,
    BackOfficeUnavailable,
    Balance,
    Bonus,
    BonusStatus,
    CasinoPlayer,
    Document,
    DocumentKind,
    DocumentStatus,
    Limit,
    LimitKind,
    LimitPeriod,
    Payment,
    PaymentKind,
    PaymentStatus,
    PlayerConfirmation,
    PlayerNotFound,
    ResponsibleGambling,
    Verification,
    VerificationStatus,
)

log = structlog.get_logger(__name__)

ParsedT = TypeVar("ParsedT")
EnumT = TypeVar("EnumT", bound=StrEnum)

MonotonicSeconds = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, kw_only=True)
class CasinoApiConfig:
    base_url: str
    bearer_token: str | None = None
    hmac_secret: str | None = None
    timeout_seconds: float = 2.0
    # Extra attempts for reads; a POST gets at most one (see HttpCasinoBackend._post).
    retries: int = 2
    backoff_seconds: float = 0.2
    breaker_failures: int = 5
    breaker_reset_seconds: float = 30.0
    # 0 turns the cache off.
    cache_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.base_url:
            raise ValueError("the casino API needs a base URL")
        if not self.bearer_token and not self.hmac_secret:
            # Fail at start-up rather than on the first player lookup.
            raise ValueError("the casino API needs a bearer token or an HMAC secret")
        if self.timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        if self.retries < 0 or self.breaker_failures < 1:
            raise ValueError("retries must be >= 0 and breaker_failures >= 1")


class BackOfficeRefused(ValueError):
    """The back office refused a change it understood (HTTP 422): the agent must correct the
    input (`field` names it when the back office says which) rather than retry."""

    def __init__(self, error: str, *, field: str | None) -> None:
        super().__init__(error if field is None else f"{error} ({field})")
        self.error = error
        self.field = field


class ContractViolation(Exception):
    """The back office answered something the contract does not allow. The message names
    fields only, never values, so that it can be logged."""


# --- circuit breaker --------------------------------------------------------------------


class CircuitBreaker:
    """After `failure_threshold` consecutive failed calls, calls fail at once for
    `reset_seconds` instead of each waiting for its own timeouts; then one trial call goes
    through (half-open): its success closes the circuit, its failure opens it again."""

    def __init__(
        self, *, failure_threshold: int, reset_seconds: float, monotonic: MonotonicSeconds
    ) -> None:
        self._failure_threshold = failure_threshold
        self._reset_seconds = reset_seconds
        self._monotonic = monotonic
        self._consecutive_failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        if self._monotonic() - self._opened_at < self._reset_seconds:
            return "open"
        return "half_open"

    def acquire(self) -> bool:
        """Let a call through or raise BackOfficeUnavailable; True when it is the trial."""
        state = self.state
        if state == "closed":
            return False
        if state == "open" or self._trial_in_flight:
            raise BackOfficeUnavailable("casino back office circuit is open")
        self._trial_in_flight = True
        return True

    def record_success(self, *, trial: bool) -> None:
        if self._opened_at is not None:
            log.info("casino_api.circuit_closed")
        self._consecutive_failures = 0
        self._opened_at = None
        if trial:
            self._trial_in_flight = False

    def record_failure(self, *, trial: bool) -> None:
        self._consecutive_failures += 1
        if trial:
            self._trial_in_flight = False
            self._opened_at = self._monotonic()
            log.warning("casino_api.circuit_reopened")
        elif self._opened_at is None and self._consecutive_failures >= self._failure_threshold:
            self._opened_at = self._monotonic()
            log.warning("casino_api.circuit_opened", failures=self._consecutive_failures)

    def abandon(self, *, trial: bool) -> None:
        """The call was cancelled before it said anything about the back office."""
        if trial:
            self._trial_in_flight = False


# --- read cache -------------------------------------------------------------------------


@dataclass(frozen=True)
class _CachedAnswer:
    expires_at: float
    payload: Any  # the decoded JSON, parsed again on each hit so callers get fresh objects
    player_id: str


class _ReadCache:
    """Answers to reads for a few seconds: one support page asks for the same player several
    times (sidebar, bot, macros) and should not hit the back office for each."""

    def __init__(self, *, ttl_seconds: float, monotonic: MonotonicSeconds) -> None:
        self._ttl_seconds = ttl_seconds
        self._monotonic = monotonic
        self._answers: dict[str, _CachedAnswer] = {}

    def get(self, key: str) -> Any | None:
        answer = self._answers.get(key)
        if answer is None:
            return None
        if answer.expires_at <= self._monotonic():
            del self._answers[key]
            return None
        return answer.payload

    def put(self, key: str, payload: Any, *, player_id: str) -> None:
        if self._ttl_seconds <= 0:
            return
        self._answers[key] = _CachedAnswer(
            expires_at=self._monotonic() + self._ttl_seconds, payload=payload, player_id=player_id
        )

    def forget_player(self, player_id: str) -> None:
        self._answers = {
            key: answer for key, answer in self._answers.items() if answer.player_id != player_id
        }


# --- strict parsing ---------------------------------------------------------------------

_DECIMAL_STRING = re.compile(r"-?\d+(\.\d+)?")
_ABSENT = object()


class _Fields:
    """One JSON object of the contract, read field by field with its type checked."""

    def __init__(self, data: object, *, where: str) -> None:
        if not isinstance(data, dict):
            raise ContractViolation(f"{where} is not an object")
        self._data: dict[str, object] = data
        self._where = where

    def _raw(self, name: str, *, required: bool = True) -> object:
        if name not in self._data:
            if required:
                raise ContractViolation(f"{self._where}.{name} is missing")
            return _ABSENT
        return self._data[name]

    def _wrong(self, name: str, expected: str) -> ContractViolation:
        return ContractViolation(f"{self._where}.{name} is not {expected}")

    def text(self, name: str) -> str:
        value = self._raw(name)
        if not isinstance(value, str):
            raise self._wrong(name, "a string")
        return value

    def optional_text(self, name: str, *, required: bool = True) -> str | None:
        value = self._raw(name, required=required)
        return None if value is None or value is _ABSENT else self.text(name)

    def flag(self, name: str) -> bool:
        value = self._raw(name)
        if not isinstance(value, bool):
            raise self._wrong(name, "a boolean")
        return value

    def moment(self, name: str) -> datetime:
        value = self.text(name)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise self._wrong(name, "an ISO 8601 timestamp") from None
        if parsed.tzinfo is None:
            # A timestamp without an offset is ambiguous by hours: refuse it, never guess.
            raise self._wrong(name, "a timestamp with an offset")
        return parsed

    def optional_moment(self, name: str, *, required: bool = True) -> datetime | None:
        value = self._raw(name, required=required)
        return None if value is None or value is _ABSENT else self.moment(name)

    def amount(self, name: str) -> Decimal:
        value = self._raw(name)
        # Strings only: a JSON number would have gone through a binary float somewhere.
        if not isinstance(value, str) or not _DECIMAL_STRING.fullmatch(value):
            raise self._wrong(name, 'a decimal string like "250.00"')
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            raise self._wrong(name, "a decimal string") from None

    def optional_amount(self, name: str, *, required: bool = True) -> Decimal | None:
        value = self._raw(name, required=required)
        return None if value is None or value is _ABSENT else self.amount(name)

    def choice(self, name: str, kind: type[EnumT]) -> EnumT:
        value = self.text(name)
        try:
            return kind(value)
        except ValueError:
            raise self._wrong(name, f"one of the {kind.__name__} values") from None

    def objects(self, name: str) -> list[_Fields]:
        value = self._raw(name)
        if not isinstance(value, list):
            raise self._wrong(name, "a list")
        return [
            _Fields(item, where=f"{self._where}.{name}[{index}]")
            for index, item in enumerate(value)
        ]

    def texts(self, name: str) -> list[str]:
        value = self._raw(name)
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self._wrong(name, "a list of strings")
        return list(value)

    def percentages(self, name: str) -> dict[str, int]:
        value = self._raw(name, required=False)
        if value is _ABSENT:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(key, str) and isinstance(item, int) and not isinstance(item, bool)
            for key, item in value.items()
        ):
            raise self._wrong(name, "an object of whole percentages")
        return dict(value)


def parse_player(payload: object) -> CasinoPlayer:
    fields = _Fields(payload, where="player")
    return CasinoPlayer(
        external_id=fields.text("external_id"),
        name=fields.text("name"),
        email=fields.optional_text("email"),
        phone=fields.optional_text("phone"),
        status=fields.choice("status", AccountStatus),
        country=fields.text("country"),
        language=fields.text("language"),
        registered_at=fields.moment("registered_at"),
        vip_tier=fields.optional_text("vip_tier"),
        personal_manager=fields.optional_text("personal_manager"),
    )


def parse_balance(payload: object) -> Balance:
    fields = _Fields(payload, where="balance")
    return Balance(
        currency=fields.text("currency"),
        real_money=fields.amount("real_money"),
        bonus_money=fields.amount("bonus_money"),
        withdrawable=fields.amount("withdrawable"),
    )


def _parse_payment(fields: _Fields) -> Payment:
    return Payment(
        id=fields.text("id"),
        kind=fields.choice("kind", PaymentKind),
        method=fields.text("method"),
        amount=fields.amount("amount"),
        currency=fields.text("currency"),
        status=fields.choice("status", PaymentStatus),
        reason=fields.optional_text("reason"),
        created_at=fields.moment("created_at"),
        updated_at=fields.moment("updated_at"),
    )


def parse_payments(payload: object) -> list[Payment]:
    return [_parse_payment(item) for item in _Fields(payload, where="body").objects("payments")]


def _parse_bonus(fields: _Fields) -> Bonus:
    return Bonus(
        id=fields.text("id"),
        name=fields.text("name"),
        status=fields.choice("status", BonusStatus),
        currency=fields.text("currency"),
        amount=fields.amount("amount"),
        wagering_required=fields.amount("wagering_required"),
        wagering_done=fields.amount("wagering_done"),
        expires_at=fields.optional_moment("expires_at"),
        max_bet=fields.optional_amount("max_bet"),
        max_cashout=fields.optional_amount("max_cashout"),
        game_contributions=fields.percentages("game_contributions"),
    )


def parse_bonuses(payload: object) -> list[Bonus]:
    return [_parse_bonus(item) for item in _Fields(payload, where="body").objects("bonuses")]


def parse_verification(payload: object) -> Verification:
    fields = _Fields(payload, where="verification")
    return Verification(
        status=fields.choice("status", VerificationStatus),
        documents=[
            Document(
                kind=document.choice("kind", DocumentKind),
                status=document.choice("status", DocumentStatus),
                reason=document.optional_text("reason"),
            )
            for document in fields.objects("documents")
        ],
    )


def _parse_limit(fields: _Fields) -> Limit:
    return Limit(
        kind=fields.choice("kind", LimitKind),
        period=fields.choice("period", LimitPeriod),
        amount=fields.amount("amount"),
        currency=fields.optional_text("currency"),
        # Optional in the contract as in the dataclass: most limits have nothing pending.
        pending_amount=fields.optional_amount("pending_amount", required=False),
        pending_from=fields.optional_moment("pending_from", required=False),
    )


def parse_responsible_gambling(payload: object) -> ResponsibleGambling:
    fields = _Fields(payload, where="responsible_gambling")
    return ResponsibleGambling(
        limits=[_parse_limit(limit) for limit in fields.objects("limits")],
        cooling_off_until=fields.optional_moment("cooling_off_until"),
        self_excluded=fields.flag("self_excluded"),
        self_excluded_until=fields.optional_moment("self_excluded_until"),
        national_register_hits=fields.texts("national_register_hits"),
    )


def _parse_reset_sent(payload: object) -> None:
    if _Fields(payload, where="password_reset").flag("sent") is not True:
        raise ContractViolation("password_reset.sent is not true")


def _confirmation_json(confirmation: PlayerConfirmation) -> dict[str, object]:
    return {
        "statement": confirmation.statement,
        "confirmed_at": _aware(confirmation.confirmed_at, "confirmed_at").isoformat(),
        "channel": confirmation.channel,
        "ticket_number": confirmation.ticket_number,
        "agent_email": confirmation.agent_email,
    }


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


# --- the backend ------------------------------------------------------------------------


class _NoAnswer(Exception):
    """A timeout, a dropped connection or a 5xx. `retryable`: worth another attempt."""

    def __init__(self, problem: str, *, retryable: bool) -> None:
        super().__init__(problem)
        self.retryable = retryable


@dataclass(frozen=True)
class _Answer:
    status: int
    payload: object


class HttpCasinoBackend:
    """`CasinoBackend` over the HTTP contract of docs/casino-api.yaml."""

    def __init__(
        self,
        config: CasinoApiConfig,
        *,
        monotonic: MonotonicSeconds = time.monotonic,
        wall_clock_seconds: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._wall_clock_seconds = wall_clock_seconds
        self._sleep = sleep
        self._breaker = CircuitBreaker(
            failure_threshold=config.breaker_failures,
            reset_seconds=config.breaker_reset_seconds,
            monotonic=monotonic,
        )
        self._cache = _ReadCache(ttl_seconds=config.cache_seconds, monotonic=monotonic)
        self._client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/"),
            timeout=httpx.Timeout(config.timeout_seconds),
            transport=transport,
            headers={"Accept": "application/json"},
        )

    @property
    def breaker(self) -> CircuitBreaker:
        return self._breaker

    async def close(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpCasinoBackend:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    # --- reads --------------------------------------------------------------------------

    async def find_player(
        self,
        *,
        external_id: str | None = None,
        email: str | None = None,
        phone: str | None = None,
    ) -> CasinoPlayer | None:
        given = {
            name: value
            for name, value in (("external_id", external_id), ("email", email), ("phone", phone))
            if value is not None
        }
        if len(given) != 1:
            raise ValueError("find_player takes exactly one of external_id, email, phone")
        ((lookup_by, value),) = given.items()
        try:
            return await self._read(
                "find_player",
                "/v1/players",
                query={lookup_by: value},
                parse=parse_player,
                owner=lambda player: player.external_id,
                log_context={"lookup_by": lookup_by},
            )
        except PlayerNotFound:
            return None

    async def balance(self, external_id: str) -> Balance:
        return await self._read_for_player("balance", external_id, "balance", parse_balance)

    async def payments(self, external_id: str, *, limit: int = 10) -> list[Payment]:
        if limit < 1:
            raise ValueError("limit must be positive")
        payments = await self._read_for_player(
            "payments", external_id, "payments", parse_payments, query={"limit": str(limit)}
        )
        # A back office that ignores the limit still must not flood the support sidebar.
        return payments[:limit]

    async def bonuses(self, external_id: str) -> list[Bonus]:
        return await self._read_for_player("bonuses", external_id, "bonuses", parse_bonuses)

    async def verification(self, external_id: str) -> Verification:
        return await self._read_for_player(
            "verification", external_id, "verification", parse_verification
        )

    async def responsible_gambling(self, external_id: str) -> ResponsibleGambling:
        return await self._read_for_player(
            "responsible_gambling",
            external_id,
            "responsible-gambling",
            parse_responsible_gambling,
        )

    # --- changes ------------------------------------------------------------------------

    async def send_password_reset(self, external_id: str) -> None:
        await self._post(
            "send_password_reset",
            external_id,
            "password-reset",
            body={},
            success_status=202,
            parse=_parse_reset_sent,
        )

    async def set_cooling_off(
        self, external_id: str, *, until: datetime, confirmation: PlayerConfirmation
    ) -> ResponsibleGambling:
        return await self._post(
            "set_cooling_off",
            external_id,
            "cooling-off",
            body={
                "until": _aware(until, "until").isoformat(),
                "confirmation": _confirmation_json(confirmation),
            },
            success_status=200,
            parse=parse_responsible_gambling,
        )

    async def set_self_exclusion(
        self,
        external_id: str,
        *,
        until: datetime | None,
        confirmation: PlayerConfirmation,
    ) -> ResponsibleGambling:
        return await self._post(
            "set_self_exclusion",
            external_id,
            "self-exclusion",
            body={
                "until": None if until is None else _aware(until, "until").isoformat(),
                "confirmation": _confirmation_json(confirmation),
            },
            success_status=200,
            parse=parse_responsible_gambling,
        )

    # --- plumbing -----------------------------------------------------------------------

    @staticmethod
    def _player_path(external_id: str, resource: str) -> str:
        return f"/v1/players/{quote(external_id, safe='')}/{resource}"

    async def _read_for_player(
        self,
        operation: str,
        external_id: str,
        resource: str,
        parse: Callable[[object], ParsedT],
        *,
        query: Mapping[str, str] | None = None,
    ) -> ParsedT:
        return await self._read(
            operation,
            self._player_path(external_id, resource),
            query=query or {},
            parse=parse,
            owner=lambda _parsed: external_id,
            log_context={"external_id": external_id},
        )

    async def _read(
        self,
        operation: str,
        path: str,
        *,
        query: Mapping[str, str],
        parse: Callable[[object], ParsedT],
        owner: Callable[[ParsedT], str],
        log_context: Mapping[str, str],
    ) -> ParsedT:
        cache_key = f"{path}?{urlencode(sorted(query.items()))}"
        cached = self._cache.get(cache_key)
        if cached is not None:
            return parse(cached)
        payload, parsed = await self._call(
            operation,
            "GET",
            path,
            query=query,
            body=None,
            success_status=200,
            parse=parse,
            max_attempts=1 + self._config.retries,
            log_context=log_context,
        )
        self._cache.put(cache_key, payload, player_id=owner(parsed))
        return parsed

    async def _post(
        self,
        operation: str,
        external_id: str,
        resource: str,
        *,
        body: dict[str, object],
        success_status: int,
        parse: Callable[[object], ParsedT],
    ) -> ParsedT:
        # A POST that timed out or lost its connection may still have been applied. Sending it
        # again is safe only because the back office recognises the repeated Idempotency-Key
        # and answers with the first result; once at most, because an agent is waiting and a
        # protective measure must rather be reported as failed than hang.
        idempotency_key = str(uuid.uuid4())
        try:
            _payload, parsed = await self._call(
                operation,
                "POST",
                self._player_path(external_id, resource),
                query={},
                body=json.dumps(body, separators=(",", ":")).encode(),
                success_status=success_status,
                parse=parse,
                max_attempts=min(2, 1 + self._config.retries),
                log_context={"external_id": external_id},
                extra_headers={"Idempotency-Key": idempotency_key},
            )
        finally:
            # Even a failed POST may have changed the player: later reads must ask again.
            self._cache.forget_player(external_id)
        return parsed

    async def _call(
        self,
        operation: str,
        method: Literal["GET", "POST"],
        path: str,
        *,
        query: Mapping[str, str],
        body: bytes | None,
        success_status: int,
        parse: Callable[[object], ParsedT],
        max_attempts: int,
        log_context: Mapping[str, str],
        extra_headers: Mapping[str, str] | None = None,
    ) -> tuple[object, ParsedT]:
        """One logical call through the breaker: attempts, status handling and parsing.
        Returns the decoded payload (for the cache) and what it parsed into."""
        trial = self._breaker.acquire()
        outcome_recorded = False
        try:
            try:
                answer = await self._attempts(
                    operation,
                    method,
                    path,
                    query=query,
                    body=body,
                    max_attempts=max_attempts,
                    log_context=log_context,
                    extra_headers=extra_headers or {},
                )
                parsed = self._interpret(
                    answer,
                    success_status=success_status,
                    refusals_expected=method == "POST",
                    parse=parse,
                )
            except (_NoAnswer, ContractViolation) as failure:
                self._breaker.record_failure(trial=trial)
                outcome_recorded = True
                event = (
                    "casino_api.contract_violation"
                    if isinstance(failure, ContractViolation)
                    else "casino_api.unavailable"
                )
                log.warning(event, operation=operation, problem=str(failure), **log_context)
                raise BackOfficeUnavailable(
                    f"casino back office failed on {operation}"
                ) from failure
            except (PlayerNotFound, BackOfficeRefused):
                # A clear answer from a working back office.
                self._breaker.record_success(trial=trial)
                outcome_recorded = True
                raise
            self._breaker.record_success(trial=trial)
            outcome_recorded = True
            return answer.payload, parsed
        finally:
            if not outcome_recorded:
                self._breaker.abandon(trial=trial)

    async def _attempts(
        self,
        operation: str,
        method: Literal["GET", "POST"],
        path: str,
        *,
        query: Mapping[str, str],
        body: bytes | None,
        max_attempts: int,
        log_context: Mapping[str, str],
        extra_headers: Mapping[str, str],
    ) -> _Answer:
        for attempt in range(1, max_attempts + 1):
            try:
                return await self._attempt(
                    method,
                    path,
                    query=query,
                    body=body,
                    retry_server_errors=method == "GET",
                    extra_headers=extra_headers,
                )
            except _NoAnswer as failure:
                if not failure.retryable or attempt == max_attempts:
                    raise
                log.info(
                    "casino_api.retry",
                    operation=operation,
                    attempt=attempt,
                    problem=str(failure),
                    **log_context,
                )
                await self._sleep(self._config.backoff_seconds * 2 ** (attempt - 1))
        raise AssertionError("unreachable: max_attempts is at least 1")  # pragma: no cover

    async def _attempt(
        self,
        method: Literal["GET", "POST"],
        path: str,
        *,
        query: Mapping[str, str],
        body: bytes | None,
        retry_server_errors: bool,
        extra_headers: Mapping[str, str],
    ) -> _Answer:
        headers = dict(extra_headers)
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = self._client.build_request(
            method, path, params=dict(query), content=body, headers=headers
        )
        self._authenticate(request, body=body or b"")
        try:
            # httpx times each phase (connect, write, read) on its own; this bounds the whole
            # exchange, so a back office trickling bytes cannot hold a support page either.
            async with asyncio.timeout(self._config.timeout_seconds):
                response = await self._client.send(request)
        except (TimeoutError, httpx.TimeoutException):
            raise _NoAnswer("timed out", retryable=True) from None
        except httpx.TransportError as error:
            raise _NoAnswer(f"transport error: {type(error).__name__}", retryable=True) from None
        if response.status_code >= 500:
            # A POST's 5xx is an answer: the back office says it failed, so do not repeat it.
            raise _NoAnswer(f"status {response.status_code}", retryable=retry_server_errors)
        return _Answer(status=response.status_code, payload=self._decode(response))

    def _authenticate(self, request: httpx.Request, *, body: bytes) -> None:
        if self._config.bearer_token:
            request.headers["Authorization"] = f"Bearer {self._config.bearer_token}"
        if self._config.hmac_secret:
            timestamp = str(int(self._wall_clock_seconds()))
            # The path as sent, percent-encoding and query string included.
            signed = b"\n".join(
                [
                    timestamp.encode(),
                    request.method.encode(),
                    request.url.raw_path,
                    body,
                ]
            )
            digest = hmac.new(self._config.hmac_secret.encode(), signed, hashlib.sha256)
            request.headers["X-PlayerDesk-Timestamp"] = timestamp
            request.headers["X-PlayerDesk-Signature"] = f"sha256={digest.hexdigest()}"

    @staticmethod
    def _decode(response: httpx.Response) -> object:
        if not response.content:
            return None
        try:
            payload: object = json.loads(response.content)
        except ValueError:
            raise ContractViolation(f"status {response.status_code} body is not JSON") from None
        return payload

    @staticmethod
    def _interpret(
        answer: _Answer,
        *,
        success_status: int,
        refusals_expected: bool,
        parse: Callable[[object], ParsedT],
    ) -> ParsedT:
        if answer.status == success_status:
            return parse(answer.payload)
        if answer.status == 404:
            error = _Fields(answer.payload, where="error_body").text("error")
            if error == "player_not_found":
                raise PlayerNotFound()
            # Most likely a wrong base URL: a configuration problem, not a missing player.
            raise ContractViolation("status 404 without player_not_found")
        if answer.status in (401, 403):
            # Said apart in the log: the fix is the token or secret, not the back office.
            raise ContractViolation(f"status {answer.status}: credentials refused")
        if answer.status == 422 and refusals_expected:
            refusal = _Fields(answer.payload, where="refusal")
            raise BackOfficeRefused(
                refusal.text("error"), field=refusal.optional_text("field", required=False)
            )
        raise ContractViolation(f"unexpected status {answer.status}")
