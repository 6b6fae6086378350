"""Tickets: open, change, read and list."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import and_, exists, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from playerdesk.db.models import Agent, Counter, Message, Player, Tag, Team, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import (
    AuthorKind,
    BotState,
    Channel,
    MessageKind,
    Priority,
    TicketStatus,
)
from playerdesk.domain.errors import NotFound, ValidationFailed
from playerdesk.domain.events import TicketCreated
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.players import check_language
from playerdesk.domain.redaction import redact_card_numbers
from playerdesk.domain.state import ensure_transition
from playerdesk.services import audit, escalation, routing, sla
from playerdesk.services.floor_config import floor_config
from playerdesk.services.messages import MessageLimits, add_message, add_player_message
from playerdesk.services.pagination import Page, Position, decode_cursor
from playerdesk.services.players import PlayerFields, PlayerPolicy, match_or_create_player
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.ticket_events import publish_ticket_updated

TICKET_NUMBER_COUNTER = "ticket_number"
FIRST_TICKET_NUMBER = 1001
MAX_TAGS = 20


async def _increment_counter(uow: UnitOfWork) -> int | None:
    return await uow.session.scalar(
        update(Counter)
        .where(Counter.name == TICKET_NUMBER_COUNTER)
        .values(value=Counter.value + 1)
        .returning(Counter.value)
    )


async def _next_ticket_number(uow: UnitOfWork) -> int:
    """Gap-free numbers from a counter row; the row lock serialises concurrent tickets."""
    number = await _increment_counter(uow)
    if number is not None:
        return int(number)
    try:
        async with uow.session.begin_nested():
            await uow.session.execute(
                insert(Counter).values(name=TICKET_NUMBER_COUNTER, value=FIRST_TICKET_NUMBER)
            )
        return FIRST_TICKET_NUMBER
    except IntegrityError:
        # Another transaction created the counter first; now it exists, take the next number.
        number = await _increment_counter(uow)
        assert number is not None
        return int(number)


def _clean_tag(name: str) -> str:
    tag = name.strip().lower()
    if not tag or len(tag) > 50 or any(ch.isspace() for ch in tag):
        raise ValidationFailed("tags are 1-50 characters without spaces", field="tags")
    return tag


def clean_tags(names: list[str]) -> list[str]:
    """Tags as a ticket stores them (lowercase, each once), or refused (field "tags")."""
    wanted = list(dict.fromkeys(_clean_tag(name) for name in names))
    if len(wanted) > MAX_TAGS:
        raise ValidationFailed(f"at most {MAX_TAGS} tags", field="tags")
    return wanted


async def _tags(uow: UnitOfWork, names: list[str]) -> list[Tag]:
    wanted = clean_tags(names)
    if not wanted:
        return []
    existing = {
        tag.name: tag
        for tag in (await uow.session.scalars(select(Tag).where(Tag.name.in_(wanted)))).all()
    }
    for name in wanted:
        if name not in existing:
            existing[name] = Tag(name=name)
            uow.session.add(existing[name])
    return sorted(existing.values(), key=lambda tag: tag.name)


async def _check_assignee(uow: UnitOfWork, assignee_id: int) -> None:
    agent = await uow.session.get(Agent, assignee_id)
    if agent is None or not agent.is_active:
        raise ValidationFailed("no such active agent", field="assignee_id")


async def _check_team(uow: UnitOfWork, team_id: int) -> None:
    if await uow.session.get(Team, team_id) is None:
        raise ValidationFailed("no such team", field="team_id")


def _clean_subject(subject: str) -> str:
    text = " ".join(subject.split())
    if not text:
        raise ValidationFailed("a subject is required", field="subject")
    if len(text) > 300:
        raise ValidationFailed("at most 300 characters", field="subject")
    return redact_card_numbers(text)[0]


@dataclass(frozen=True, kw_only=True)
class NewTicket:
    channel: Channel
    subject: str
    body: str
    player_external_id: str | None = None
    player: PlayerFields = field(default_factory=PlayerFields)
    priority: Priority = Priority.NORMAL
    language: str | None = None
    topic: str | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    tags: list[str] = field(default_factory=list)
    client_msg_id: str | None = None


async def open_ticket_in_transaction(
    uow: UnitOfWork,
    *,
    actor: Actor,
    player: Player,
    channel: Channel,
    subject: str,
    language: str,
    priority: Priority = Priority.NORMAL,
    topic: str | None = None,
    team_id: int | None = None,
    assignee_id: int | None = None,
    tags: list[str] | None = None,
    routing_policy: RoutingPolicy,
) -> Ticket:
    """Insert a ticket, route it (unless an assignee is given or the bot answers the channel
    first), start its SLA clocks, audit it and queue `ticket.created`; the caller adds the
    first message and commits. Shared by every channel that opens tickets."""
    subject = _clean_subject(subject)
    if team_id is not None:
        await _check_team(uow, team_id)
    if assignee_id is not None:
        await _check_assignee(uow, assignee_id)
    now = uow.clock.now()
    # The bot answers first on its channels, unless the caller already chose who answers.
    bot_answers = (
        assignee_id is None
        and team_id is None
        and channel.value in (await floor_config(uow)).bot_channels
    )
    ticket = Ticket(
        number=await _next_ticket_number(uow),
        bot_state=BotState.ACTIVE.value if bot_answers else None,
        channel=channel.value,
        subject=subject,
        status=TicketStatus.NEW.value,
        priority=priority.value,
        language=language,
        topic=(topic or "").strip().lower()[:50] or None,
        player_id=player.id,
        team_id=team_id,
        assignee_id=assignee_id,
        created_at=now,
        updated_at=now,
        last_message_at=now,
        # Its first message is the player's: somebody owes them an answer from now.
        waiting_since=now,
    )
    ticket.tags = await _tags(uow, tags or [])
    uow.session.add(ticket)
    await uow.session.flush()
    if bot_answers:
        pass  # routed when the bot hands over (services.bot)
    elif assignee_id is None:
        await routing.route_ticket(
            uow, ticket=ticket, policy=routing_policy, announce_change=False, player=player
        )
    else:
        await routing.settle_load(
            uow, ticket=ticket, previous_assignee_id=None, policy=routing_policy
        )
    await sla.start_ticket_clocks(uow, ticket=ticket, vip_tier=player.vip_tier)
    await escalation.schedule_unresolved_check(uow, ticket=ticket)
    audit.record(
        uow,
        actor=actor,
        action="ticket.created",
        entity_type="ticket",
        entity_id=ticket.id,
        details={"number": ticket.number, "channel": ticket.channel},
    )
    uow.publish_on_commit(
        TicketCreated(
            occurred_at=now,
            ticket_id=ticket.id,
            number=ticket.number,
            channel=ticket.channel,
            subject=ticket.subject,
            language=ticket.language,
            status=ticket.status,
            priority=ticket.priority,
            player_id=ticket.player_id,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            bot_state=ticket.bot_state,
        )
    )
    await routing.announce(uow, ticket=ticket, before=None)
    return ticket


async def create_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    new: NewTicket,
    player_policy: PlayerPolicy,
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
) -> Ticket:
    """Open a ticket with the player's first message, matching or creating the player."""
    actor.require(Permission.TICKETS_WRITE)
    _clean_subject(new.subject)  # refuse a bad subject before a player is created
    player = await match_or_create_player(
        uow,
        actor=actor,
        external_id=new.player_external_id,
        fields=new.player,
        policy=player_policy,
    )
    language = (
        check_language(new.language, supported=player_policy.languages)
        if new.language
        else player.language
    )
    ticket = await open_ticket_in_transaction(
        uow,
        actor=actor,
        player=player,
        channel=new.channel,
        subject=new.subject,
        language=language,
        priority=new.priority,
        topic=new.topic,
        team_id=new.team_id,
        assignee_id=new.assignee_id,
        tags=new.tags,
        routing_policy=routing_policy,
    )
    await add_player_message(
        uow,
        ticket=ticket,
        body=new.body,
        client_msg_id=new.client_msg_id,
        attachment_ids=[],
        limits=limits,
        routing_policy=routing_policy,
    )
    await uow.commit()
    return ticket


