"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from playerdesk.domain.errors import AuthenticationFailed
from playerdesk.web.deps import RuntimeDep, client_ip
from playerdesk.web.errors import problem

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
async def readyz(runtime: RuntimeDep) -> dict[str, str] | Response:
    try:
        async with runtime.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception:
        return problem(503, detail="the database is not reachable", code="not_ready")
    try:
        bus_ok = await runtime.bus.ping()
    except Exception:
        bus_ok = False
    if not bus_ok:
        return problem(503, detail="the event bus (Redis) is not reachable", code="not_ready")
    return {"status": "ready", "database": "ok", "bus": "ok"}


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return address in ("testclient", "localhost")


@router.get("/metrics")
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """With PLAYERDESK_METRICS_TOKEN set, scrapers send it as a bearer token; without it,
    only this machine may read the metrics."""
    expected = runtime.settings.metrics_token
    if expected:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise AuthenticationFailed("a valid metrics token is required")
    elif not _is_loopback(client_ip(request)):
        raise AuthenticationFailed("set PLAYERDESK_METRICS_TOKEN to read metrics remotely")
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
