"""The knowledge base through the REST API: authentication on every endpoint, agents search
and read (internal articles marked, without a public URL), supervisors write with versions
and the stale-version conflict, and problem details name the field at fault."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from playerdesk.db.models import AuditEntry
from playerdesk.domain.enums import AgentRole
from playerdesk.runtime import Runtime
from playerdesk.services import kb
from tests.conftest import AgentFactory, AgentLogin
from tests.services.test_kb import install_categories

API = "/api/v1/kb"
PROBLEM = "application/problem+json"

ARTICLE: dict[str, Any] = {
    "category_key": "withdrawals",
    "language": "sv",
    "key": "withdrawals-times",
    "title": "Hur lång tid tar ett uttag?",
    "summary": "Vi granskar uttaget inom 24 timmar.",
    "body_markdown": "Vi granskar varje **uttag** inom 24 timmar.",
    "status": "published",
}


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == PROBLEM, response.text
    return [error["field"] for error in response.json().get("errors", [])]


@pytest.fixture
async def supervisor(runtime: Runtime, make_agent: AgentFactory) -> AgentLogin:
    await install_categories(runtime)
    return await make_agent(AgentRole.SUPERVISOR)


async def post_article(
    client: httpx.AsyncClient, login: AgentLogin, **overrides: Any
) -> dict[str, Any]:
    response = await client.post(
        f"{API}/articles", json={**ARTICLE, **overrides}, headers=login.headers
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


ENDPOINTS = [
    ("GET", f"{API}/search?q=uttag&lang=sv"),
    ("GET", f"{API}/articles"),
    ("POST", f"{API}/articles"),
    ("GET", f"{API}/articles/1"),
    ("PUT", f"{API}/articles/1"),
    ("POST", f"{API}/articles/1/status"),
    ("GET", f"{API}/articles/1/versions"),
    ("GET", f"{API}/articles/1/feedback"),
    ("POST", f"{API}/preview"),
    ("GET", f"{API}/categories"),
    ("POST", f"{API}/categories"),
    ("PUT", f"{API}/categories/withdrawals"),
]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
async def test_every_endpoint_needs_authentication(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    response = await client.request(method, path, json={})
    assert response.status_code == 401
    assert response.headers["content-type"] == PROBLEM


async def test_agents_search_and_read_internal_articles_marked(
    client: httpx.AsyncClient, supervisor: AgentLogin, make_agent: AgentFactory
) -> None:
    public = await post_article(client, supervisor)
    internal = await post_article(
        client,
        supervisor,
        key="internal-hold",
        title="Spärrat uttag: vad vi säger",
        summary="För handläggare.",
        body_markdown="Uttaget är spärrat av compliance: säg aldrig varför.",
        status="internal",
    )
    agent = await make_agent(AgentRole.AGENT)
    response = await client.get(
        f"{API}/search", params={"q": "UTTAGET", "lang": "sv"}, headers=agent.headers
    )
    assert response.status_code == 200, response.text
    hits = {hit["id"]: hit for hit in response.json()}
    assert set(hits) == {public["id"], internal["id"]}
    assert hits[public["id"]]["url"] == "/help/sv/withdrawals/hur-lang-tid-tar-ett-uttag"
    assert hits[internal["id"]]["status"] == "internal"
    assert hits[internal["id"]]["url"] is None
    assert "uttag" in hits[public["id"]]["excerpt"]

    response = await client.get(f"{API}/articles/{internal['id']}", headers=agent.headers)
    assert response.status_code == 200
    assert response.json()["status"] == "internal"
    assert response.json()["body_html"].startswith("<p>")

    # An agent reads but never writes.
    for method, path, body in (
        ("POST", f"{API}/articles", {**ARTICLE, "key": "other"}),
        ("PUT", f"{API}/articles/{public['id']}", {**ARTICLE, "expected_version": 1}),
        ("POST", f"{API}/articles/{public['id']}/status", {"status": "archived"}),
        ("GET", f"{API}/articles", None),
        ("GET", f"{API}/articles/{public['id']}/versions", None),
        ("POST", f"{API}/categories", {"key": "vip", "texts": {"en": {"name": "VIP"}}}),
    ):
        response = await client.request(method, path, json=body, headers=agent.headers)
        assert response.status_code == 403, (method, path, response.text)


async def test_supervisor_edits_with_versions_and_a_stale_save_conflicts(
    client: httpx.AsyncClient, runtime: Runtime, supervisor: AgentLogin, make_agent: AgentFactory
) -> None:
    created = await post_article(client, supervisor)
    assert created["version"] == 1 and created["author_id"] == supervisor.id
    article_id = created["id"]
    changed = {**ARTICLE, "body_markdown": "Vi granskar uttag inom **12 timmar**."}
    response = await client.put(
        f"{API}/articles/{article_id}",
        json={**changed, "expected_version": 1},
        headers=supervisor.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 2
    assert "<strong>12 timmar</strong>" in response.json()["body_html"]

    admin = await make_agent(AgentRole.ADMIN)
    stale = await client.put(
        f"{API}/articles/{article_id}",
        json={**ARTICLE, "title": "Gammal version", "expected_version": 1},
        headers=admin.headers,
    )
    assert stale.status_code == 409
    assert problem_fields(stale) == ["version"]

    response = await client.post(
        f"{API}/articles/{article_id}/status", json={"status": "archived"}, headers=admin.headers
    )
    assert response.status_code == 200 and response.json()["status"] == "archived"
    assert response.json()["url"] is None

    versions = await client.get(f"{API}/articles/{article_id}/versions", headers=admin.headers)
    assert [item["version"] for item in versions.json()] == [3, 2, 1]
    assert [item["status"] for item in versions.json()] == ["archived", "published", "published"]
    assert versions.json()[2]["author_name"] is not None

    listed = await client.get(
        f"{API}/articles", params={"status": "archived", "lang": "sv"}, headers=admin.headers
    )
    assert [item["id"] for item in listed.json()] == [article_id]

    async with runtime.read_uow() as uow:
        actions = (
            await uow.session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.entity_type == "kb_article")
                .order_by(AuditEntry.id)
            )
        ).all()
    assert actions == ["kb.article_created", "kb.article_updated", "kb.article_status_changed"]


async def test_translations_and_categories(
    client: httpx.AsyncClient, supervisor: AgentLogin
) -> None:
    swedish = await post_article(client, supervisor)
    english = await post_article(
        client,
        supervisor,
        language="en",
        title="How long does a withdrawal take?",
        summary="",
        body_markdown="Within 24 hours. In Swedish: see the translation.",
    )
    assert english["translations"] == {"sv": swedish["id"]}

    categories = await client.get(f"{API}/categories", headers=supervisor.headers)
    by_key = {item["key"]: item for item in categories.json()}
    assert by_key["withdrawals"]["article_count"] == 2
    assert by_key["withdrawals"]["texts"]["pl"]["name"] == "Wypłaty"

    created = await client.post(
        f"{API}/categories",
        json={
            "key": "vip",
            "position": 7,
            "texts": {"en": {"name": "VIP programme"}, "sv": {"name": "VIP-klubben"}},
        },
        headers=supervisor.headers,
    )
    assert created.status_code == 201, created.text
    updated = await client.put(
        f"{API}/categories/vip",
        json={"key": "vip", "position": 8, "texts": {"pl": {"name": "Program VIP"}}},
        headers=supervisor.headers,
    )
    assert updated.status_code == 200
    assert updated.json()["texts"] == {"pl": {"name": "Program VIP", "description": ""}}


async def test_preview_and_saved_html_are_sanitised(
    client: httpx.AsyncClient, supervisor: AgentLogin
) -> None:
    attack = '<script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))'
    preview = await client.post(
        f"{API}/preview",
        json={"language": "sv", "body_markdown": f"**Hej** {attack}"},
        headers=supervisor.headers,
    )
    assert preview.status_code == 200, preview.text
    saved = await post_article(client, supervisor, body_markdown=f"**Hej** {attack}")
    for html in (preview.json()["html"], saved["body_html"]):
        assert "<strong>Hej</strong>" in html
        assert "<script" not in html and "onerror" not in html
        assert 'href="javascript' not in html


async def test_feedback_is_listed_for_editors(
    client: httpx.AsyncClient, runtime: Runtime, supervisor: AgentLogin
) -> None:
    article = await post_article(client, supervisor)
    async with runtime.uow() as uow:
        await kb.record_feedback(uow, article_id=article["id"], helpful=False, comment="För kort")
    response = await client.get(
        f"{API}/articles/{article['id']}/feedback", headers=supervisor.headers
    )
    assert [(item["helpful"], item["comment"]) for item in response.json()] == [(False, "För kort")]
    view = await client.get(f"{API}/articles/{article['id']}", headers=supervisor.headers)
    assert (view.json()["helpful_count"], view.json()["not_helpful_count"]) == (0, 1)


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"title": " "}, 422, "title"),
        ({"language": "de"}, 422, "language"),
        ({"category_key": "poker"}, 422, "category_key"),
        ({"status": "hidden"}, 422, "status"),
        ({"body_markdown": "x" * 50_001}, 422, "body_markdown"),
        ({"unexpected": 1}, 422, "unexpected"),
        ({"key": "Not A Key"}, 422, "key"),
    ],
)
async def test_bad_input_names_the_field(
    client: httpx.AsyncClient,
    supervisor: AgentLogin,
    overrides: dict[str, Any],
    status: int,
    field: str,
) -> None:
    response = await client.post(
        f"{API}/articles", json={**ARTICLE, **overrides}, headers=supervisor.headers
    )
    assert response.status_code == status, response.text
    assert problem_fields(response) == [field]


async def test_duplicates_conflict_and_unknown_articles_are_404(
    client: httpx.AsyncClient, supervisor: AgentLogin
) -> None:
    await post_article(client, supervisor)
    again = await client.post(f"{API}/articles", json=ARTICLE, headers=supervisor.headers)
    assert again.status_code == 409 and problem_fields(again) == ["key"]
    missing = await client.get(f"{API}/articles/999999", headers=supervisor.headers)
    assert missing.status_code == 404
    search = await client.get(
        f"{API}/search", params={"q": "x" * 201, "lang": "sv"}, headers=supervisor.headers
    )
    assert search.status_code == 422 and problem_fields(search) == ["q"]
