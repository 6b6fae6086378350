"""`playerdesk messenger link-url`: the deep link a casino sends a player, signed so the desk
accepts it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from playerdesk import cli
from playerdesk.services.player_links import LinkTokenInvalid, external_id_from_token

SECRET = "casino-and-desk-share-this-0123456789"


@pytest.fixture(autouse=True)
def link_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MESSENGER_LINK_SECRET", "WIDGET_IDENTITY_SECRET", "TELEGRAM_BOT_USERNAME"):
        monkeypatch.delenv(f"PLAYERDESK_{name}", raising=False)
    monkeypatch.setenv("PLAYERDESK_MESSENGER_LINK_SECRET", SECRET)
    monkeypatch.setenv("PLAYERDESK_TELEGRAM_BOT_USERNAME", "@CasinoSupportBot")
    monkeypatch.setenv("PLAYERDESK_VIBER_CHAT_URI", "casinosupport")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli.main(["messenger", "link-url", *args])
    captured = capsys.readouterr()
    return code, captured.out.strip(), captured.err.strip()


def test_a_telegram_link_carries_a_token_the_desk_accepts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = datetime.now(UTC)
    code, out, _ = run(capsys, "--player", "290677", "--channel", "telegram", "--days", "2")

    assert code == 0
    found = re.fullmatch(r"https://t\.me/CasinoSupportBot\?start=([A-Za-z0-9_-]{1,64})", out)
    assert found is not None, out
    token = found.group(1)
    assert external_id_from_token(token, secret=SECRET, now=before) == "290677"
    # It works for the days asked for, and no longer.
    assert external_id_from_token(token, secret=SECRET, now=before + timedelta(days=2, seconds=-5))
    with pytest.raises(LinkTokenInvalid, match="expired"):
        external_id_from_token(token, secret=SECRET, now=before + timedelta(days=2, seconds=5))


def test_a_viber_link_and_the_widget_secret_fallback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLAYERDESK_MESSENGER_LINK_SECRET")
    monkeypatch.setenv("PLAYERDESK_WIDGET_IDENTITY_SECRET", "the-widget-secret")

    code, out, _ = run(capsys, "--player", "C-1001", "--channel", "viber")

    assert code == 0
    parts = urlsplit(out)
    assert (parts.scheme, parts.netloc) == ("viber", "pa")
    query = parse_qs(parts.query)
    assert query["chatURI"] == ["casinosupport"]
    [token] = query["context"]
    now = datetime.now(UTC)
    assert external_id_from_token(token, secret="the-widget-secret", now=now) == "C-1001"
    # Seven days by default.
    with pytest.raises(LinkTokenInvalid, match="expired"):
        external_id_from_token(
            token, secret="the-widget-secret", now=now + timedelta(days=7, minutes=1)
        )


def test_refusals_say_why(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    too_long = run(capsys, "--player", "x" * 31, "--channel", "telegram")
    assert too_long[0] == 2 and too_long[1] == ""
    assert "error (external_id): too long for a deep link" in too_long[2]

    monkeypatch.delenv("PLAYERDESK_TELEGRAM_BOT_USERNAME")
    no_bot = run(capsys, "--player", "290677", "--channel", "telegram")
    assert no_bot[0] == 2 and "PLAYERDESK_TELEGRAM_BOT_USERNAME" in no_bot[2]

    monkeypatch.delenv("PLAYERDESK_MESSENGER_LINK_SECRET")
    no_secret = run(capsys, "--player", "290677", "--channel", "viber")
    assert no_secret[0] == 2 and "PLAYERDESK_MESSENGER_LINK_SECRET" in no_secret[2]

    for days in ("0", "91"):
        with pytest.raises(SystemExit):
            cli.main(
                ["messenger", "link-url", "--player", "1", "--channel", "viber", "--days", days]
            )
    assert "1 to 90 days" in capsys.readouterr().err
