"""Liveness, readiness, metrics, the OpenAPI document and the headers on every response."""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from playerdesk.clock import FrozenClock
from playerdesk.realtime.bus import RedisBus
from playerdesk.runtime import Runtime, build_runtime
from playerdesk.settings import Settings
from playerdesk.web.app import create_app
from tests.conftest import AgentFactory, RecordingBus, client_for

PROBLEM = "application/problem+json"


async def test_healthz(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_checks_the_database(
    client: httpx.AsyncClient, runtime: Runtime, tmp_path: Path
) -> None:
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "database": "ok", "bus": "ok"}

    working = runtime.engine
    unreachable = create_async_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/dir/x.db")
    runtime.engine = unreachable
    try:
        down = await client.get("/readyz")
    finally:
        runtime.engine = working
        await unreachable.dispose()
    assert down.status_code == 503
    assert down.headers["content-type"] == PROBLEM
    assert down.json()["type"] == "urn:playerdesk:problem:not_ready"
    assert (await client.get("/readyz")).status_code == 200


async def test_readyz_checks_the_bus(client: httpx.AsyncClient, runtime: Runtime) -> None:
    working = runtime.bus
    runtime.bus = RedisBus("redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        down = await client.get("/readyz")
    finally:
        await runtime.bus.close()
        runtime.bus = working
    assert down.status_code == 503
    assert "bus" in down.json()["detail"]


async def test_metrics_from_this_machine(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    await client.get("/api/v1/tickets", headers=agent.headers)
    await client.get("/api/v1/tickets/99", headers=agent.headers)

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "playerdesk_http_requests_total" in text
    assert "playerdesk_http_request_seconds_bucket" in text
    # Labelled by route template, never by the raw path (ids would explode the series).
    assert '/tickets/{ticket_id}",status="404"' in text
    assert "/tickets/99" not in text


async def test_metrics_from_elsewhere_need_the_metrics_token(
    settings: Settings, runtime: Runtime, clock: FrozenClock, bus: RecordingBus
) -> None:
    async with client_for(settings, runtime, ip="203.0.113.7") as remote:
        refused = await remote.get("/metrics")
        assert refused.status_code == 401
        assert refused.headers["content-type"] == PROBLEM
        assert "playerdesk_http" not in refused.text

    guarded = settings.model_copy(update={"metrics_token": "scrape-me-0123456789"})
    guarded_runtime = build_runtime(guarded, clock=clock, bus=bus)
    try:
        for ip in ("203.0.113.7", "127.0.0.1"):
            async with client_for(guarded, guarded_runtime, ip=ip) as scraper:
                assert (await scraper.get("/metrics")).status_code == 401
                wrong = await scraper.get("/metrics", headers={"Authorization": "Bearer nope"})
                assert wrong.status_code == 401
                right = await scraper.get(
                    "/metrics", headers={"Authorization": "Bearer scrape-me-0123456789"}
                )
                assert right.status_code == 200
                assert "playerdesk_http_requests_total" in right.text
    finally:
        await guarded_runtime.close()


@pytest.fixture
async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


EXPECTED_OPERATIONS = {
    ("/api/v1/mailboxes", "get"),
    ("/api/v1/mailboxes", "post"),
    ("/api/v1/mailboxes/{mailbox_id}", "patch"),
    ("/api/v1/mailboxes/{mailbox_id}", "delete"),
    ("/api/v1/outbox", "get"),
    ("/api/v1/tickets/{ticket_id}/messages/{message_id}/original", "get"),
    ("/api/v1/outbox/{outbox_id}/retry", "post"),
    ("/api/v1/tickets", "get"),
    ("/api/v1/tickets", "post"),
    ("/api/v1/tickets/{ticket_id}", "get"),
    ("/api/v1/tickets/{ticket_id}", "patch"),
    ("/api/v1/tickets/{ticket_id}/messages", "get"),
    ("/api/v1/tickets/{ticket_id}/messages", "post"),
    ("/api/v1/tickets/{ticket_id}/attachments", "post"),
    ("/api/v1/attachments/{attachment_id}", "get"),
    ("/api/v1/players/{external_id}", "put"),
    ("/api/v1/players/{external_id}", "get"),
    ("/api/v1/agents", "get"),
    ("/api/v1/agents", "post"),
    ("/api/v1/agents/me", "get"),
    ("/api/v1/agents/{agent_id}", "get"),
    ("/api/v1/agents/{agent_id}", "patch"),
    ("/api/v1/teams", "get"),
    ("/api/v1/teams", "post"),
    ("/api/v1/teams/{team_id}", "patch"),
    ("/api/v1/teams/{team_id}", "delete"),
    ("/api/v1/tokens", "get"),
    ("/api/v1/tokens", "post"),
    ("/api/v1/tokens/{token_id}", "delete"),
    ("/api/v1/audit", "get"),
    # Routing, SLA, escalation, shifts and the floor (issue 4).
    ("/api/v1/calendars", "get"),
    ("/api/v1/calendars", "post"),
    ("/api/v1/calendars/{calendar_id}", "delete"),
    ("/api/v1/calendars/{calendar_id}", "get"),
    ("/api/v1/calendars/{calendar_id}", "put"),
    ("/api/v1/coverage", "get"),
    ("/api/v1/escalation-rules", "get"),
    ("/api/v1/escalation-rules", "post"),
    ("/api/v1/escalation-rules/reorder", "post"),
    ("/api/v1/escalation-rules/{rule_id}", "delete"),
    ("/api/v1/escalation-rules/{rule_id}", "put"),
    ("/api/v1/floor", "get"),
    ("/api/v1/routing-rules", "get"),
    ("/api/v1/routing-rules", "post"),
    ("/api/v1/routing-rules/reorder", "post"),
    ("/api/v1/routing-rules/{rule_id}", "delete"),
    ("/api/v1/routing-rules/{rule_id}", "put"),
    ("/api/v1/schedules", "get"),
    ("/api/v1/schedules", "post"),
    ("/api/v1/schedules/{entry_id}", "delete"),
    ("/api/v1/schedules/{entry_id}", "patch"),
    ("/api/v1/shifts", "get"),
    ("/api/v1/shifts", "post"),
    ("/api/v1/shifts/on-duty", "get"),
    ("/api/v1/shifts/{shift_id}", "delete"),
    ("/api/v1/shifts/{shift_id}", "put"),
    ("/api/v1/sla-policies", "get"),
    ("/api/v1/sla-policies", "post"),
    ("/api/v1/sla-policies/reorder", "post"),
    ("/api/v1/sla-policies/{policy_id}", "delete"),
    ("/api/v1/sla-policies/{policy_id}", "put"),
    ("/api/v1/teams/routing", "get"),
    ("/api/v1/teams/{team_id}/routing", "patch"),
    ("/api/v1/tickets/{ticket_id}/escalations", "get"),
    ("/api/v1/tickets/{ticket_id}/escalations", "post"),
    ("/api/v1/tickets/{ticket_id}/transfer", "post"),
    # The back office, the knowledge base and canned replies (issue 6).
    ("/api/v1/tickets/{ticket_id}/player-context", "get"),
    # A messenger chat linked to a casino account by the agent (issue 8).
    ("/api/v1/tickets/{ticket_id}/player-link", "post"),
    # Phone: CTI events and callbacks (issue 8).
    ("/api/v1/cti/events", "post"),
    ("/api/v1/callbacks", "get"),
    ("/api/v1/callbacks/{callback_id}/assign", "post"),
    ("/api/v1/callbacks/{callback_id}/outcome", "post"),
    # WhatsApp template messages, outside the 24-hour window (issue 8).
    ("/api/v1/tickets/{ticket_id}/whatsapp-templates", "get"),
    ("/api/v1/tickets/{ticket_id}/template-messages", "post"),
    # The bot (issue 7).
    ("/api/v1/bot/channels", "get"),
    ("/api/v1/bot/channels/{channel}", "put"),
    ("/api/v1/bot/report", "get"),
    ("/api/v1/canned-replies", "get"),
    ("/api/v1/canned-replies", "post"),
    ("/api/v1/canned-replies/placeholders", "get"),
    ("/api/v1/canned-replies/preview", "post"),
    ("/api/v1/canned-replies/suggestions", "get"),
    ("/api/v1/canned-replies/{canned_id}", "get"),
    ("/api/v1/canned-replies/{canned_id}", "patch"),
    ("/api/v1/canned-replies/{canned_id}", "delete"),
    ("/api/v1/canned-replies/{canned_id}/apply", "post"),
    ("/api/v1/kb/articles", "get"),
    ("/api/v1/kb/articles", "post"),
    ("/api/v1/kb/articles/{article_id}", "get"),
    ("/api/v1/kb/articles/{article_id}", "put"),
    ("/api/v1/kb/articles/{article_id}/feedback", "get"),
    ("/api/v1/kb/articles/{article_id}/status", "post"),
    ("/api/v1/kb/articles/{article_id}/versions", "get"),
    ("/api/v1/kb/categories", "get"),
    ("/api/v1/kb/categories", "post"),
    ("/api/v1/kb/categories/{category_key}", "put"),
    ("/api/v1/kb/preview", "post"),
    ("/api/v1/kb/search", "get"),
}


async def test_openapi_lists_every_operation_and_documents_problems(
    openapi: dict[str, Any],
) -> None:
    paths = openapi["paths"]
    operations = {
        (path, method)
        for path, item in paths.items()
        if path.startswith("/api/v1")
        for method in item
    }
    assert operations == EXPECTED_OPERATIONS
    assert not any(path.startswith("/console") for path in paths)

    for path, method in EXPECTED_OPERATIONS:
        responses = paths[path][method]["responses"]
        assert "application/problem+json" in responses["4XX"]["content"], (path, method)
        # FastAPI's default 422 shape is not what this API sends.
        assert "422" not in responses, (path, method)
    schemas = openapi["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail"}
    assert "HTTPValidationError" not in schemas
    # Unknown fields are refused, and the document says so.
    assert schemas["TicketCreate"]["additionalProperties"] is False
    assert schemas["PlayerRef"]["additionalProperties"] is False
    put_player = paths["/api/v1/players/{external_id}"]["put"]["responses"]
    assert {"200", "201"} <= set(put_player)
    assert {"200", "201"} <= set(paths["/api/v1/tickets/{ticket_id}/messages"]["post"]["responses"])


# The chat widget's own calls (docs/API.md, "Widget HTTP"): a widget session token, not an
# agent's; only starting the session needs none.
EXPECTED_WIDGET_OPERATIONS = {
    ("/widget/v1/session", "post"),
    ("/widget/v1/attachments", "post"),
    ("/widget/v1/attachments/{attachment_id}", "get"),
    ("/widget/v1/offline", "post"),
    ("/widget/v1/callbacks", "post"),
}


async def test_openapi_lists_the_widget_operations_and_they_need_a_widget_session(
    openapi: dict[str, Any], client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    paths = openapi["paths"]
    operations = {
        (path, method)
        for path, item in paths.items()
        if path.startswith("/widget/")
        for method in item
    }
    assert operations == EXPECTED_WIDGET_OPERATIONS
    agent = await make_agent()
    for path, method in EXPECTED_WIDGET_OPERATIONS - {("/widget/v1/session", "post")}:
        url = path.replace("{attachment_id}", "1")
        for headers in ({}, agent.headers):
            refused = await client.request(method, url, headers=headers)
            assert refused.status_code == 401, (path, method, headers)
            assert refused.headers["content-type"] == PROBLEM


async def test_docs_page_loads_everything_from_this_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/api/v1/openapi.json" in response.text
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert assets, "the page references its script and stylesheet"
    for url in assets:
        assert url.startswith("/"), f"{url} would be fetched from another host"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 1000


async def test_every_response_has_a_request_id_and_security_headers(
    client: httpx.AsyncClient, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    responses = [
        await client.get("/healthz"),
        await client.get("/api/v1/tickets", headers=agent.headers),
        await client.get("/api/v1/tickets"),  # 401
        await client.get("/no/such/page"),  # 404
        await client.post("/api/v1/tickets", content=b"{", headers=agent.headers),  # 400
    ]
    ids = set()
    for response in responses:
        assert len(response.headers["x-request-id"]) == 16
        ids.add(response.headers["x-request-id"])
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
    assert len(ids) == len(responses)
    assert responses[3].headers["content-type"] == PROBLEM


async def test_a_server_process_freezes_what_it_loaded_at_start(
    settings: Settings, runtime: Runtime
) -> None:
    """A server builds its own runtime and then moves what it loaded out of the collector's
    way; an app around a runtime it was handed (as here in tests) leaves the collector be."""
    gc.unfreeze()
    try:
        shared = create_app(settings, runtime=runtime)
        async with shared.router.lifespan_context(shared):
            assert gc.get_freeze_count() == 0
        own = create_app(settings)
        async with own.router.lifespan_context(own):
            frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
    assert frozen > 10_000  # modules, routes, mappers: far more than a handful
