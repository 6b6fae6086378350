from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.events import (
    PresenceChanged,
    ReadReceipt,
    TicketCreated,
    TicketUpdated,
    TypingChanged,
    event_from_json,
    event_to_json,
)
from playerdesk.domain.players import check_vip_tier, normalise_email, vip_rank
from playerdesk.services.pagination import Position, decode_cursor, encode_cursor
from playerdesk.settings import DEV_SECRET_KEY, Settings
from tests.factories import message_event

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event",
    [
        TicketCreated(
            occurred_at=AT,
            ticket_id=1,
            number=1001,
            channel="email",
            subject="Wypłata",
            language="pl",
            status="new",
            priority="normal",
            player_id=3,
            team_id=None,
            assignee_id=None,
        ),
        TicketUpdated(
            occurred_at=AT,
            ticket_id=1,
            player_id=3,
            changes={"status": ["new", "open"]},
            status="open",
            priority="high",
            team_id=2,
            assignee_id=7,
        ),
        message_event(),
        TypingChanged(
            occurred_at=AT, ticket_id=1, player_id=3, side="agent", agent_id=7, typing=True
        ),
        ReadReceipt(
            occurred_at=AT,
            ticket_id=1,
            player_id=3,
            side="player",
            delivered_up_to=9,
            read_up_to=8,
        ),
        PresenceChanged(occurred_at=AT, agent_id=7, presence="away"),
    ],
)
def test_events_round_trip_through_json_with_type_and_version(event: object) -> None:
    raw = event_to_json(event)  # type: ignore[arg-type]
    assert '"v":1' in raw
    assert event_from_json(raw) == event


def test_unknown_event_version_is_rejected() -> None:
    raw = event_to_json(message_event(author_kind="player", author_agent_id=None)).replace(
        '"v":1', '"v":2'
    )
    with pytest.raises(ValidationError):
        event_from_json(raw)


def test_prod_refuses_default_or_short_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYERDESK_ENV", "prod")
    for secret in (DEV_SECRET_KEY, "short"):
        monkeypatch.setenv("PLAYERDESK_SECRET_KEY", secret)
        with pytest.raises(ValidationError, match="PLAYERDESK_SECRET_KEY"):
            Settings()
    monkeypatch.setenv("PLAYERDESK_SECRET_KEY", "x" * 40)
    assert Settings().env == "prod"


def test_settings_read_lists_from_comma_separated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLAYERDESK_LANGUAGES", "en, pl,sv,de")
    monkeypatch.setenv("PLAYERDESK_VIP_TIERS", "Silver,Gold")
    settings = Settings()
    assert settings.languages == ["en", "pl", "sv", "de"]
    assert settings.vip_tiers == ["silver", "gold"]
    assert settings.is_sqlite and settings.jobs_in_process


def test_vip_tiers_are_ordered_and_checked() -> None:
    tiers = ["bronze", "silver", "gold", "platinum"]
    assert check_vip_tier("Gold", tiers=tiers) == "gold"
    assert check_vip_tier("", tiers=tiers) is None
    assert (
        vip_rank("platinum", tiers=tiers)
        > vip_rank("bronze", tiers=tiers)
        > vip_rank(None, tiers=tiers)
    )
    with pytest.raises(ValidationFailed) as caught:
        check_vip_tier("diamond", tiers=tiers)
    assert caught.value.field == "vip_tier"


def test_email_domain_is_lowercased_and_garbage_refused() -> None:
    assert normalise_email(" Anna.K@Example.PL ") == "Anna.K@example.pl"
    with pytest.raises(ValidationFailed):
        normalise_email("not-an-email")


def _raw(payload: dict[str, object]) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


def test_cursor_round_trip_and_tampering() -> None:
    assert decode_cursor(encode_cursor(Position(before=42))) == Position(before=42)
    at_position = Position(before=7, at=AT)
    assert decode_cursor(encode_cursor(at_position)) == at_position
    forged_time = encode_cursor(Position(before=7)).replace("=", "")
    for bad in (
        "",
        "!!!",
        forged_time[:-2] + "zz",
        "eyJiZWZvcmUiOiAtMX0",
        _raw({"before": 3, "at": "noon"}),
    ):
        with pytest.raises(ValidationFailed) as caught:
            decode_cursor(bad)
        assert caught.value.field == "cursor"


async def test_casino_back_office_is_wired_only_when_its_url_is_set() -> None:
    from playerdesk.crm.http import HttpCasinoBackend
    from playerdesk.runtime import casino_backend

    assert casino_backend(Settings(env="dev")) is None
    backend = casino_backend(
        Settings(env="dev", casino_api_url="http://127.0.0.1:8100", casino_api_token="t")
    )
    assert isinstance(backend, HttpCasinoBackend)
    await backend.close()
    # A URL without credentials is a configuration mistake, caught at start-up.
    with pytest.raises(ValueError, match="bearer token or an HMAC secret"):
        casino_backend(Settings(env="dev", casino_api_url="http://127.0.0.1:8100"))
