"""`/ws/widget`: the player's live conversation (protocol in docs/API.md)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from playerdesk.db.models import Ticket
from playerdesk.domain.errors import (
    AuthenticationFailed,
    DomainError,
    PermissionDenied,
    Unavailable,
)
from playerdesk.domain.events import (
    Event,
    MessagePosted,
    QueuePositionChanged,
    ReadReceipt,
    TicketUpdated,
    TypingChanged,
)
from playerdesk.realtime.hub import player_topic
from playerdesk.runtime import Runtime
from playerdesk.services import chat, routing
from playerdesk.services.players import PlayerFields
from playerdesk.web.chat.connection import (
    CLOSE_FLOODING,
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_TOO_BIG,
    CLOSE_UNAUTHENTICATED,
    MAX_FRAME_CHARS,
    Frame,
    Outbox,
    TokenBucket,
    close_with,
    origin_allowed,
    parse_frame,
)
from playerdesk.web.chat.frames import event_message_frame, message_frame
from playerdesk.web.chat.strings import widget_strings
from playerdesk.web.chat.widget_auth import WidgetSession, read_session_token

log = structlog.get_logger(__name__)
router = APIRouter()

HELLO_TIMEOUT_SECONDS = 30
FRAMES_PER_SECOND = 5
FRAME_BURST = 20
DROPPED_BEFORE_CLOSE = 20
USES_DATABASE = frozenset({"hello", "message.send", "receipt"})


def conversation_frame(ticket: Ticket | None) -> Frame | None:
    if ticket is None:
        return None
    return {"ticket_id": ticket.id, "number": ticket.number, "status": ticket.status}


def render_for_widget(event: Event) -> Frame | None:
    match event:
        case MessagePosted() if event.kind == "reply":
            return {"type": "message.new", "message": event_message_frame(event)}
        case TypingChanged() if event.side == "agent":
            return {"type": "typing", "typing": event.typing}
        case ReadReceipt() if event.side == "agent":
            return {"type": "receipt", "read_up_to": event.read_up_to}
        case TicketUpdated() if "status" in event.changes or "assignee_id" in event.changes:
            return {
                "type": "conversation",
                "conversation": {
                    "ticket_id": event.ticket_id,
                    "status": event.status,
                    "assigned": event.assignee_id is not None,
                },
            }
        case QueuePositionChanged():
            return {
                "type": "queue",
                "queue": queue_frame(
                    event.position, event.estimated_wait_seconds, more_ahead=event.more_ahead
                ),
            }
    return None


def queue_frame(
    position: int, estimated_wait_seconds: int | None, *, more_ahead: bool = False
) -> Frame:
    return {
        "position": position,
        "estimated_wait_seconds": estimated_wait_seconds,
        "more_ahead": more_ahead,
    }


class WidgetConnection:
    def __init__(self, websocket: WebSocket, runtime: Runtime, session: WidgetSession) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.session = session
        self.outbox = Outbox(websocket, render=render_for_widget)
        self.bucket = TokenBucket(rate=FRAMES_PER_SECOND, capacity=FRAME_BURST)
        self.dropped = 0
        self.player_id: int | None = None
        self.ticket_id: int | None = None
        self.strings = widget_strings(session.language)

    def follow(self, player_id: int | None, ticket_id: int | None) -> None:
        if player_id is not None and self.player_id is None:
            self.player_id = player_id
            self.runtime.hub.subscribe(self.outbox, player_topic(player_id))
        if ticket_id is not None:
            self.ticket_id = ticket_id

    def error(self, code: str, text_key: str, **extra: Any) -> None:
        self.outbox.send({"type": "error", "code": code, "detail": self.strings[text_key], **extra})

    async def hello(self, frame: Frame) -> None:
        last_seen = frame.get("last_seen_id", 0)
        after_id = last_seen if isinstance(last_seen, int) and last_seen >= 0 else 0
        async with self.runtime.read_uow() as uow:
            conversation, messages = await chat.conversation_history(
                uow, identity=self.session.identity, after_id=after_id
            )
            available = await chat.agents_available(uow)
            standing = (
                await routing.queue_standing(uow, ticket=conversation.ticket)
                if conversation.ticket is not None
                else None
            )
        self.follow(conversation.player_id, conversation.ticket.id if conversation.ticket else None)
        self.outbox.send(
            {
                "type": "welcome",
                "conversation": conversation_frame(conversation.ticket),
                "messages": [message_frame(message) for message in messages],
                "agents_available": available,
                "queue": queue_frame(
                    standing.position,
                    standing.estimated_wait_seconds,
                    more_ahead=standing.more_ahead,
                )
                if standing is not None
                else None,
            }
        )

    async def send_message(self, frame: Frame) -> None:
        client_msg_id = frame.get("client_msg_id")
        body, attachment_ids = frame.get("body", ""), frame.get("attachment_ids", [])
        claimed = frame.get("ticket_id")
        if (
            not isinstance(client_msg_id, str)
            or not isinstance(body, str)
            or not isinstance(attachment_ids, list)
            or not all(isinstance(item, int) for item in attachment_ids)
            or (claimed is not None and not isinstance(claimed, int))
        ):
            self.error("invalid", "error", client_msg_id=client_msg_id)
            return
        if len(body) > self.runtime.policies.messages.max_chars:
            self.error("too_long", "message_too_long", client_msg_id=client_msg_id)
            return
        try:
            async with self.runtime.uow() as uow:
                result = await chat.post_widget_message(
                    uow,
                    identity=self.session.identity,
                    body=body,
                    client_msg_id=client_msg_id,
                    attachment_ids=attachment_ids,
                    claimed_ticket_id=claimed,
                    fields=PlayerFields(language=self.session.language),
                    policy=self.runtime.policies.players,
                    limits=self.runtime.policies.messages,
                    routing_policy=self.runtime.policies.routing,
                )
        except PermissionDenied:
            self.error("forbidden", "error", client_msg_id=client_msg_id)
            return
        except DomainError:
            self.error("invalid", "error", client_msg_id=client_msg_id)
            return
        first_follow = self.player_id is None
        self.follow(result.ticket.player_id, result.ticket.id)
        self.outbox.send(
            {
                "type": "message.ack",
                "client_msg_id": client_msg_id,
                "message": message_frame(result.posted.message),
            }
        )
        if first_follow and result.ticket.queued_at is not None:
            # A new player's first message opened a chat that waits: its place in the queue
            # may have been fanned out before this socket followed the player. Read it once.
            async with self.runtime.read_uow() as uow:
                standing = await routing.queue_standing(uow, ticket=result.ticket)
            if standing is not None:
                self.outbox.send(
                    {
                        "type": "queue",
                        "queue": queue_frame(
                            standing.position,
                            standing.estimated_wait_seconds,
                            more_ahead=standing.more_ahead,
                        ),
                    }
                )

    async def typing(self, frame: Frame) -> None:
        if self.ticket_id is None or self.player_id is None:
            return
        await chat.signal_typing(
            publish=self.runtime.bus.publish,
            clock=self.runtime.clock,
            ticket_id=self.ticket_id,
            player_id=self.player_id,
            side="player",
            agent_id=None,
            typing=bool(frame.get("typing")),
        )

    async def receipt(self, frame: Frame) -> None:
        delivered, read = frame.get("delivered_up_to"), frame.get("read_up_to")
        async with self.runtime.uow() as uow:
            await chat.record_player_receipt(
                uow,
                identity=self.session.identity,
                delivered_up_to=delivered if isinstance(delivered, int) else None,
                read_up_to=read if isinstance(read, int) else None,
            )

    async def serve(self) -> None:
        writer = asyncio.create_task(self.outbox.run())
        try:
            first = await asyncio.wait_for(
                self.websocket.receive_text(), timeout=HELLO_TIMEOUT_SECONDS
            )
            hello = parse_frame(first)
            await self.handle_admitted(
                hello if hello and hello["type"] == "hello" else {"type": "hello"}
            )
            while True:
                text = await self.websocket.receive_text()
                if len(text) > MAX_FRAME_CHARS:
                    await close_with(self.websocket, CLOSE_TOO_BIG, "frame larger than 64 KB")
                    return
                frame = parse_frame(text)
                if not self.bucket.take():
                    self.dropped += 1
                    if self.dropped >= DROPPED_BEFORE_CLOSE:
                        await close_with(self.websocket, CLOSE_FLOODING, "too many frames")
                        return
                    client_msg_id = frame.get("client_msg_id") if frame else None
                    self.error("rate_limited", "rate_limited", client_msg_id=client_msg_id)
                    continue
                if frame is None:
                    self.error("invalid", "error")
                    continue
                try:
                    await self.handle_admitted(frame)
                except Exception:
                    # E.g. no database connection free under overload: the widget resends
                    # unacknowledged messages with the same client_msg_id, so nothing is lost.
                    log.exception("widget_frame_failed", frame_type=frame["type"])
                    self.error("unavailable", "error", client_msg_id=frame.get("client_msg_id"))
        except (WebSocketDisconnect, TimeoutError):
            pass
        finally:
            self.runtime.hub.remove(self.outbox)
            self.outbox.stop()
            with contextlib.suppress(Exception):
                await writer

    async def handle_admitted(self, frame: Frame) -> None:
        """Frames that reach the database wait for a turn (db/admission.py); when the
        process is overloaded they are refused with `unavailable` (the widget retries)."""
        if frame["type"] not in USES_DATABASE:
            await self.handle(frame)
            return
        try:
            async with self.runtime.admission.slot():
                await self.handle(frame)
        except Unavailable as exc:
            self.error(
                "unavailable",
                "error",
                client_msg_id=frame.get("client_msg_id"),
                retry_after=exc.retry_after_seconds,
            )

    async def handle(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "message.send":
            await self.send_message(frame)
        elif kind == "typing":
            await self.typing(frame)
        elif kind == "receipt":
            await self.receipt(frame)
        elif kind == "ping":
            self.outbox.send({"type": "pong"})
        elif kind == "hello":
            await self.hello(frame)
        else:
            self.error("invalid", "error")


@router.websocket("/ws/widget")
async def widget_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    if not origin_allowed(websocket, allowed=runtime.settings.widget_origins):
        await close_with(websocket, CLOSE_FORBIDDEN_ORIGIN, "origin not allowed")
        return
    try:
        session = read_session_token(
            websocket.query_params.get("token", ""),
            settings=runtime.settings,
            now=runtime.clock.now(),
        )
    except AuthenticationFailed as exc:
        await close_with(websocket, CLOSE_UNAUTHENTICATED, exc.detail)
        return
    await websocket.accept()
    await WidgetConnection(websocket, runtime, session).serve()
