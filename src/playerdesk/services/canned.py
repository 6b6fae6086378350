"""Canned replies and macros: writing them, finding them for the composer, filling their
placeholders for a ticket, and sending them.

A reply exists once per language under its shortcut; a ticket in a language that has no
version of it gets the default language's. Filling placeholders may need the casino's back
office, which can be slow or down: no transaction is held open while it is asked, and what
it does not answer stays a visible `{{placeholder}}` for the agent to replace. Sending
refuses any text that still has one. A macro's reply and its actions (status, priority,
tags, team) commit together or not at all.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog
from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import IntegrityError

from playerdesk.crm.base import BackOfficeUnavailable, CasinoBackend, PlayerNotFound
from playerdesk.db.models import Agent, AgentTeam, CannedReply, Message, Player, Team, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import MessageKind, Priority, TicketStatus
from playerdesk.domain.errors import Conflict, DomainError, NotFound, ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.placeholders import (
    Source,
    check_template,
    ensure_filled,
    fill,
    sources_of,
)
from playerdesk.domain.players import check_language
from playerdesk.services import agent_replies, audit
from playerdesk.services import tickets as ticket_service
from playerdesk.services.messages import MessageLimits
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.placeholder_values import AccountFacts, LocalFacts, placeholder_values
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.routing_admin import N_

log = structlog.get_logger(__name__)

T = TypeVar("T")

SHORTCUT = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_SHORTCUT = 50
MAX_TITLE = 200
MAX_BODY = 5000
MAX_LIST = 200
# How many payments to ask for: enough to find the latest deposit and the latest withdrawal.
PAYMENTS_LOOKED_AT = 20
# The statuses a macro may set: where an open ticket can go (closing follows resolving).
MACRO_STATUSES = (
    TicketStatus.OPEN,
    TicketStatus.PENDING,
    TicketStatus.ON_HOLD,
    TicketStatus.RESOLVED,
)

# Messages the console shows (and translates) next to the field at fault.
SERVICE_MESSAGES = (
    N_("a shortcut is lowercase letters, digits and hyphens, like withdrawal-pending"),
    N_("a shortcut is at most 50 characters"),
    N_("a title is 1 to 200 characters"),
    N_("write the reply's text"),
    N_("a reply is at most 5000 characters"),
    N_("this shortcut is already used in this language"),
    N_("no such team"),
    N_("a macro can set the status to open, pending, on hold or resolved"),
    N_("tags are 1-50 characters without spaces"),
    N_("no such canned reply"),
)


@dataclass(frozen=True, kw_only=True)
class CannedReplyInput:
    shortcut: str
    language: str
    title: str
    body: str
    team_id: int | None = None
    is_active: bool = True
    # The macro's actions; none set: a plain canned reply.
    set_status: TicketStatus | None = None
    set_priority: Priority | None = None
    add_tags: list[str] = field(default_factory=list)
    move_to_team_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class CannedLanguages:
    supported: list[str]
    default: str


def normalise_shortcut(shortcut: str) -> str:
    """`/Withdrawal-Pending ` -> `withdrawal-pending` (the slash is how agents type it)."""
    return shortcut.strip().removeprefix("/").strip().lower()


def _check_shortcut(shortcut: str) -> str:
    value = normalise_shortcut(shortcut)
    if len(value) > MAX_SHORTCUT:
        raise ValidationFailed(N_("a shortcut is at most 50 characters"), field="shortcut")
    if not SHORTCUT.match(value):
        raise ValidationFailed(
            N_("a shortcut is lowercase letters, digits and hyphens, like withdrawal-pending"),
            field="shortcut",
        )
    return value


async def _check_team(uow: UnitOfWork, team_id: int | None, *, field: str) -> int | None:
    if team_id is not None and await uow.session.get(Team, team_id) is None:
        raise ValidationFailed(N_("no such team"), field=field)
    return team_id


async def _checked(
    uow: UnitOfWork, reply: CannedReplyInput, languages: CannedLanguages
) -> dict[str, object]:
    """The columns of a reply being saved, each checked; refused naming the field."""
    title = " ".join(reply.title.split())
    if not 0 < len(title) <= MAX_TITLE:
        raise ValidationFailed(N_("a title is 1 to 200 characters"), field="title")
    body = reply.body.strip()
    if not body:
        raise ValidationFailed(N_("write the reply's text"), field="body")
    if len(body) > MAX_BODY:
        raise ValidationFailed(N_("a reply is at most 5000 characters"), field="body")
    check_template(body, field="body")
    if reply.set_status is not None and reply.set_status not in MACRO_STATUSES:
        raise ValidationFailed(
            N_("a macro can set the status to open, pending, on hold or resolved"),
            field="set_status",
        )
    try:
        tags = ticket_service.clean_tags(reply.add_tags)
    except ValidationFailed as exc:
        raise ValidationFailed(exc.detail, field="add_tags") from None
    return {
        "shortcut": _check_shortcut(reply.shortcut),
        "language": check_language(reply.language, supported=languages.supported),
        "title": title,
        "body": body,
        "team_id": await _check_team(uow, reply.team_id, field="team_id"),
        "is_active": reply.is_active,
        "set_status": reply.set_status.value if reply.set_status else None,
        "set_priority": reply.set_priority.value if reply.set_priority else None,
        "add_tags": tags,
        "move_to_team_id": await _check_team(uow, reply.move_to_team_id, field="move_to_team_id"),
    }


async def _refuse_taken(
    uow: UnitOfWork, *, shortcut: str, language: str, other_than: int | None
) -> None:
    query = select(CannedReply.id).where(
        CannedReply.shortcut == shortcut, CannedReply.language == language
    )
    if other_than is not None:
        query = query.where(CannedReply.id != other_than)
    if await uow.session.scalar(query) is not None:
        raise Conflict(N_("this shortcut is already used in this language"), field="shortcut")


async def _flush(uow: UnitOfWork) -> None:
    try:
        await uow.session.flush()
    except IntegrityError:
        # Saved meanwhile by someone else under the same shortcut and language.
        raise Conflict(
            N_("this shortcut is already used in this language"), field="shortcut"
        ) from None


def _audit_details(row: CannedReply) -> dict[str, object]:
    return {"shortcut": row.shortcut, "language": row.language, "macro": row.is_macro}


async def create_canned_reply(
    uow: UnitOfWork, *, actor: Actor, reply: CannedReplyInput, languages: CannedLanguages
) -> CannedReply:
    actor.require(Permission.CANNED_REPLIES_MANAGE)
    values = await _checked(uow, reply, languages)
    await _refuse_taken(
        uow, shortcut=str(values["shortcut"]), language=str(values["language"]), other_than=None
    )
    now = uow.clock.now()
    row = CannedReply(
        **values,
        usage_count=0,
        created_by_agent_id=actor.agent_id,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(row)
    await _flush(uow)
    audit.record(
        uow,
        actor=actor,
        action="canned_reply.created",
        entity_type="canned_reply",
        entity_id=row.id,
        details=_audit_details(row),
    )
    await uow.commit()
    return row


async def _load(uow: UnitOfWork, canned_id: int) -> CannedReply:
    row = await uow.session.get(CannedReply, canned_id)
    if row is None:
        raise NotFound(N_("no such canned reply"), field="canned_id")
    return row


async def update_canned_reply(
    uow: UnitOfWork,
    *,
    actor: Actor,
    canned_id: int,
    reply: CannedReplyInput,
    languages: CannedLanguages,
) -> CannedReply:
    """Replace a reply's text, scope and actions; its usage count is kept."""
    actor.require(Permission.CANNED_REPLIES_MANAGE)
    row = await _load(uow, canned_id)
    values = await _checked(uow, reply, languages)
    await _refuse_taken(
        uow,
        shortcut=str(values["shortcut"]),
        language=str(values["language"]),
        other_than=row.id,
    )
    changed = sorted(name for name, value in values.items() if getattr(row, name) != value)
    for name, value in values.items():
        setattr(row, name, value)
    if changed:
        row.updated_at = uow.clock.now()
        await _flush(uow)
        audit.record(
            uow,
            actor=actor,
            action="canned_reply.updated",
            entity_type="canned_reply",
            entity_id=row.id,
            details={**_audit_details(row), "changed": changed},
        )
        await uow.commit()
    return row


