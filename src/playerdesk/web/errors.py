"""Every error leaves as RFC 9457 problem+json, mapped here and nowhere else."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from playerdesk.domain.errors import (
    AuthenticationFailed,
    Conflict,
    DomainError,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    TooManyAttempts,
    Unavailable,
    UnsupportedMediaType,
    ValidationFailed,
)

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

_STATUS_BY_ERROR: list[tuple[type[DomainError], int]] = [
    (ValidationFailed, 422),
    (NotFound, 404),
    (Conflict, 409),
    (PermissionDenied, 403),
    (AuthenticationFailed, 401),
    (TooManyAttempts, 429),
    (Unavailable, 503),
    (PayloadTooLarge, 413),
    (UnsupportedMediaType, 415),
]


class RequestBodyTooLarge(StarletteHTTPException):
    """Raised while the body streams in, so that FastAPI's body parsing lets it through."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=f"the request body is larger than {limit} bytes")
        self.limit = limit


def status_for(error: DomainError) -> int:
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def problem(
    status: int,
    *,
    detail: str,
    code: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    phrase = HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": f"urn:playerdesk:problem:{code or phrase.lower().replace(' ', '_')}",
        "title": phrase,
        "status": status,
        "detail": detail,
    }
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _field_from_location(location: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_message(error: dict[str, Any]) -> str:
    if error.get("type") == "extra_forbidden":
        return "unknown field"
    if error.get("type") == "missing":
        return "this field is required"
    if error.get("type") == "value_error" and "error" in (error.get("ctx") or {}):
        # Our own validators' messages, without pydantic's "Value error, " prefix.
        return str(error["ctx"]["error"])
    return str(error.get("msg", "invalid value"))


async def _on_domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    headers: dict[str, str] = {}
    status = status_for(exc)
    if isinstance(exc, TooManyAttempts | Unavailable):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, AuthenticationFailed):
        headers["WWW-Authenticate"] = "Bearer"
    errors = [{"field": exc.field, "message": exc.detail}] if exc.field else None
    return problem(status, detail=exc.detail, code=exc.code, errors=errors, headers=headers)


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    raw = list(exc.errors())
    if any(error.get("type") == "json_invalid" for error in raw):
        return problem(
            400,
            detail="the body is not valid JSON",
            code="malformed_json",
            errors=[{"field": "body", "message": "malformed JSON"}],
        )
    errors = [
        {"field": _field_from_location(error.get("loc", ())), "message": _validation_message(error)}
        for error in raw
    ]
    return problem(
        422, detail="the request has invalid fields", code="validation_failed", errors=errors
    )


def body_too_large(limit: int) -> JSONResponse:
    return problem(
        413,
        detail=f"the request body is larger than {limit} bytes",
        errors=[{"field": "body", "message": f"at most {limit} bytes"}],
    )


async def _on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if isinstance(exc, RequestBodyTooLarge):
        return body_too_large(exc.limit)
    errors = None
    if exc.status_code == 400:
        # FastAPI's "There was an error parsing the body" (e.g. JSON nested too deep) and
        # Starlette's invalid multipart data: both are about the body as a whole.
        errors = [{"field": "body", "message": str(exc.detail)}]
    return problem(
        exc.status_code, detail=str(exc.detail), errors=errors, headers=dict(exc.headers or {})
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem(500, detail="something went wrong on our side; nothing was changed")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
