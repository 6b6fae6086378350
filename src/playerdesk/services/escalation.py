"""Escalation: raise priority, move to the Senior team and tell the supervisors, when an SLA
clock warns or breaches, when a ticket stays unresolved too long, or when an agent asks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select

from playerdesk.db.models import Escalation, EscalationRuleRow, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Priority
from playerdesk.domain.errors import NotFound, ValidationFailed
from playerdesk.domain.events import TicketEscalated
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.domain.routing import TeamPurpose
from playerdesk.services import audit, outbound, routing, sla
from playerdesk.services.floor_config import floor_config
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.ticket_events import changes_since, publish_ticket_updated

MAX_REASON = 500
# One step up per escalation; urgent stays urgent.
_NEXT_PRIORITY = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
    Priority.URGENT: Priority.URGENT,
}


async def _escalate(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    trigger: str,
    reason: str,
    raise_priority: bool,
    to_team_id: int | None,
    notify_supervisors: bool,
    rule_id: int | None,
    actor: Actor,
    policy: RoutingPolicy,
    mail_policy: MailPolicy,
) -> Escalation:
    now = uow.clock.now()
    before = {
        "priority": ticket.priority,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
    }
    if raise_priority:
        ticket.priority = _NEXT_PRIORITY[Priority(ticket.priority)].value
    if to_team_id is not None and to_team_id != ticket.team_id:
        # The current assignee is not in the team it moves to: route it afresh there.
        previous = ticket.assignee_id
        ticket.team_id = to_team_id
        ticket.assignee_id = None
        await routing.settle_load(uow, ticket=ticket, previous_assignee_id=previous, policy=policy)
        await routing.route_ticket(uow, ticket=ticket, policy=policy, announce_change=False)
        await routing.announce(uow, ticket=ticket, before=None)
    ticket.escalation_level += 1
    ticket.updated_at = now
    escalation = Escalation(
        ticket_id=ticket.id,
        level=ticket.escalation_level,
        trigger=trigger,
        rule_id=rule_id,
        reason=reason,
        from_team_id=before["team_id"],
        to_team_id=ticket.team_id,
        from_priority=str(before["priority"]),
        to_priority=ticket.priority,
        agent_id=actor.agent_id,
        created_at=now,
    )
    uow.session.add(escalation)
    if ticket.priority != before["priority"] or ticket.team_id != before["team_id"]:
        await sla.reapply_policy(uow, ticket=ticket)
    audit.record(
        uow,
        actor=actor,
        action="ticket.escalated",
        entity_type="ticket",
        entity_id=ticket.id,
        details={"level": ticket.escalation_level, "trigger": trigger, "rule_id": rule_id},
    )
    changes = changes_since(ticket, before)
    changes["escalation_level"] = [ticket.escalation_level - 1, ticket.escalation_level]
    publish_ticket_updated(uow, ticket=ticket, changes=changes)
    uow.publish_on_commit(
        TicketEscalated(
            occurred_at=now,
            ticket_id=ticket.id,
            ticket_number=ticket.number,
            level=ticket.escalation_level,
            trigger=trigger,
            reason=reason,
            team_id=ticket.team_id,
            priority=ticket.priority,
            notify_supervisors=notify_supervisors,
        )
    )
    if notify_supervisors:
        await outbound.notify_supervisors_of_escalation(
            uow, ticket=ticket, level=ticket.escalation_level, reason=reason, policy=mail_policy
        )
    return escalation


async def _team_for(uow: UnitOfWork, rule: EscalationRuleRow) -> int | None:
    if rule.move_to_team_id is not None:
        return rule.move_to_team_id
    if rule.move_to_senior:
        return (await floor_config(uow)).purposes.get(TeamPurpose.SENIOR)
    return None


async def escalate_ticket(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket_id: int,
    reason: str,
    policy: RoutingPolicy,
    mail_policy: MailPolicy,
) -> Escalation:
    """An agent escalates by hand: up one priority, to the Senior team, supervisors told."""
    actor.require(Permission.TICKETS_WRITE)
    text = " ".join(reason.split())
    if not text:
        raise ValidationFailed("say why the ticket is escalated", field="reason")
    if len(text) > MAX_REASON:
        raise ValidationFailed(f"at most {MAX_REASON} characters", field="reason")
    ticket = await uow.session.scalar(
        select(Ticket).where(Ticket.id == ticket_id).with_for_update()
    )
    if ticket is None:
        raise NotFound("no such ticket", field="ticket_id")
    if ticket.status in sla.DONE_STATUSES:
        raise ValidationFailed("a resolved or closed ticket is not escalated", field="ticket_id")
    senior = (await floor_config(uow)).purposes.get(TeamPurpose.SENIOR)
    escalation = await _escalate(
        uow,
        ticket=ticket,
        trigger="manual",
        reason=text,
        raise_priority=True,
        to_team_id=senior,
        notify_supervisors=True,
        rule_id=None,
        actor=actor,
        policy=policy,
        mail_policy=mail_policy,
    )
    await uow.commit()
    return escalation


async def active_rules(uow: UnitOfWork) -> list[EscalationRuleRow]:
    return list(
        (
            await uow.session.scalars(
                select(EscalationRuleRow)
                .where(EscalationRuleRow.is_active.is_(True))
                .order_by(EscalationRuleRow.position, EscalationRuleRow.id)
            )
        ).all()
    )


async def escalate_for_sla_events(
    uow: UnitOfWork,
    *,
    events: Sequence[sla.RecordedSlaEvent],
    policy: RoutingPolicy,
    mail_policy: MailPolicy,
) -> int:
    """Apply the rules that listen to SLA warnings and breaches, inside the caller's
    transaction. Each event fires each matching rule once (the event itself happens once)."""
    if not events:
        return 0
    rules = await active_rules(uow)
    fired = 0
    for recorded in events:
        trigger = f"sla_{recorded.event.transition.value}"
        ticket = recorded.ticket
        if ticket.status in sla.DONE_STATUSES:
            continue
        for rule in rules:
            if rule.trigger != trigger or (
                rule.metric is not None and rule.metric != recorded.event.metric.value
            ):
                continue
            await _escalate(
                uow,
                ticket=ticket,
                trigger=trigger,
                # The rule's own name (the admin's words); the trigger says what happened,
                # and the console translates that.
                reason=rule.name,
                raise_priority=rule.raise_priority,
                to_team_id=await _team_for(uow, rule),
                notify_supervisors=rule.notify_supervisors,
                rule_id=rule.id,
                actor=Actor.system(),
                policy=policy,
                mail_policy=mail_policy,
            )
            fired += 1
    return fired


async def schedule_unresolved_check(uow: UnitOfWork, *, ticket: Ticket) -> None:
    """When the 'unresolved for too long' rules must look at this ticket: the earliest limit
    among the rules for its topic that have not fired on it yet."""
    limits = [
        limit
        for limit in (await floor_config(uow)).unresolved_limits
        if limit.applies_to(ticket.topic)
    ]
    fired: set[int | None] = set()
    if limits and ticket.escalation_level > 0:  # nothing has fired on a ticket never escalated
        fired = set(
            (
                await uow.session.scalars(
                    select(Escalation.rule_id).where(
                        Escalation.ticket_id == ticket.id, Escalation.rule_id.is_not(None)
                    )
                )
            ).all()
        )
    ticket.escalation_check_at = min(
        (ticket.created_at + limit.after for limit in limits if limit.rule_id not in fired),
        default=None,
    )


async def escalate_unresolved(
    uow: UnitOfWork, *, policy: RoutingPolicy, mail_policy: MailPolicy, batch: int = 200
) -> int:
    """Tickets past an 'unresolved for' limit, inside the caller's transaction."""
    now = uow.clock.now()
    query = (
        select(Ticket)
        .where(Ticket.escalation_check_at <= now)
        .order_by(Ticket.escalation_check_at)
        .limit(batch)
    )
    # Several workers: each takes tickets nobody else holds (SQLite ignores the clause).
    query = query.with_for_update(skip_locked=True)
    tickets = (await uow.session.scalars(query)).all()
    if not tickets:
        return 0
    rules = await active_rules(uow)
    fired = 0
    for ticket in tickets:
        if ticket.status in sla.DONE_STATUSES:
            ticket.escalation_check_at = None
            continue
        done = set(
            (
                await uow.session.scalars(
                    select(Escalation.rule_id).where(Escalation.ticket_id == ticket.id)
                )
            ).all()
        )
        for rule in rules:
            if rule.trigger != "unresolved" or rule.after_minutes is None:
                continue
            if rule.topics and ticket.topic not in rule.topics:
                continue
            limit = ticket.created_at + timedelta(minutes=rule.after_minutes)
            if rule.id in done or limit > now:
                continue
            await _escalate(
                uow,
                ticket=ticket,
                trigger="unresolved",
                reason=rule.name,
                raise_priority=rule.raise_priority,
                to_team_id=await _team_for(uow, rule),
                notify_supervisors=rule.notify_supervisors,
                rule_id=rule.id,
                actor=Actor.system(),
                policy=policy,
                mail_policy=mail_policy,
            )
            fired += 1
        await uow.session.flush()
        await schedule_unresolved_check(uow, ticket=ticket)
    return fired


async def escalation_history(uow: UnitOfWork, *, actor: Actor, ticket_id: int) -> list[Escalation]:
    actor.require(Permission.TICKETS_READ)
    if await uow.session.get(Ticket, ticket_id) is None:
        raise NotFound("no such ticket", field="ticket_id")
    return list(
        (
            await uow.session.scalars(
                select(Escalation).where(Escalation.ticket_id == ticket_id).order_by(Escalation.id)
            )
        ).all()
    )