async def delete_canned_reply(uow: UnitOfWork, *, actor: Actor, canned_id: int) -> None:
    actor.require(Permission.CANNED_REPLIES_MANAGE)
    row = await _load(uow, canned_id)
    details = _audit_details(row)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="canned_reply.deleted",
        entity_type="canned_reply",
        entity_id=canned_id,
        details=details,
    )
    await uow.commit()


# Finding replies --------------------------------------------------------------------------


async def _team_scope(uow: UnitOfWork, *, actor: Actor, ticket_team_id: int | None) -> list[int]:
    """The teams whose replies this agent is offered: their own, and the ticket's."""
    teams: list[int] = []
    if actor.agent_id is not None:
        teams = list(
            (
                await uow.session.scalars(
                    select(AgentTeam.team_id).where(AgentTeam.agent_id == actor.agent_id)
                )
            ).all()
        )
    if ticket_team_id is not None:
        teams.append(ticket_team_id)
    return teams


async def _visibility(
    uow: UnitOfWork, *, actor: Actor, ticket_team_id: int | None
) -> list[ColumnElement[bool]]:
    """Conditions on the rows an actor may see: managers see every reply, others the active
    replies for everyone and those of their teams."""
    if actor.can(Permission.CANNED_REPLIES_MANAGE):
        return []
    teams = await _team_scope(uow, actor=actor, ticket_team_id=ticket_team_id)
    return [
        CannedReply.is_active.is_(True),
        or_(CannedReply.team_id.is_(None), CannedReply.team_id.in_(teams)),
    ]


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True, kw_only=True)
class CannedQuery:
    # The composer's question: one reply per shortcut, in this language where it has one and
    # in the default language otherwise. None: every language (the administration's list).
    language: str | None = None
    prefix: str | None = None  # of the shortcut, with or without the slash
    text: str | None = None  # in the title or the shortcut
    ticket_id: int | None = None  # also offers replies of the ticket's team
    active_only: bool = False
    limit: int = 50


