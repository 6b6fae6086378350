"""`/ws/console`: live inbox and conversations for a signed-in agent (protocol in docs/API.md)."""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from playerdesk.db.models import Ticket
from playerdesk.domain.enums import MessageKind, Presence
from playerdesk.domain.errors import AuthenticationFailed, DomainError, Unavailable
from playerdesk.domain.events import (
    CallRinging,
    Event,
    MessagePosted,
    OutboxItemChanged,
    PresenceChanged,
    ReadReceipt,
    SlaAlert,
    TicketCreated,
    TicketEscalated,
    TicketUpdated,
    TypingChanged,
)
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.realtime.coalesce import Activity, ActivityCoalescer
from playerdesk.realtime.hub import INBOX, agent_topic, ticket_topic
from playerdesk.runtime import Runtime
from playerdesk.services import agent_replies, auth, chat
from playerdesk.web.chat.connection import (
    CLOSE_FLOODING,
    CLOSE_FORBIDDEN_ORIGIN,
    CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHENTICATED,
    MAX_FRAME_CHARS,
    Frame,
    Outbox,
    TokenBucket,
    close_with,
    origin_allowed,
    parse_frame,
)
from playerdesk.web.chat.frames import event_message_frame
from playerdesk.web.deps import SESSION_COOKIE
from playerdesk.web.schemas.tickets import MessageOut

log = structlog.get_logger(__name__)
router = APIRouter()

FRAMES_PER_SECOND = 20
FRAME_BURST = 60
MAX_WATCHED = 50
USES_DATABASE = frozenset({"hello", "heartbeat", "presence", "watch", "read", "message.send"})
MAX_CLIENT_MSG_ID_CHARS = 100
# Replies of one console stored side by side at most; beyond, the socket waits for each.
MAX_POSTING = 16
MAX_ATTACHMENTS = 10