async def _load(uow: UnitOfWork, ticket_id: int, *, for_update: bool = False) -> Ticket:
    query = select(Ticket).where(Ticket.id == ticket_id).options(selectinload(Ticket.tags))
    if for_update:
        query = query.with_for_update()
    ticket = await uow.session.scalar(query)
    if ticket is None:
        raise NotFound("no such ticket", field="ticket_id")
    return ticket


async def get_ticket(uow: UnitOfWork, *, actor: Actor, ticket_id: int) -> Ticket:
    actor.require(Permission.TICKETS_READ)
    return await _load(uow, ticket_id)


_KEEP: object = object()


@dataclass(frozen=True, kw_only=True)
class TicketChanges:
    """Only the fields a caller sets are applied; `None` for assignee/team means 'clear'."""

    status: TicketStatus | None = None
    priority: Priority | None = None
    assignee_id: int | object | None = _KEEP
    team_id: int | object | None = _KEEP
    tags: list[str] | None = None
    topic: str | None = None
    language: str | None = None


def apply_status(ticket: Ticket, target: TicketStatus, *, now: datetime) -> None:
    """Move a ticket to a new status, keeping the lifecycle timestamps right."""
    ensure_transition(TicketStatus(ticket.status), target)
    ticket.status = target.value
    if target is TicketStatus.RESOLVED:
        ticket.resolved_at = now
    elif target is TicketStatus.CLOSED:
        ticket.closed_at = now
    else:
        ticket.resolved_at = None