async def list_canned_replies(
    uow: UnitOfWork, *, actor: Actor, query: CannedQuery, default_language: str
) -> list[CannedReply]:
    actor.require(Permission.TICKETS_READ)
    ticket_team_id = None
    if query.ticket_id is not None:
        ticket_team_id = await _ticket_team(uow, query.ticket_id)
    conditions = await _visibility(uow, actor=actor, ticket_team_id=ticket_team_id)
    if query.active_only:
        conditions.append(CannedReply.is_active.is_(True))
    if query.prefix:
        prefix = normalise_shortcut(query.prefix)
        if prefix:
            conditions.append(CannedReply.shortcut.like(_like_prefix(prefix), escape="\\"))
    if query.text and query.text.strip():
        pattern = "%" + _like_prefix(query.text.strip().lower())
        conditions.append(
            or_(
                CannedReply.title.ilike(pattern, escape="\\"),
                CannedReply.shortcut.like(pattern, escape="\\"),
            )
        )
    languages = None
    if query.language is not None:
        languages = list(dict.fromkeys([query.language, default_language]))
        conditions.append(CannedReply.language.in_(languages))
    limit = max(1, min(query.limit, MAX_LIST))
    rows = list(
        (
            await uow.session.scalars(
                select(CannedReply)
                .where(*conditions)
                .order_by(CannedReply.shortcut, CannedReply.language)
                # Each shortcut may come in two languages, of which one is kept.
                .limit(limit * 2 if languages else limit)
            )
        ).all()
    )
    if query.language is None:
        return rows[:limit]
    best: dict[str, CannedReply] = {}
    for row in rows:
        kept = best.get(row.shortcut)
        if kept is None or row.language == query.language:
            best[row.shortcut] = row
    return list(best.values())[:limit]


