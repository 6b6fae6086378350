"""Small builders for test data that has no service of its own (events)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from playerdesk.domain.events import AttachmentRef, MessagePosted

AT = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def message_event(**overrides: Any) -> MessagePosted:
    values: dict[str, Any] = {
        "occurred_at": AT,
        "ticket_id": 1,
        "ticket_number": 1001,
        "player_id": 3,
        "channel": "web_chat",
        "message_id": 9,
        "author_kind": "agent",
        "author_agent_id": 7,
        "author_name": "Sara",
        "kind": "reply",
        "body": "Hej! Jag kollar direkt.",
        "attachments": [
            AttachmentRef(id=4, filename="kvitto.pdf", content_type="application/pdf", size=1200)
        ],
        "client_msg_id": "c-1",
        "assignee_id": 7,
        "team_id": None,
    }
    values.update(overrides)
    return MessagePosted(**values)