async def update_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    changes: TicketChanges,
    supported_languages: list[str],
    routing_policy: RoutingPolicy,
) -> Ticket:
    ticket, changed = await change_ticket(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        changes=changes,
        supported_languages=supported_languages,
        routing_policy=routing_policy,
    )
    if changed:
        await uow.commit()
    return ticket


async def change_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    changes: TicketChanges,
    supported_languages: list[str],
    routing_policy: RoutingPolicy,
) -> tuple[Ticket, bool]:
    """`update_ticket` inside the caller's transaction (a macro changes the ticket together
    with its reply); the caller commits. True when anything changed."""
    actor.require(Permission.TICKETS_WRITE)
    ticket = await _load(uow, ticket_id, for_update=True)
    now = uow.clock.now()
    previous_assignee = ticket.assignee_id
    previous_status = ticket.status
    diff: dict[str, list[str | int | None]] = {}

    def note(name: str, before: str | int | None, after: str | int | None) -> None:
        if before != after:
            diff[name] = [before, after]

    if changes.status is not None and changes.status.value != ticket.status:
        before = ticket.status
        apply_status(ticket, changes.status, now=now)
        note("status", before, ticket.status)
    if changes.priority is not None:
        note("priority", ticket.priority, changes.priority.value)
        ticket.priority = changes.priority.value
    if changes.assignee_id is not _KEEP:
        new_assignee = changes.assignee_id
        assert new_assignee is None or isinstance(new_assignee, int)
        if new_assignee is not None:
            await _check_assignee(uow, new_assignee)
        note("assignee_id", ticket.assignee_id, new_assignee)
        ticket.assignee_id = new_assignee
    if changes.team_id is not _KEEP:
        new_team = changes.team_id
        assert new_team is None or isinstance(new_team, int)
        if new_team is not None:
            await _check_team(uow, new_team)
        note("team_id", ticket.team_id, new_team)
        ticket.team_id = new_team
    if changes.topic is not None:
        topic = changes.topic.strip().lower()[:50] or None
        note("topic", ticket.topic, topic)
        ticket.topic = topic
    if changes.language is not None:
        language = check_language(changes.language, supported=supported_languages)
        note("language", ticket.language, language)
        ticket.language = language
    if changes.tags is not None:
        tags = await _tags(uow, changes.tags)
        before_tags = ",".join(tag.name for tag in ticket.tags)
        ticket.tags = tags
        note("tags", before_tags, ",".join(tag.name for tag in tags))

    taken = {"assignee_id", "team_id"} & set(diff)
    if taken and ticket.bot_state == BotState.ACTIVE.value:
        # A person took the conversation (or gave it to a team): the bot steps back.
        note("bot_state", ticket.bot_state, BotState.HANDED_OFF.value)
        ticket.bot_state = BotState.HANDED_OFF.value
    if diff:
        ticket.updated_at = now
        await _follow_up(
            uow,
            ticket=ticket,
            changed=set(diff),
            previous_assignee=previous_assignee,
            previous_status=previous_status,
            policy=routing_policy,
        )
        audit.record(
            uow,
            actor=actor,
            action="ticket.updated",
            entity_type="ticket",
            entity_id=ticket.id,
            details={"changes": diff},
        )
        publish_ticket_updated(uow, ticket=ticket, changes=diff)
    return ticket, bool(diff)