async def _ticket_team(uow: UnitOfWork, ticket_id: int) -> int | None:
    found = (
        await uow.session.execute(select(Ticket.id, Ticket.team_id).where(Ticket.id == ticket_id))
    ).first()
    if found is None:
        raise NotFound("no such ticket", field="ticket_id")
    team_id: int | None = found.team_id
    return team_id


async def _visible(
    uow: UnitOfWork, *, actor: Actor, canned_id: int, ticket_team_id: int | None
) -> CannedReply:
    conditions = await _visibility(uow, actor=actor, ticket_team_id=ticket_team_id)
    row = await uow.session.scalar(
        select(CannedReply).where(CannedReply.id == canned_id, *conditions)
    )
    if row is None:
        raise NotFound(N_("no such canned reply"), field="canned_id")
    return row


async def get_canned_reply(uow: UnitOfWork, *, actor: Actor, canned_id: int) -> CannedReply:
    actor.require(Permission.TICKETS_READ)
    return await _visible(uow, actor=actor, canned_id=canned_id, ticket_team_id=None)


async def _by_shortcut(
    uow: UnitOfWork,
    *,
    actor: Actor,
    shortcut: str,
    language: str,
    default_language: str,
    ticket_team_id: int | None,
) -> CannedReply:
    conditions = await _visibility(uow, actor=actor, ticket_team_id=ticket_team_id)
    rows = (
        await uow.session.scalars(
            select(CannedReply).where(
                CannedReply.shortcut == normalise_shortcut(shortcut),
                CannedReply.language.in_([language, default_language]),
                CannedReply.is_active.is_(True),
                *conditions,
            )
        )
    ).all()
    by_language = {row.language: row for row in rows}
    row = by_language.get(language) or by_language.get(default_language)
    if row is None:
        raise NotFound(N_("no such canned reply"), field="shortcut")
    return row


# Filling a reply for a ticket -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class CannedPreview:
    reply: CannedReply  # detached: read before the back office was asked
    ticket_id: int
    language: str  # the ticket's, in which the values are written
    text: str
    placeholders: list[str]
    # Placeholders still in `text`: no such data, or the back office did not answer.
    unfilled: list[str]
    # The back office was needed and did not answer (or none is configured).
    account_unavailable: bool


@dataclass(frozen=True, kw_only=True)
class _Subject:
    reply: CannedReply
    ticket_id: int
    player_id: int
    language: str
    local: LocalFacts


async def _read_subject(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    canned_id: int | None,
    shortcut: str | None,
    default_language: str,
) -> _Subject:
    ticket = await uow.session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound("no such ticket", field="ticket_id")
    if canned_id is not None:
        reply = await _visible(uow, actor=actor, canned_id=canned_id, ticket_team_id=ticket.team_id)
        if not reply.is_active:
            raise NotFound(N_("no such canned reply"), field="canned_id")
    elif shortcut is not None:
        reply = await _by_shortcut(
            uow,
            actor=actor,
            shortcut=shortcut,
            language=ticket.language,
            default_language=default_language,
            ticket_team_id=ticket.team_id,
        )
    else:
        raise ValidationFailed("name the canned reply by id or shortcut", field="canned_id")
    player = await uow.session.get(Player, ticket.player_id)
    agent = await uow.session.get(Agent, actor.agent_id) if actor.agent_id is not None else None
    may_read_player = actor.can(Permission.PLAYERS_READ) and player is not None
    local = LocalFacts(
        ticket_number=ticket.number,
        player_name=player.name if may_read_player and player else None,
        player_email=player.email if may_read_player and player else None,
        player_external_id=player.external_id if may_read_player and player else None,
        agent_name=agent.name if agent is not None else actor.name,
    )
    subject = _Subject(
        reply=reply,
        ticket_id=ticket.id,
        player_id=ticket.player_id,
        language=ticket.language,
        local=local,
    )
    # The reply stays readable after this transaction ends (rollback expires what it loaded).
    uow.session.expunge(reply)
    return subject


