"""`/widget.js` (the player chat widget casinos embed) and `/demo/casino`, a made-up casino
lobby with the widget on it, for `make demo` and the browser tests. Never served in prod."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated

from babel.numbers import format_currency
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from playerdesk.domain import tokens
from playerdesk.domain.errors import NotFound
from playerdesk.settings import Environment
from playerdesk.web.chat.widget_auth import identity_secret
from playerdesk.web.console.rendering import render, request_language
from playerdesk.web.deps import RuntimeDep

router = APIRouter(include_in_schema=False)

WIDGET_JS = Path(__file__).parent.parent / "static" / "widget" / "widget.js"
# Short: a casino's pages pick up a new widget within minutes; the ETag makes re-checks cheap.
WIDGET_CACHE_CONTROL = "public, max-age=300"
DEMO_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


@dataclass(frozen=True)
class WidgetScript:
    body: bytes
    gzipped: bytes
    etag: str


@cache
def widget_script() -> WidgetScript:
    """Read and compressed once per process: it is on every page of every casino."""
    body = WIDGET_JS.read_bytes()
    return WidgetScript(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
    )


def _accepts_gzip(request: Request) -> bool:
    for item in request.headers.get("accept-encoding", "").split(","):
        coding, _, params = item.partition(";")
        if coding.strip().lower() != "gzip":
            continue
        key, _, value = params.partition("=")
        if key.strip().lower() != "q":
            return True
        try:
            return float(value) > 0
        except ValueError:
            return False
    return False


@router.get("/widget.js")
async def widget_js(request: Request) -> Response:
    script = widget_script()
    headers = {
        "Cache-Control": WIDGET_CACHE_CONTROL,
        "ETag": script.etag,
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if script.etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    body = script.body
    if _accepts_gzip(request):
        body = script.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(
        content=body, media_type="application/javascript; charset=utf-8", headers=headers
    )


# --- the demo casino --------------------------------------------------------------------------

BRAND = "Starvale"


@dataclass(frozen=True, kw_only=True)
class Game:
    name: str
    studio: str
    art: str  # CSS class of the tile's artwork
    glyph: str  # the SVG symbol drawn on it
    badge: str | None = None  # "new" | "hot" | "live"


GAMES: tuple[Game, ...] = (
    Game(name="Aurora Reels", studio="Northbeam", art="art-aurora", glyph="star", badge="hot"),
    Game(name="Pirate's Compass", studio="Saltwind", art="art-sea", glyph="compass"),
    Game(name="Neon Sevens", studio="Redfox Play", art="art-neon", glyph="seven", badge="new"),
    Game(name="Frost Giants", studio="Northbeam", art="art-frost", glyph="diamond"),
    Game(name="Jade Temple", studio="Lotus Labs", art="art-jade", glyph="coin"),
    Game(name="Cosmic Candy", studio="Redfox Play", art="art-candy", glyph="planet", badge="new"),
    Game(name="Golden Lantern", studio="Lotus Labs", art="art-gold", glyph="crown"),
    Game(name="Wild Orchard", studio="Saltwind", art="art-orchard", glyph="cherry"),
)
LIVE_GAMES: tuple[Game, ...] = (
    Game(name="Starvale Roulette", studio="Velvet Live", art="art-roulette", glyph="wheel"),
    Game(name="Blackjack Lounge", studio="Velvet Live", art="art-cards", glyph="spade"),
    Game(name="Baccarat Royale", studio="Velvet Live", art="art-baccarat", glyph="crown"),
    Game(name="Dream Wheel", studio="Velvet Live", art="art-wheel", glyph="star"),
)

# The casino page's own copy (the widget's texts come from PlayerDesk's catalogs).
TEXTS: dict[str, dict[str, str]] = {
    "en": {
        "tagline": "Online casino",
        "nav_casino": "Casino",
        "nav_live": "Live casino",
        "nav_promotions": "Promotions",
        "nav_vip": "VIP club",
        "nav_help": "Help",
        "log_in": "Log in",
        "sign_up": "Sign up",
        "log_out": "Log out",
        "deposit": "Deposit",
        "balance": "Balance",
        "player": "Player {id}",
        "hero_kicker": "Welcome offer",
        "hero_title": "100% up to €200 + 50 free spins",
        "hero_text": "On your first deposit. Wagering 35x, 30 days. Terms apply.",
        "hero_cta": "Claim the bonus",
        "popular": "Popular slots",
        "live": "Live casino",
        "live_now": "Live",
        "new": "New",
        "hot": "Hot",
        "play": "Play",
        "search": "Search games",
        "demo_title": "PlayerDesk demo",
        "demo_anonymous": "You are browsing as an anonymous visitor.",
        "demo_player": "You are logged in as casino player {id} (identity verified).",
        "demo_login_label": "Casino player id",
        "demo_login": "Log in as this player",
        "demo_language": "Language",
        "help_title": "Need help?",
        "help_text": "Our support team is here around the clock. Open the chat in the corner.",
        "rg_title": "Play responsibly",
        "rg_text": (
            "Set deposit limits, take a break or exclude yourself at any time in your account."
            " Gambling can be addictive."
        ),
        "fine_print": (
            "Starvale is a made-up casino for the PlayerDesk demo: no real games, no real money."
        ),
    },
    "pl": {
        "tagline": "Kasyno online",
        "nav_casino": "Kasyno",
        "nav_live": "Kasyno na żywo",
        "nav_promotions": "Promocje",
        "nav_vip": "Klub VIP",
        "nav_help": "Pomoc",
        "log_in": "Zaloguj się",
        "sign_up": "Załóż konto",
        "log_out": "Wyloguj",
        "deposit": "Wpłata",
        "balance": "Saldo",
        "player": "Gracz {id}",
        "hero_kicker": "Oferta powitalna",
        "hero_title": "100% do 200\u00a0€ + 50 darmowych spinów",
        "hero_text": "Przy pierwszej wpłacie. Obrót 35x, 30 dni. Obowiązuje regulamin.",
        "hero_cta": "Odbierz bonus",
        "popular": "Popularne automaty",
        "live": "Kasyno na żywo",
        "live_now": "Na żywo",
        "new": "Nowość",
        "hot": "Hit",
        "play": "Graj",
        "search": "Szukaj gier",
        "demo_title": "Demo PlayerDesk",
        "demo_anonymous": "Przeglądasz jako anonimowy gość.",
        "demo_player": "Jesteś zalogowany jako gracz kasyna {id} (tożsamość zweryfikowana).",
        "demo_login_label": "Id gracza w kasynie",
        "demo_login": "Zaloguj jako ten gracz",
        "demo_language": "Język",
        "help_title": "Potrzebujesz pomocy?",
        "help_text": "Nasz zespół obsługi działa całą dobę. Otwórz czat w rogu strony.",
        "rg_title": "Graj odpowiedzialnie",
        "rg_text": (
            "W każdej chwili ustaw limity wpłat, zrób przerwę lub wyklucz się na swoim koncie."
            " Hazard może uzależniać."
        ),
        "fine_print": (
            "Starvale to zmyślone kasyno do demonstracji PlayerDesk: bez prawdziwych gier"
            " i prawdziwych pieniędzy."
        ),
    },
    "sv": {
        "tagline": "Onlinecasino",
        "nav_casino": "Casino",
        "nav_live": "Livecasino",
        "nav_promotions": "Kampanjer",
        "nav_vip": "VIP-klubb",
        "nav_help": "Hjälp",
        "log_in": "Logga in",
        "sign_up": "Bli medlem",
        "log_out": "Logga ut",
        "deposit": "Insättning",
        "balance": "Saldo",
        "player": "Spelare {id}",
        "hero_kicker": "Välkomsterbjudande",
        "hero_title": "100\u00a0% upp till 200\u00a0€ + 50 free spins",
        "hero_text": "På din första insättning. Omsättning 35x, 30 dagar. Villkor gäller.",
        "hero_cta": "Hämta bonusen",
        "popular": "Populära slots",
        "live": "Livecasino",
        "live_now": "Live",
        "new": "Ny",
        "hot": "Het",
        "play": "Spela",
        "search": "Sök spel",
        "demo_title": "PlayerDesk-demo",
        "demo_anonymous": "Du besöker sidan som anonym besökare.",
        "demo_player": "Du är inloggad som casinospelare {id} (identiteten verifierad).",
        "demo_login_label": "Spelar-id i casinot",
        "demo_login": "Logga in som spelaren",
        "demo_language": "Språk",
        "help_title": "Behöver du hjälp?",
        "help_text": "Vår support finns här dygnet runt. Öppna chatten i hörnet.",
        "rg_title": "Spela ansvarsfullt",
        "rg_text": (
            "Sätt insättningsgränser, ta en paus eller stäng av dig när som helst på ditt konto."
            " Spel kan vara beroendeframkallande."
        ),
        "fine_print": (
            "Starvale är ett påhittat casino för PlayerDesk-demon: inga riktiga spel, inga"
            " riktiga pengar."
        ),
    },
}
LANGUAGE_NAMES = {"en": "English", "pl": "Polski", "sv": "Svenska"}


def _demo_balance(player_id: str) -> float:
    """A made-up but stable balance for the logged-in player's header."""
    digest = hashlib.sha256(player_id.encode()).digest()
    return int.from_bytes(digest[:3], "big") % 500_000 / 100


PlayerQuery = Annotated[
    str | None, Query(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
]


@router.get("/demo/casino", response_class=HTMLResponse)
async def demo_casino(
    request: Request, runtime: RuntimeDep, player: PlayerQuery = None
) -> Response:
    settings = runtime.settings
    if settings.env is Environment.PROD:
        raise NotFound("no such page")
    language = request_language(
        request, supported=settings.languages, default=settings.default_language
    )
    texts = TEXTS.get(language, TEXTS["en"])
    secret = identity_secret(settings)
    player_hash = tokens.player_hash(player, secret=secret) if player and secret else None
    response = render(
        "demo/casino.html",
        language=language,
        brand=BRAND,
        t=texts,
        player_id=player if player_hash else None,
        player_hash=player_hash,
        balance=format_currency(_demo_balance(player), "EUR", locale=language) if player else None,
        games=GAMES,
        live_games=LIVE_GAMES,
        languages=[(code, LANGUAGE_NAMES.get(code, code)) for code in settings.languages],
    )
    response.headers["Content-Security-Policy"] = DEMO_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