async def _follow_up(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    changed: set[str],
    previous_assignee: int | None,
    previous_status: str,
    policy: RoutingPolicy,
) -> None:
    """What a change sets in motion: agent loads, the queue, SLA clocks and targets, the
    unresolved-too-long check, and serving the queue when an agent has room again."""
    if "assignee_id" in changed and ticket.assignee_id is not None:
        ticket.queued_at = None  # taken by hand out of the queue
    freed = await routing.settle_load(
        uow, ticket=ticket, previous_assignee_id=previous_assignee, policy=policy
    )
    if "status" in changed:
        await sla.status_changed(uow, ticket=ticket, before=previous_status)
        if ticket.status not in routing.LOADED_STATUSES:
            ticket.queued_at = None
    if (
        ticket.assignee_id is None
        and ticket.queued_at is None
        and ticket.status in routing.LOADED_STATUSES
        and changed & {"assignee_id", "status", "team_id"}
    ):
        # Unassigned, or reopened with nobody on it: back through routing, never left lying.
        await routing.route_ticket(uow, ticket=ticket, policy=policy, announce_change=False)
        await routing.announce(uow, ticket=ticket, before=None)
    if changed & {"priority", "team_id"}:
        await sla.reapply_policy(uow, ticket=ticket)
    if "topic" in changed:
        await escalation.schedule_unresolved_check(uow, ticket=ticket)
    if freed is not None:
        await routing.capacity_freed(uow, agent_id=freed, policy=policy)


MAX_TRANSFER_NOTE = 2000


async def transfer_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    to_agent_id: int | None,
    to_team_id: int | None,
    note: str,
    limits: MessageLimits,
    routing_policy: RoutingPolicy,
) -> Ticket:
    """Hand a conversation to a colleague or a team, with a note for them (kept on the
    ticket as an internal note). To a team alone: its queue and routing take it from there.
    A colleague chosen by hand may be past their chat capacity: that is a person's call."""
    actor.require(Permission.TICKETS_WRITE)
    if to_agent_id is None and to_team_id is None:
        raise ValidationFailed("transfer to an agent or a team", field="agent_id")
    text = note.strip()
    if not text:
        raise ValidationFailed("say why, for the colleague who takes over", field="note")
    if len(text) > MAX_TRANSFER_NOTE:
        raise ValidationFailed(f"at most {MAX_TRANSFER_NOTE} characters", field="note")
    ticket = await _load(uow, ticket_id, for_update=True)
    if ticket.status in (TicketStatus.RESOLVED.value, TicketStatus.CLOSED.value):
        raise ValidationFailed("a resolved or closed ticket is not transferred", field="ticket_id")
    if to_team_id is not None:
        await _check_team(uow, to_team_id)
    if to_agent_id is not None:
        await _check_assignee(uow, to_agent_id)
    before = {"team_id": ticket.team_id, "assignee_id": ticket.assignee_id}
    await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.AGENT,
        author=actor,
        kind=MessageKind.NOTE,
        body=text,
        client_msg_id=None,
        attachment_ids=[],
        limits=limits,
        routing_policy=routing_policy,
    )
    if to_team_id is not None:
        ticket.team_id = to_team_id
    ticket.assignee_id = to_agent_id
    ticket.queued_at = None
    ticket.updated_at = uow.clock.now()
    previous = before["assignee_id"]
    freed = await routing.settle_load(
        uow, ticket=ticket, previous_assignee_id=previous, policy=routing_policy
    )
    if ticket.team_id != before["team_id"]:
        await sla.reapply_policy(uow, ticket=ticket)
    if to_agent_id is None and ticket.status in routing.LOADED_STATUSES:
        await routing.route_ticket(uow, ticket=ticket, policy=routing_policy, announce_change=False)
    audit.record(
        uow,
        actor=actor,
        action="ticket.transferred",
        entity_type="ticket",
        entity_id=ticket.id,
        details={"from": before, "to": {"team_id": ticket.team_id, "assignee_id": to_agent_id}},
    )
    await routing.announce(uow, ticket=ticket, before=before)
    if freed is not None:
        await routing.capacity_freed(uow, agent_id=freed, policy=routing_policy)
    await uow.commit()
    return ticket