async def _ask(call: Callable[[], Awaitable[T]], failures: list[str], what: str) -> T | None:
    try:
        return await call()
    except (BackOfficeUnavailable, PlayerNotFound) as exc:
        failures.append(f"{what}:{type(exc).__name__}")
        return None


async def _account_facts(
    backend: CasinoBackend | None, *, external_id: str | None, sources: set[Source]
) -> tuple[AccountFacts, bool]:
    """Only what the template needs, asked at once; (facts, whether anything was missing)."""
    wanted = {source for source in sources if source.from_back_office}
    if not wanted:
        return AccountFacts(), False
    if backend is None or external_id is None:
        return AccountFacts(), True
    failures: list[str] = []
    player = external_id

    async def nothing() -> None:
        return None

    balance, payments, bonuses, verification = await asyncio.gather(
        _ask(lambda: backend.balance(player), failures, "balance")
        if Source.BALANCE in wanted
        else nothing(),
        _ask(lambda: backend.payments(player, limit=PAYMENTS_LOOKED_AT), failures, "payments")
        if Source.PAYMENTS in wanted
        else nothing(),
        _ask(lambda: backend.bonuses(player), failures, "bonuses")
        if Source.BONUSES in wanted
        else nothing(),
        _ask(lambda: backend.verification(player), failures, "verification")
        if Source.VERIFICATION in wanted
        else nothing(),
    )
    if failures:
        log.info("canned_reply_account_data_missing", failures=failures)
    facts = AccountFacts(
        balance=balance, payments=payments, bonuses=bonuses, verification=verification
    )
    return facts, bool(failures)


async def preview_canned_reply(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    canned_id: int | None = None,
    shortcut: str | None = None,
    backend: CasinoBackend | None,
    default_language: str,
) -> CannedPreview:
    """A canned reply filled in for a ticket, in the ticket's language (its version in that
    language, or the default language's). Reading the player's data for it is audited."""
    actor.require(Permission.TICKETS_READ)
    subject = await _read_subject(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        canned_id=canned_id,
        shortcut=shortcut,
        default_language=default_language,
    )
    # Nothing is held while the back office is asked: it may take seconds to answer.
    await uow.rollback()
    names = check_template(subject.reply.body)
    sources = sources_of(names)
    may_read_account = actor.can(Permission.ACCOUNTS_READ)
    facts, missing = await _account_facts(
        backend if may_read_account else None,
        external_id=subject.local.player_external_id,
        sources=sources,
    )
    filled = fill(
        subject.reply.body,
        placeholder_values(local=subject.local, account=facts, language=subject.language),
    )
    reads_personal_data = bool(sources - {Source.TICKET, Source.AGENT})
    if reads_personal_data and actor.can(Permission.PLAYERS_READ):
        audit.record(
            uow,
            actor=actor,
            action="player.viewed",
            entity_type="player",
            entity_id=subject.player_id,
            details={
                "via": "canned_reply",
                "canned_reply_id": subject.reply.id,
                "ticket_id": subject.ticket_id,
                "account": any(source.from_back_office for source in sources),
            },
        )
        await uow.commit()
    return CannedPreview(
        reply=subject.reply,
        ticket_id=subject.ticket_id,
        language=subject.language,
        text=filled.text,
        placeholders=names,
        unfilled=filled.unfilled,
        account_unavailable=missing,
    )


# Sending a reply or a macro ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SendPolicies:
    limits: MessageLimits
    routing: RoutingPolicy
    mail: MailPolicy
    languages: CannedLanguages


