"""The message shape both sockets send (docs/API.md `Message`): from a stored row when
catching up, from a `message.posted` event on the live path (no database access)."""

from __future__ import annotations

from playerdesk.db.models import Message
from playerdesk.domain.events import MessagePosted
from playerdesk.web.chat.connection import Frame


def message_frame(message: Message) -> Frame:
    return {
        "id": message.id,
        "ticket_id": message.ticket_id,
        "author": message.author_kind,
        "author_name": None,
        "body": message.body,
        "created_at": message.created_at.isoformat(),
        "client_msg_id": message.client_msg_id,
        "attachments": [
            {
                "id": item.id,
                "filename": item.filename,
                "content_type": item.content_type,
                "size": item.size,
            }
            for item in message.attachments
        ],
        "quick_replies": message.quick_replies or [],
    }


def event_message_frame(event: MessagePosted) -> Frame:
    return {
        "id": event.message_id,
        "ticket_id": event.ticket_id,
        "author": event.author_kind,
        # Players see a first name at most: the agent's display name, as shown in the console.
        "author_name": event.author_name,
        "body": event.body,
        "created_at": event.occurred_at.isoformat(),
        "client_msg_id": event.client_msg_id,
        "attachments": [item.model_dump() for item in event.attachments],
        "quick_replies": [item.model_dump() for item in event.quick_replies],
    }
