"""Widget session tokens: who the widget speaks for, signed by us, short-lived."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from playerdesk.domain import tokens
from playerdesk.domain.errors import AuthenticationFailed
from playerdesk.services.chat import WidgetIdentity
from playerdesk.settings import Environment, Settings

SESSION_PURPOSE = "widget-session"
VISITOR_PURPOSE = "widget-visitor"
VISITOR_TTL = timedelta(days=365)
# Identity verification in dev and demo when PLAYERDESK_WIDGET_IDENTITY_SECRET is unset, so the
# demo casino page can sign its players in. Public by design; never used in prod.
DEMO_IDENTITY_SECRET = "playerdesk-demo-casino-identity-secret"


@dataclass(frozen=True, kw_only=True)
class WidgetSession:
    identity: WidgetIdentity
    language: str


def identity_secret(settings: Settings) -> str | None:
    """The secret the casino signs its player ids with: the configured one, else (dev and demo
    only) the fixed demo secret; None when identity verification is not set up."""
    if settings.widget_identity_secret:
        return settings.widget_identity_secret
    if settings.env in (Environment.DEV, Environment.DEMO):
        return DEMO_IDENTITY_SECRET
    return None


def new_visitor_id() -> str:
    return "v-" + secrets.token_urlsafe(18)


def issue_visitor_token(visitor_id: str, *, settings: Settings, now: datetime) -> str:
    return tokens.sign(
        {"vid": visitor_id},
        secret=settings.secret_key,
        purpose=VISITOR_PURPOSE,
        expires_at=now + VISITOR_TTL,
    )


def read_visitor_token(token: str, *, settings: Settings, now: datetime) -> str:
    payload = tokens.verify(token, secret=settings.secret_key, purpose=VISITOR_PURPOSE, now=now)
    visitor_id = payload.get("vid")
    if not isinstance(visitor_id, str):
        raise AuthenticationFailed("the visitor token is not valid", field="visitor_token")
    return visitor_id


def issue_session_token(session: WidgetSession, *, settings: Settings, now: datetime) -> str:
    payload: dict[str, str] = {"lang": session.language}
    if session.identity.external_id is not None:
        payload["xid"] = session.identity.external_id
    else:
        assert session.identity.visitor_id is not None
        payload["vid"] = session.identity.visitor_id
    return tokens.sign(
        payload,
        secret=settings.secret_key,
        purpose=SESSION_PURPOSE,
        expires_at=now + timedelta(seconds=settings.widget_session_ttl_seconds),
    )


def read_session_token(token: str, *, settings: Settings, now: datetime) -> WidgetSession:
    payload = tokens.verify(token, secret=settings.secret_key, purpose=SESSION_PURPOSE, now=now)
    language = payload.get("lang")
    external_id, visitor_id = payload.get("xid"), payload.get("vid")
    if not isinstance(language, str) or not (
        isinstance(external_id, str) ^ isinstance(visitor_id, str)
    ):
        raise AuthenticationFailed("the widget token is not valid", field="token")
    identity = (
        WidgetIdentity(external_id=external_id)
        if isinstance(external_id, str)
        else WidgetIdentity(visitor_id=str(visitor_id))
    )
    return WidgetSession(identity=identity, language=language)