class ConsoleConnection:
    def __init__(
        self, websocket: WebSocket, runtime: Runtime, actor: Actor, session_token: str
    ) -> None:
        self.websocket = websocket
        self.runtime = runtime
        self.actor = actor
        self.session_token = session_token
        self.watched: dict[int, int] = {}  # ticket id -> player id
        self.outbox = Outbox(websocket, render=self.render)
        self.bucket = TokenBucket(rate=FRAMES_PER_SECOND, capacity=FRAME_BURST)
        self.activity = ActivityCoalescer(self.inbox_activity)
        # Replies and notes being stored, the newest per conversation (see post_in_order).
        self.posting: dict[int, asyncio.Task[None]] = {}

    def inbox_activity(self, batch: list[Activity]) -> None:
        items = [
            {
                "ticket_id": activity.latest.ticket_id,
                "message_id": activity.latest.message_id,
                "author": activity.latest.author_kind,
                "kind": activity.latest.kind,
                "at": activity.latest.occurred_at.isoformat(),
                "messages": activity.messages,
                "player_messages": activity.player_messages,
            }
            for activity in batch
        ]
        if len(items) == 1:
            self.outbox.send({"type": "inbox.activity", **items[0]})
        else:
            self.outbox.send({"type": "inbox.activities", "items": items})

    def render(self, event: Event) -> Frame | None:
        match event:
            case MessagePosted() if event.ticket_id in self.watched:
                message = {**event_message_frame(event), "kind": event.kind}
                return {"type": "message.posted", "ticket_id": event.ticket_id, "message": message}
            case MessagePosted():
                self.activity.offer(event)  # sent by `inbox_activity`, coalesced
                return None
            case TicketCreated():
                return {
                    "type": "ticket.created",
                    "ticket": event.model_dump(
                        include={
                            "number",
                            "subject",
                            "channel",
                            "status",
                            "priority",
                            "language",
                            "assignee_id",
                            "team_id",
                            "bot_state",
                        }
                    )
                    | {"id": event.ticket_id, "created_at": event.occurred_at.isoformat()},
                }
            case TicketUpdated():
                return {
                    "type": "ticket.updated",
                    **event.model_dump(
                        include={
                            "ticket_id",
                            "changes",
                            "status",
                            "priority",
                            "assignee_id",
                            "team_id",
                        }
                    ),
                }
            case TypingChanged() if event.side == "player":
                return {"type": "typing", "ticket_id": event.ticket_id, "typing": event.typing}
            case ReadReceipt():
                return {
                    "type": "receipt",
                    **event.model_dump(
                        include={"ticket_id", "side", "delivered_up_to", "read_up_to"}
                    ),
                }
            case PresenceChanged():
                return {"type": "presence", "agent_id": event.agent_id, "presence": event.presence}
            case SlaAlert():
                return {
                    "type": "sla.alert",
                    "ticket_id": event.ticket_id,
                    "number": event.ticket_number,
                    "metric": event.metric,
                    "kind": event.kind,
                    "due_at": event.due_at.isoformat(),
                    "team_id": event.team_id,
                    "assignee_id": event.assignee_id,
                }
            case TicketEscalated():
                return {
                    "type": "ticket.escalated",
                    "ticket_id": event.ticket_id,
                    "number": event.ticket_number,
                    "level": event.level,
                    "trigger": event.trigger,
                    "reason": event.reason,
                    "team_id": event.team_id,
                    "priority": event.priority,
                    "notify_supervisors": event.notify_supervisors,
                    "at": event.occurred_at.isoformat(),
                }
            case CallRinging():
                # Only this agent's consoles subscribe to the event's topic.
                return {
                    "type": "call.ringing",
                    **event.model_dump(
                        mode="json",
                        include={
                            "call_id",
                            "state",
                            "direction",
                            "number",
                            "queue",
                            "player_id",
                            "player_name",
                            "vip_tier",
                            "open_tickets",
                            "phone_ticket_id",
                        },
                    ),
                }
            case OutboxItemChanged() if event.ticket_id in self.watched:
                return {
                    "type": "delivery",
                    **event.model_dump(
                        include={
                            "ticket_id",
                            "message_id",
                            "channel",
                            "status",
                            "attempts",
                            "error",
                        }
                    ),
                }
        return None

    async def set_presence(self, presence: Presence | None) -> Presence:
        async with self.runtime.uow() as uow:
            return await chat.set_presence(
                uow,
                actor=self.actor,
                presence=presence,
                routing_policy=self.runtime.policies.routing,
            )

    async def still_signed_in(self) -> bool:
        """A console tab outlives a sign-out elsewhere: check the session on each heartbeat."""
        try:
            async with self.runtime.read_uow() as uow:
                await auth.session_actor(
                    uow, token=self.session_token, ip=None, cache=self.runtime.actor_cache
                )
        except AuthenticationFailed:
            return False
        return True

    @staticmethod
    def chosen_presence(frame: Frame) -> Presence | None:
        value = frame.get("presence")
        return Presence(value) if value in ("online", "away") else None

    async def watch(self, ticket_id: object) -> None:
        if not isinstance(ticket_id, int) or len(self.watched) >= MAX_WATCHED:
            self.outbox.send({"type": "error", "code": "invalid"})
            return
        self.actor.require(Permission.TICKETS_READ)
        async with self.runtime.read_uow() as uow:
            ticket = await uow.session.get(Ticket, ticket_id)
        if ticket is None:
            self.outbox.send({"type": "error", "code": "not_found", "ticket_id": ticket_id})
            return
        self.watched[ticket_id] = ticket.player_id
        self.activity.forget(ticket_id)
        self.runtime.hub.subscribe(self.outbox, ticket_topic(ticket_id))
        self.outbox.send({"type": "watching", "ticket_id": ticket_id})

    def unwatch(self, ticket_id: object) -> None:
        if isinstance(ticket_id, int) and self.watched.pop(ticket_id, None) is not None:
            self.runtime.hub.unsubscribe(self.outbox, ticket_topic(ticket_id))

    @staticmethod
    def wrong_field(frame: Frame) -> str | None:
        """The first field of a `message.send` frame that is not what the protocol says."""
        client_msg_id, attachment_ids = frame.get("client_msg_id"), frame.get("attachment_ids", [])
        if not isinstance(frame.get("ticket_id"), int):
            return "ticket_id"
        if (
            not isinstance(client_msg_id, str)
            or not 0 < len(client_msg_id) <= MAX_CLIENT_MSG_ID_CHARS
        ):
            return "client_msg_id"
        if not isinstance(frame.get("body", ""), str):
            return "body"
        if frame.get("kind", MessageKind.REPLY.value) not in (MessageKind.REPLY, MessageKind.NOTE):
            return "kind"
        if (
            not isinstance(attachment_ids, list)
            or len(attachment_ids) > MAX_ATTACHMENTS
            or not all(isinstance(item, int) for item in attachment_ids)
        ):
            return "attachment_ids"
        return None

    async def send_message(self, frame: Frame) -> None:
        """An agent's reply or note over the socket: the same service as
        `POST /api/v1/tickets/{id}/messages`, without an HTTP request per message. The ack
        (or the error) carries the frame's `client_msg_id`; a resend with the same id is
        acknowledged with the message stored the first time."""
        client_msg_id = frame.get("client_msg_id")
        echo = {"client_msg_id": client_msg_id if isinstance(client_msg_id, str) else None}
        wrong = self.wrong_field(frame)
        if wrong is not None:
            self.outbox.send({"type": "error", "code": "invalid", "field": wrong, **echo})
            return
        ticket_id = frame["ticket_id"]
        try:
            async with self.runtime.uow() as uow:
                posted = await agent_replies.post_agent_message(
                    uow,
                    actor=self.actor,
                    ticket_id=ticket_id,
                    body=frame.get("body", ""),
                    kind=MessageKind(frame.get("kind", MessageKind.REPLY.value)),
                    client_msg_id=client_msg_id,
                    attachment_ids=frame.get("attachment_ids", []),
                    limits=self.runtime.policies.messages,
                    routing_policy=self.runtime.policies.routing,
                    mail_policy=self.runtime.policies.mail,
                )
                # The stored message, as the REST API answers it (a card number redacted...).
                message = MessageOut.of(posted.message).model_dump(mode="json")
        except DomainError as exc:
            self.outbox.send(
                {
                    "type": "error",
                    "code": exc.code,
                    "detail": exc.detail,
                    "field": exc.field,
                    "ticket_id": ticket_id,
                    **echo,
                }
            )
            return
        self.outbox.send(
            {
                "type": "message.ack",
                "ticket_id": ticket_id,
                "message": message,
                "replayed": not posted.created,
                **echo,
            }
        )

    async def handle(self, frame: Frame) -> None:
        kind = frame["type"]
        if kind == "hello":
            presence = await self.set_presence(self.chosen_presence(frame) or Presence.ONLINE)
            self.outbox.send(
                {
                    "type": "welcome",
                    "agent": {
                        "id": self.actor.agent_id,
                        "name": self.actor.name,
                        "role": self.actor.role.value,
                    },
                    "presence": presence.value,
                }
            )
        elif kind == "heartbeat":
            if not await self.still_signed_in():
                await close_with(self.websocket, CLOSE_UNAUTHENTICATED, "signed out")
                return
            await self.set_presence(self.chosen_presence(frame))
        elif kind == "presence":
            value = frame.get("presence")
            if value in ("online", "away"):
                await self.set_presence(Presence(value))
        elif kind == "watch":
            await self.watch(frame.get("ticket_id"))
        elif kind == "unwatch":
            self.unwatch(frame.get("ticket_id"))
        elif kind == "typing":
            ticket_id = frame.get("ticket_id")
            if isinstance(ticket_id, int) and ticket_id in self.watched:
                await chat.signal_typing(
                    publish=self.runtime.bus.publish,
                    clock=self.runtime.clock,
                    ticket_id=ticket_id,
                    player_id=self.watched[ticket_id],
                    side="agent",
                    agent_id=self.actor.agent_id,
                    typing=bool(frame.get("typing")),
                )
        elif kind == "read":
            ticket_id, up_to = frame.get("ticket_id"), frame.get("up_to")
            if isinstance(ticket_id, int) and isinstance(up_to, int):
                async with self.runtime.uow() as uow:
                    await chat.record_agent_read(
                        uow, actor=self.actor, ticket_id=ticket_id, read_up_to=up_to
                    )
        elif kind == "message.send":
            await self.send_message(frame)
        elif kind == "ping":
            self.outbox.send({"type": "pong"})
        else:
            self.outbox.send({"type": "error", "code": "invalid"})

    async def run_frame(self, frame: Frame) -> None:
        # A refusal names the message it refuses, so the console can send it again.
        client_msg_id = frame.get("client_msg_id")
        echo = {"client_msg_id": client_msg_id} if isinstance(client_msg_id, str) else {}
        try:
            if frame["type"] in USES_DATABASE:
                # An overloaded process refuses with `unavailable` (db/admission.py).
                async with self.runtime.admission.slot():
                    await self.handle(frame)
            else:
                await self.handle(frame)
        except DomainError as exc:
            self.outbox.send({"type": "error", "code": exc.code, "detail": exc.detail, **echo})
        except Exception:
            # E.g. no database connection free under overload: refuse this frame, keep the
            # socket (the console retries), and leave a trace.
            log.exception("console_frame_failed", frame_type=frame["type"])
            self.outbox.send({"type": "error", "code": "unavailable", **echo})

    def post_in_order(self, frame: Frame) -> None:
        """A reply or note runs beside the socket's other frames, as concurrent HTTP
        requests would: an agent answering many chats does not wait for each reply to be
        stored before the next starts. Within one conversation they keep their order."""
        conversation = frame.get("ticket_id")
        before = self.posting.get(conversation) if isinstance(conversation, int) else None

        async def post() -> None:
            if before is not None:
                await asyncio.wait([before])
            await self.run_frame(frame)

        task = asyncio.create_task(post())
        key = conversation if isinstance(conversation, int) else id(task)
        self.posting[key] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self.posting.get(key) is finished:
                del self.posting[key]

        task.add_done_callback(done)

    async def serve(self) -> None:
        self.runtime.hub.subscribe(self.outbox, INBOX)
        if self.actor.agent_id is not None:
            self.runtime.hub.subscribe(self.outbox, agent_topic(self.actor.agent_id))
        writer = asyncio.create_task(self.outbox.run())
        try:
            while True:
                text = await self.websocket.receive_text()
                if len(text) > MAX_FRAME_CHARS:
                    await close_with(self.websocket, CLOSE_TOO_BIG, "frame larger than 64 KB")
                    return
                if not self.bucket.take():
                    await close_with(self.websocket, CLOSE_FLOODING, "too many frames")
                    return
                frame = parse_frame(text)
                if frame is None:
                    self.outbox.send({"type": "error", "code": "invalid"})
                elif frame["type"] == "message.send" and len(self.posting) < MAX_POSTING:
                    self.post_in_order(frame)
                else:
                    await self.run_frame(frame)
        except WebSocketDisconnect:
            pass
        finally:
            self.runtime.hub.remove(self.outbox)
            self.activity.close()
            self.outbox.stop()
            with contextlib.suppress(Exception):
                await writer


@router.websocket("/ws/console")
async def console_socket(websocket: WebSocket) -> None:
    runtime: Runtime = websocket.app.state.runtime
    # Cookies ride along on cross-site websocket handshakes: only our own pages may connect.
    if not origin_allowed(websocket, allowed=[]):
        await close_with(websocket, CLOSE_FORBIDDEN_ORIGIN, "origin not allowed")
        return
    token = websocket.cookies.get(SESSION_COOKIE)
    try:
        if not token:
            raise AuthenticationFailed("not signed in")
        async with runtime.admission.slot(), runtime.read_uow() as uow:
            actor = await auth.session_actor(
                uow,
                token=token,
                ip=websocket.client.host if websocket.client else None,
                cache=runtime.actor_cache,
            )
    except AuthenticationFailed as exc:
        await close_with(websocket, CLOSE_UNAUTHENTICATED, exc.detail)
        return
    except Unavailable:
        await close_with(websocket, CLOSE_TRY_AGAIN, "server busy; reconnect shortly")
        return
    await websocket.accept()
    await ConsoleConnection(websocket, runtime, actor, token).serve()