@dataclass(frozen=True, kw_only=True)
class AppliedCannedReply:
    message: Message
    ticket: Ticket
    # False when `client_msg_id` was seen before: nothing was sent or changed again.
    created: bool
    actions: list[str]


def _macro_changes(reply: CannedReply, ticket: Ticket) -> ticket_service.TicketChanges:
    keep = ticket_service.TicketChanges()
    moving = reply.move_to_team_id is not None and reply.move_to_team_id != ticket.team_id
    tags = None
    if reply.add_tags:
        tags = [tag.name for tag in ticket.tags] + list(reply.add_tags)
    return ticket_service.TicketChanges(
        status=TicketStatus(reply.set_status) if reply.set_status else None,
        priority=Priority(reply.set_priority) if reply.set_priority else None,
        team_id=reply.move_to_team_id if moving else keep.team_id,
        # Moved to a team is handed over to it: its routing finds the agent.
        assignee_id=None if moving else keep.assignee_id,
        tags=tags,
    )


async def apply_canned_reply(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    canned_id: int,
    body: str | None,
    client_msg_id: str | None,
    backend: CasinoBackend | None,
    policies: SendPolicies,
) -> AppliedCannedReply:
    """Send a canned reply on a ticket as the agent's reply, and apply its actions when it
    is a macro, in one transaction. `body` is the text as the agent finished it (None: the
    reply filled in here). A text that still has a placeholder is refused (field "body")."""
    actor.require(Permission.TICKETS_WRITE)
    if body is None:
        preview = await preview_canned_reply(
            uow,
            actor=actor,
            ticket_id=ticket_id,
            canned_id=canned_id,
            backend=backend,
            default_language=policies.languages.default,
        )
        body = preview.text
    ensure_filled(body)
    ticket_team_id = await _ticket_team(uow, ticket_id)
    reply = await _visible(uow, actor=actor, canned_id=canned_id, ticket_team_id=ticket_team_id)
    if not reply.is_active:
        raise NotFound(N_("no such canned reply"), field="canned_id")
    posted = await agent_replies.add_agent_message(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        body=body,
        kind=MessageKind.REPLY,
        client_msg_id=client_msg_id,
        attachment_ids=[],
        limits=policies.limits,
        routing_policy=policies.routing,
        mail_policy=policies.mail,
    )
    ticket = await ticket_service.get_ticket(uow, actor=actor, ticket_id=ticket_id)
    if not posted.created:
        return AppliedCannedReply(message=posted.message, ticket=ticket, created=False, actions=[])
    actions: list[str] = []
    if reply.is_macro:
        changes = _macro_changes(reply, ticket)
        try:
            ticket, _ = await ticket_service.change_ticket(
                uow,
                actor=actor,
                ticket_id=ticket_id,
                changes=changes,
                supported_languages=policies.languages.supported,
                routing_policy=policies.routing,
            )
        except DomainError as exc:
            # Named as the macro's own field, so that the agent sees which action failed.
            exc.field = {"status": "set_status", "team_id": "move_to_team_id"}.get(
                exc.field or "", exc.field
            )
            raise
        actions = [
            name
            for name, value in (
                ("set_status", reply.set_status),
                ("set_priority", reply.set_priority),
                ("add_tags", reply.add_tags),
                ("move_to_team_id", reply.move_to_team_id),
            )
            if value
        ]
    await uow.session.execute(
        update(CannedReply)
        .where(CannedReply.id == reply.id)
        .values(usage_count=CannedReply.usage_count + 1, last_used_at=uow.clock.now())
    )
    audit.record(
        uow,
        actor=actor,
        action="canned_reply.sent",
        entity_type="ticket",
        entity_id=ticket_id,
        details={
            "canned_reply_id": reply.id,
            "shortcut": reply.shortcut,
            "message_id": posted.message.id,
            "actions": actions,
        },
    )
    await uow.commit()
    return AppliedCannedReply(message=posted.message, ticket=ticket, created=True, actions=actions)
