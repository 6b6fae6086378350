"""`/widget.js` and the demo casino page, without a browser."""

from __future__ import annotations

import re

import httpx
import pytest

from playerdesk.domain import tokens
from playerdesk.runtime import Runtime
from playerdesk.settings import Environment, Settings
from playerdesk.web.chat.widget_auth import DEMO_IDENTITY_SECRET, identity_secret

WIDGET_TEXTS = ("Chat with support", "Write a message", "Czat z obsługą", "Skriv ett")


def player_attributes(html: str) -> tuple[str, str]:
    found = re.search(r'data-player-id="([^"]+)" data-player-hash="([0-9a-f]{64})"', html)
    assert found is not None, "the page has no signed-in player"
    return found.group(1), found.group(2)


async def test_widget_js_is_served_as_a_cacheable_script(client: httpx.AsyncClient) -> None:
    response = await client.get("/widget.js", headers={"Accept-Encoding": "identity"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/javascript")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=300"
    script = response.text
    assert "PlayerDesk chat widget" in script
    # Texts only through textContent, and no language data of its own: the server sends it.
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
        assert sink not in script
    for text in WIDGET_TEXTS:
        assert text not in script

    etag = response.headers["etag"]
    again = await client.get("/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    zipped = await client.get("/widget.js", headers={"Accept-Encoding": "gzip, br"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["vary"] == "Accept-Encoding"
    assert zipped.text == script  # httpx decodes it
    assert int(zipped.headers["content-length"]) < len(script.encode()) / 2


async def test_the_casino_page_embeds_the_widget(client: httpx.AsyncClient) -> None:
    response = await client.get("/demo/casino", headers={"Accept-Language": "sv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<html lang="sv">' in html
    assert re.search(r'<script src="/widget.js" async[^>]*></script>', html)
    assert "data-player-id" not in html  # an anonymous visitor
    assert "Starvale" in html and "Populära slots" in html
    # No external assets: every URL the page loads is our own.
    assert not re.search(r'(src|href)="(https?:)?//', html)
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "style-src 'self'" in csp

    polish = await client.get("/demo/casino?lang=pl")
    assert '<html lang="pl">' in polish.text and "Popularne automaty" in polish.text
    for asset in ("/static/widget/demo-casino.css", "/static/widget/demo-casino-icon.svg"):
        assert (await client.get(asset)).status_code == 200


async def test_the_logged_in_variant_is_accepted_by_the_session_endpoint(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/demo/casino", params={"player": "150938", "lang": "pl"})
    assert page.status_code == 200
    player_id, player_hash = player_attributes(page.text)
    assert player_id == "150938"
    assert "150938" in page.text.split('data-testid="demo-identity"')[1][:200]

    session = await client.post(
        "/widget/v1/session", json={"player": {"id": player_id, "hash": player_hash}}
    )
    assert session.status_code == 200, session.text
    assert session.json()["visitor_token"] is None

    forged = await client.post(
        "/widget/v1/session", json={"player": {"id": "150939", "hash": player_hash}}
    )
    assert forged.status_code == 401


async def test_a_configured_identity_secret_wins_over_the_demo_one(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    runtime.settings = settings.model_copy(update={"widget_identity_secret": "casino-shared"})
    page = await client.get("/demo/casino", params={"player": "C-1001"})
    _, player_hash = player_attributes(page.text)
    assert player_hash == tokens.player_hash("C-1001", secret="casino-shared")
    session = await client.post(
        "/widget/v1/session", json={"player": {"id": "C-1001", "hash": player_hash}}
    )
    assert session.status_code == 200
    demo_hash = tokens.player_hash("C-1001", secret=DEMO_IDENTITY_SECRET)
    refused = await client.post(
        "/widget/v1/session", json={"player": {"id": "C-1001", "hash": demo_hash}}
    )
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("env", "configured", "expected"),
    [
        (Environment.DEV, None, DEMO_IDENTITY_SECRET),
        (Environment.DEMO, None, DEMO_IDENTITY_SECRET),
        (Environment.PROD, None, None),
        (Environment.PROD, "casino-shared", "casino-shared"),
        (Environment.DEV, "casino-shared", "casino-shared"),
    ],
)
def test_the_demo_identity_secret_is_never_used_in_prod(
    settings: Settings, env: Environment, configured: str | None, expected: str | None
) -> None:
    chosen = settings.model_copy(update={"env": env, "widget_identity_secret": configured})
    assert identity_secret(chosen) == expected


async def test_no_demo_page_in_prod(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    runtime.settings = settings.model_copy(update={"env": Environment.PROD})
    page = await client.get("/demo/casino", params={"player": "150938"})
    assert page.status_code == 404
    assert "data-player-hash" not in page.text
    assert (await client.get("/widget.js")).status_code == 200  # casinos embed it in prod
    # Nor does the demo secret sign anyone in there.
    demo_hash = tokens.player_hash("150938", secret=DEMO_IDENTITY_SECRET)
    session = await client.post(
        "/widget/v1/session", json={"player": {"id": "150938", "hash": demo_hash}}
    )
    assert session.status_code == 401


@pytest.mark.parametrize("player", ["", "<script>", "a" * 101, "x y"])
async def test_odd_player_ids_are_refused(client: httpx.AsyncClient, player: str) -> None:
    response = await client.get("/demo/casino", params={"player": player})
    assert response.status_code == 422