@dataclass(frozen=True, kw_only=True)
class TicketFilter:
    statuses: list[TicketStatus] = field(default_factory=list)
    channel: Channel | None = None
    team_id: int | None = None
    team_ids: list[int] | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    priority: Priority | None = None
    player_id: int | None = None
    language: str | None = None
    tag: str | None = None
    text: str | None = None


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class TicketOrder(StrEnum):
    NEWEST = "newest"  # by when the ticket was opened
    ACTIVITY = "activity"  # by the last public message: how an inbox is read


async def list_tickets(
    uow: UnitOfWork,
    *,
    actor: Actor,
    filters: TicketFilter,
    cursor: str | None,
    limit: int,
    order: TicketOrder = TicketOrder.NEWEST,
) -> Page[Ticket]:
    """Keyset-paginated, newest or most recently active first. Two queries whatever the page
    size (tickets, tags)."""
    actor.require(Permission.TICKETS_READ)
    query = select(Ticket).options(selectinload(Ticket.tags)).limit(limit + 1)
    if order is TicketOrder.ACTIVITY:
        query = query.order_by(Ticket.last_message_at.desc(), Ticket.id.desc())
    else:
        query = query.order_by(Ticket.id.desc())
    if filters.statuses:
        query = query.where(Ticket.status.in_([status.value for status in filters.statuses]))
    if filters.channel is not None:
        query = query.where(Ticket.channel == filters.channel.value)
    if filters.team_id is not None:
        query = query.where(Ticket.team_id == filters.team_id)
    if filters.team_ids is not None:
        query = query.where(Ticket.team_id.in_(filters.team_ids))
    if filters.unassigned:
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters.assignee_id is not None:
        query = query.where(Ticket.assignee_id == filters.assignee_id)
    if filters.priority is not None:
        query = query.where(Ticket.priority == filters.priority.value)
    if filters.player_id is not None:
        query = query.where(Ticket.player_id == filters.player_id)
    if filters.language is not None:
        query = query.where(Ticket.language == filters.language)
    if filters.tag:
        query = query.where(Ticket.tags.any(Tag.name == filters.tag.strip().lower()))
    if filters.text and filters.text.strip():
        pattern = _like_pattern(filters.text.strip().lower())
        in_messages = exists().where(
            Message.ticket_id == Ticket.id, func.lower(Message.body).like(pattern, escape="\\")
        )
        query = query.where(or_(func.lower(Ticket.subject).like(pattern, escape="\\"), in_messages))
    if cursor is not None:
        position = decode_cursor(cursor)
        if order is TicketOrder.ACTIVITY:
            if position.at is None:
                raise ValidationFailed("not a cursor of this ordering", field="cursor")
            query = query.where(
                or_(
                    Ticket.last_message_at < position.at,
                    and_(Ticket.last_message_at == position.at, Ticket.id < position.before),
                )
            )
        else:
            query = query.where(Ticket.id < position.before)
    rows = (await uow.session.scalars(query)).all()
    if order is TicketOrder.ACTIVITY:
        return Page.from_rows(
            rows, limit=limit, position=lambda t: Position(before=t.id, at=t.last_message_at)
        )
    return Page.from_rows(rows, limit=limit, position=lambda t: Position(before=t.id))


async def get_tickets(uow: UnitOfWork, *, actor: Actor, ticket_ids: list[int]) -> list[Ticket]:
    """Tickets by id in the order asked, unknown ids left out; one query (lists built from
    another source, such as the at-risk view)."""
    actor.require(Permission.TICKETS_READ)
    if not ticket_ids:
        return []
    found = {
        ticket.id: ticket
        for ticket in await uow.session.scalars(select(Ticket).where(Ticket.id.in_(ticket_ids)))
    }
    return [found[ticket_id] for ticket_id in ticket_ids if ticket_id in found]


async def unread_counts(uow: UnitOfWork, *, actor: Actor, ticket_ids: list[int]) -> dict[int, int]:
    """Player messages no agent has read yet, per ticket, in one query."""
    actor.require(Permission.TICKETS_READ)
    if not ticket_ids:
        return {}
    rows = await uow.session.execute(
        select(Message.ticket_id, func.count())
        .join(Ticket, Ticket.id == Message.ticket_id)
        .where(
            Message.ticket_id.in_(ticket_ids),
            Message.author_kind == AuthorKind.PLAYER.value,
            Message.id > func.coalesce(Ticket.agent_read_up_to, 0),
        )
        .group_by(Message.ticket_id)
    )
    return {int(ticket_id): int(count) for ticket_id, count in rows}
