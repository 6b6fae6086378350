"""Signed, expiring tokens (widget sessions) and the casino's identity-verification hash."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

from playerdesk.domain.errors import AuthenticationFailed


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(secret: str, purpose: str, body: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(payload: dict[str, Any], *, secret: str, purpose: str, expires_at: datetime) -> str:
    """`purpose` keeps a token of one kind from being accepted as another."""
    body = _b64(
        json.dumps({**payload, "exp": int(expires_at.timestamp())}, separators=(",", ":")).encode()
    )
    return f"{body}.{_mac(secret, purpose, body)}"


def verify(token: str, *, secret: str, purpose: str, now: datetime) -> dict[str, Any]:
    body, _, mac = token.partition(".")
    if not body or not mac or not hmac.compare_digest(mac, _mac(secret, purpose, body)):
        raise AuthenticationFailed("the token is not valid", field="token")
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError) as exc:
        raise AuthenticationFailed("the token is not valid", field="token") from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        raise AuthenticationFailed("the token is not valid", field="token")
    if payload["exp"] <= now.timestamp():
        raise AuthenticationFailed("the token has expired", field="token")
    return payload


def player_hash(external_id: str, *, secret: str) -> str:
    """What the casino's back end computes for a logged-in player: hex HMAC-SHA256 of the id."""
    return hmac.new(secret.encode(), external_id.encode(), hashlib.sha256).hexdigest()


def player_hash_valid(external_id: str, given: str, *, secret: str) -> bool:
    return hmac.compare_digest(player_hash(external_id, secret=secret), given.strip().lower())
