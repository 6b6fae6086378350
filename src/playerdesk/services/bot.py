"""The bot's turns (issue 7): first in line on the channels a supervisor gave it.

A player's message in a conversation the bot holds leaves a `BotTurn` in the message's
transaction (services.messages). The bot job then, for each conversation with turns due:

1. `claim_turns` takes them for a while (a lease, so a crashed worker's turns come back);
2. `plan_turn` decides outside any write transaction: the quick reply pressed, or the
   pipeline's analysis (language, protection, intent, policy), then the answer from the
   back office (for an identified player) or the knowledge base, in the player's language;
3. `finish_turn` writes it in one transaction: the bot's message with its buttons, the
   status (waiting on the player after an answer, resolved when the player says it helped),
   or the hand-off: a note for the agent (what the bot understood, said and looked up, the
   risk evidence), the topic and priority, routing. A conversation a person took in the
   meantime is left alone.

The bot never invents: a reply is a reviewed template filled from the back office, or an
article's own summary with its link; anything else goes to a person.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy import select, update

from playerdesk.bot.intents import Intent
from playerdesk.bot.pipeline import Analysis, Bot
from playerdesk.bot.policy import (
    MAX_TRIES,
    ROUTING_TOPICS,
    Action,
    HandoffReason,
    decide,
)
from playerdesk.bot.rephrase import Rephraser
from playerdesk.bot.replies import ReplyBook, reply_book
from playerdesk.crm.base import (
    BackOfficeUnavailable,
    BonusStatus,
    CasinoBackend,
    DocumentStatus,
    PaymentKind,
    PlayerNotFound,
    VerificationStatus,
)
from playerdesk.db.models import BotTurn, Message, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import (
    AuthorKind,
    BotOutcome,
    BotState,
    MessageKind,
    Priority,
    TicketStatus,
)
from playerdesk.domain.events import QuickReply
from playerdesk.domain.permissions import Actor
from playerdesk.domain.placeholders import fill
from playerdesk.i18n import translations
from playerdesk.services import audit, kb, outbound, routing
from playerdesk.services.bot_labels import intent_label, reason_label
from playerdesk.services.messages import MessageLimits, add_message
from playerdesk.services.placeholder_values import AccountFacts, LocalFacts, placeholder_values
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.ticket_events import publish_ticket_updated
from playerdesk.services.tickets import TicketChanges, change_ticket

log = structlog.get_logger(__name__)

# A claimed turn comes back to the queue after this (its worker died), at most this often.
TURN_LEASE = timedelta(seconds=60)
MAX_TURN_ATTEMPTS = 3

QUICK_YES = "helpful_yes"
QUICK_NO = "helpful_no"
QUICK_AGENT = "agent"

# Where the knowledge base answers an intent: the category searched first.
KB_CATEGORIES: dict[Intent, str] = {
    Intent.ACCOUNT_ACCESS: "account",
    Intent.REGISTRATION: "account",
    Intent.BALANCE: "withdrawals",
    Intent.DEPOSIT_MISSING: "deposits",
    Intent.DEPOSIT_HELP: "deposits",
    Intent.WITHDRAWAL_STATUS: "withdrawals",
    Intent.WITHDRAWAL_HELP: "withdrawals",
    Intent.VERIFICATION: "verification",
    Intent.BONUS_TERMS: "bonuses",
    Intent.BONUS_MISSING: "bonuses",
    Intent.GAME_ISSUE: "technical",
    Intent.VIP: "vip",
}


@dataclass(frozen=True, kw_only=True)
class TurnWork:
    """What the bot needs of one conversation's waiting messages."""

    turn_ids: tuple[int, ...]
    ticket_id: int
    ticket_number: int
    channel: str
    text: str  # the player's messages since the bot's last turn, in order
    ticket_language: str
    player_external_id: str | None  # an identified casino player
    player_name: str | None
    player_email: str | None
    tries: int
    offered: tuple[QuickReply, ...]  # the buttons under the bot's last message
    attempts: int


@dataclass(frozen=True, kw_only=True)
class BotPlan:
    """What the bot will do with a turn, decided before anything is written."""

    language: str
    reply: str | None
    quick_replies: tuple[QuickReply, ...] = ()
    handoff: bool = False
    reasons: tuple[HandoffReason, ...] = ()
    action: str | None = None
    intent: Intent | None = None
    confidence: float | None = None
    rg_risk: bool = False
    topic: str | None = None
    priority: Priority | None = None
    status: TicketStatus | None = None  # after the reply
    tries: int = 0
    looked_up: tuple[str, ...] = ()  # back-office lookups made, for the agent's note
    evidence: tuple[str, ...] = ()  # the words that raised the risk flag
    article_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class BotPolicy:
    """The settings the bot's writes follow."""

    limits: MessageLimits
    routing: RoutingPolicy
    languages: list[str]  # the desk's languages
    note_language: str  # the hand-off note's language: the desk's default


@dataclass(frozen=True, kw_only=True)
class BotContext:
    """What `plan_turn` may consult besides the database."""

    bot: Bot
    casino: CasinoBackend | None
    public_url: str | None = None
    replies: ReplyBook = field(default_factory=reply_book)
    # Optional: rewords a grounded answer, keeping its facts (bot/rephrase.py).
    rephraser: Rephraser | None = None


def question(
    *, text: str, language: str, player_external_id: str | None = None, tries: int = 0
) -> TurnWork:
    """A message asked outside a conversation (`playerdesk bot ask`)."""
    return TurnWork(
        turn_ids=(),
        ticket_id=0,
        ticket_number=0,
        channel="api",
        text=text,
        ticket_language=language,
        player_external_id=player_external_id,
        player_name=None,
        player_email=None,
        tries=tries,
        offered=(),
        attempts=1,
    )


# Claiming -----------------------------------------------------------------------------------


async def claim_turns(
    uow: UnitOfWork, *, limit: int = 20, lease: timedelta = TURN_LEASE
) -> list[TurnWork]:
    """Take the conversations whose turns are due, all their waiting turns together (two
    quick messages get one answer), for `lease`; commits."""
    now = uow.clock.now()
    # A conversation whose earlier turn a worker is answering waits for that answer: its
    # new messages are answered next, after it, not beside it by another worker.
    in_flight = select(BotTurn.ticket_id).where(BotTurn.finished_at.is_(None), BotTurn.due_at > now)
    due_tickets = list(
        dict.fromkeys(
            await uow.session.scalars(
                select(BotTurn.ticket_id)
                .where(
                    BotTurn.finished_at.is_(None),
                    BotTurn.due_at <= now,
                    BotTurn.ticket_id.not_in(in_flight),
                )
                .order_by(BotTurn.id)
                .limit(limit)
            )
        )
    )
    if not due_tickets:
        return []
    rows = list(
        await uow.session.execute(
            select(BotTurn, Message.body)
            .join(Message, Message.id == BotTurn.message_id)
            .where(
                BotTurn.ticket_id.in_(due_tickets),
                BotTurn.finished_at.is_(None),
                BotTurn.due_at <= now,
            )
            .order_by(BotTurn.id)
            .with_for_update(of=BotTurn, skip_locked=True)
        )
    )
    if not rows:
        return []
    # Counted before the UPDATE below, which also refreshes the loaded turns.
    attempts = {turn.id: turn.attempts + 1 for turn, _ in rows}
    await uow.session.execute(
        update(BotTurn)
        .where(BotTurn.id.in_([turn.id for turn, _ in rows]))
        .values(due_at=now + lease, attempts=BotTurn.attempts + 1)
    )
    by_ticket: dict[int, list[tuple[BotTurn, str]]] = {}
    for turn, body in rows:
        by_ticket.setdefault(turn.ticket_id, []).append((turn, body))
    tickets = {
        ticket.id: (ticket, player)
        for ticket, player in await uow.session.execute(
            select(Ticket, Player)
            .join(Player, Player.id == Ticket.player_id)
            .where(Ticket.id.in_(list(by_ticket)))
        )
    }
    work = []
    for ticket_id, turns in by_ticket.items():
        ticket, player = tickets[ticket_id]
        work.append(
            TurnWork(
                turn_ids=tuple(turn.id for turn, _ in turns),
                ticket_id=ticket_id,
                ticket_number=ticket.number,
                channel=ticket.channel,
                text="\n".join(body for _, body in turns if body.strip()),
                ticket_language=ticket.language,
                player_external_id=player.external_id,
                player_name=player.name,
                player_email=player.email,
                tries=ticket.bot_tries,
                offered=await _offered(uow, ticket_id=ticket_id, before=turns[0][0].message_id),
                attempts=max(attempts[turn.id] for turn, _ in turns),
            )
        )
    await uow.commit()
    return work


async def _offered(uow: UnitOfWork, *, ticket_id: int, before: int) -> tuple[QuickReply, ...]:
    """The buttons of the bot's last message before the player's turn."""
    last = await uow.session.scalar(
        select(Message.quick_replies)
        .where(
            Message.ticket_id == ticket_id,
            Message.author_kind == AuthorKind.BOT.value,
            Message.id < before,
        )
        .order_by(Message.id.desc())
        .limit(1)
    )
    return tuple(QuickReply(**item) for item in last or [])


# Planning -----------------------------------------------------------------------------------


def _pressed(work: TurnWork) -> str | None:
    """The quick reply the player pressed: the widget sends its label as the message."""
    said = work.text.strip().casefold()
    return next((item.id for item in work.offered if item.label.casefold() == said), None)


def _buttons(book: ReplyBook, language: str, *ids: str) -> tuple[QuickReply, ...]:
    keys = {QUICK_YES: "quick_yes", QUICK_NO: "quick_no", QUICK_AGENT: "quick_agent"}
    return tuple(QuickReply(id=item, label=book.text(language, keys[item])) for item in ids)


def _handoff(
    context: BotContext,
    *,
    language: str,
    reasons: Sequence[HandoffReason],
    base: BotPlan | None = None,
) -> BotPlan:
    plan = base or BotPlan(language=language, reply=None)
    protection = plan.action == Action.PROTECTION_TOOLS.value
    return replace(
        plan,
        language=language,
        reply=context.replies.text(language, "protection" if protection else "handoff"),
        quick_replies=(),
        handoff=True,
        reasons=tuple(dict.fromkeys([*plan.reasons, *reasons])),
        status=None,
    )


async def plan_turn(uow: UnitOfWork, *, work: TurnWork, context: BotContext) -> BotPlan:
    """Decide the bot's answer or hand-off. Reads only (the knowledge base through `uow`,
    the back office through `context.casino`): nothing is written here."""
    book = context.replies
    pressed = _pressed(work)
    if pressed is not None:
        return _after_button(context, work=work, pressed=pressed)
    analysis = context.bot.analyse(
        work.text,
        profile_language=work.ticket_language,
        tries=work.tries,
        player_identified=work.player_external_id is not None,
    )
    language = book.language_for(analysis.language.language, work.ticket_language)
    intent = analysis.intent.intent
    plan = BotPlan(
        language=language,
        reply=None,
        action=analysis.decision.action.value if analysis.decision.action else None,
        intent=intent,
        confidence=analysis.intent.confidence,
        rg_risk=analysis.risk.flagged,
        topic=ROUTING_TOPICS.get(analysis.decision.topic),
        priority=analysis.decision.priority,
        tries=work.tries,
        evidence=tuple(item.text for item in analysis.risk.evidence),
    )
    if analysis.decision.handoff:
        return _handoff(context, language=language, reasons=analysis.decision.reasons, base=plan)
    if await _protected(context, work=work, analysis=analysis, now=uow.clock.now()):
        # A self-excluded or cooling-off player asking about bonuses or money in: a person.
        decision = decide(
            language=analysis.language.language,
            intent=analysis.intent,
            risk=analysis.risk,
            tries=work.tries,
            player_identified=True,
            player_protected=True,
        )
        plan = replace(plan, topic="responsible_gambling", priority=decision.priority)
        return _handoff(context, language=language, reasons=decision.reasons, base=plan)
    action = analysis.decision.action
    if action is Action.SMALL_TALK:
        thanks = intent is Intent.THANKS_BYE
        return replace(
            plan,
            reply=book.text(language, "thanks_bye" if thanks else "greeting"),
            # Thanks after an answer closes the conversation; a greeting opens it.
            status=TicketStatus.RESOLVED if thanks and work.offered else None,
            tries=0 if thanks else work.tries,
        )
    if action is Action.OUT_OF_SCOPE:
        return replace(
            plan,
            reply=book.text(language, "out_of_scope"),
            quick_replies=_buttons(book, language, QUICK_AGENT),
            tries=work.tries + 1,
        )
    answer: BotPlan | None = None
    if action is not None and action is not Action.KNOWLEDGE_BASE and context.casino:
        try:
            answer = await _account_answer(context, work=work, plan=plan, action=action)
        except (BackOfficeUnavailable, PlayerNotFound):
            return _handoff(
                context,
                language=language,
                reasons=[HandoffReason.BACK_OFFICE_UNAVAILABLE],
                base=replace(plan, looked_up=(action.value,)),
            )
    if answer is None:
        answer = await _article_answer(uow, context=context, work=work, plan=plan)
    if answer is None:
        return _handoff(context, language=language, reasons=[HandoffReason.NO_ANSWER], base=plan)
    if context.rephraser is not None and answer.reply:
        reworded = await context.rephraser.rephrase(text=answer.reply, language=answer.language)
        answer = replace(answer, reply=reworded)
    return _with_helpful_question(context, answer, work=work)


def _after_button(context: BotContext, *, work: TurnWork, pressed: str) -> BotPlan:
    book = context.replies
    language = book.language_for(work.ticket_language)
    plan = BotPlan(language=language, reply=None, action=f"quick_reply:{pressed}", tries=work.tries)
    if pressed == QUICK_AGENT:
        return _handoff(
            context, language=language, reasons=[HandoffReason.ASKED_FOR_AGENT], base=plan
        )
    if pressed == QUICK_YES:
        return replace(
            plan, reply=book.text(language, "helpful_yes"), status=TicketStatus.RESOLVED, tries=0
        )
    # "No": the answer it refers to is already counted among the tries.
    if work.tries >= MAX_TRIES:
        return _handoff(
            context, language=language, reasons=[HandoffReason.TRIES_EXHAUSTED], base=plan
        )
    return replace(
        plan,
        reply=book.text(language, "helpful_no"),
        quick_replies=_buttons(book, language, QUICK_AGENT),
    )


def _with_helpful_question(context: BotContext, answer: BotPlan, *, work: TurnWork) -> BotPlan:
    """A real answer asks whether it helped; the conversation then waits on the player."""
    book = context.replies
    language = answer.language
    return replace(
        answer,
        reply=f"{answer.reply}\n\n{book.text(language, 'ask_helpful')}",
        quick_replies=_buttons(book, language, QUICK_YES, QUICK_NO, QUICK_AGENT),
        status=TicketStatus.PENDING,
        tries=work.tries + 1,
    )


async def _protected(
    context: BotContext, *, work: TurnWork, analysis: Analysis, now: datetime
) -> bool:
    """Whether an identified player asking about bonuses or deposits is under protection
    (self-excluded, cooling off). Not knowing counts as protected: better a person."""
    money_in = {
        Intent.BONUS_TERMS,
        Intent.BONUS_MISSING,
        Intent.DEPOSIT_HELP,
        Intent.DEPOSIT_MISSING,
    }
    if analysis.intent.intent not in money_in or work.player_external_id is None:
        return False
    if context.casino is None:
        return False
    try:
        status = await context.casino.responsible_gambling(work.player_external_id)
    except (BackOfficeUnavailable, PlayerNotFound):
        return True
    cooling = status.cooling_off_until is not None and status.cooling_off_until > now
    return status.self_excluded or cooling or bool(status.national_register_hits)


def _local_facts(work: TurnWork) -> LocalFacts:
    return LocalFacts(
        ticket_number=work.ticket_number,
        player_name=work.player_name,
        player_email=work.player_email,
        player_external_id=work.player_external_id,
        agent_name=None,
    )


def _filled(book: ReplyBook, language: str, key: str, values: dict[str, str | None]) -> str | None:
    """The template with its values, or None when one is missing: never a `{{...}}`."""
    filled = fill(book.text(language, key), values)
    return None if filled.unfilled else filled.text


async def _account_answer(
    context: BotContext, *, work: TurnWork, plan: BotPlan, action: Action
) -> BotPlan | None:
    """The answer from the player's account; None when the account has nothing to say on
    it (then the knowledge base answers). Raises when the back office cannot be asked."""
    casino = context.casino
    external_id = work.player_external_id
    assert casino is not None
    assert external_id is not None
    book = context.replies
    language = plan.language
    looked_up = replace(plan, looked_up=(action.value,))
    if action is Action.PASSWORD_RESET:
        await casino.send_password_reset(external_id)
        return replace(looked_up, reply=book.text(language, "password_reset"))
    account = AccountFacts()
    key: str | None
    if action is Action.BALANCE:
        account = AccountFacts(balance=await casino.balance(external_id))
        key = "balance"
    elif action in (Action.LAST_DEPOSIT, Action.LAST_WITHDRAWAL):
        kind = PaymentKind.DEPOSIT if action is Action.LAST_DEPOSIT else PaymentKind.WITHDRAWAL
        payments = await casino.payments(external_id)
        account = AccountFacts(payments=payments)
        latest = next((item for item in payments if item.kind is kind), None)
        # The status alone picks the wording: a payment's internal reason (a compliance
        # review among them) is never passed on.
        key = f"{kind.value}_{latest.status.value}" if latest else f"{kind.value}_none"
    elif action is Action.BONUS_PROGRESS:
        bonuses = await casino.bonuses(external_id)
        if not any(bonus.status is BonusStatus.ACTIVE for bonus in bonuses):
            return None  # the article on missing bonuses says what to check
        account = AccountFacts(bonuses=bonuses)
        key = "bonus_active"
    elif action is Action.KYC_MISSING:
        verification = await casino.verification(external_id)
        account = AccountFacts(verification=verification)
        wanted = any(
            document.status in (DocumentStatus.MISSING, DocumentStatus.REJECTED)
            for document in verification.documents
        )
        if wanted:
            key = "kyc_missing"
        elif verification.status is VerificationStatus.VERIFIED:
            key = "kyc_verified"
        elif verification.status is VerificationStatus.PENDING:
            key = "kyc_pending"
        else:
            key = None
    else:
        key = None
    if key is None:
        return None
    values = placeholder_values(local=_local_facts(work), account=account, language=language)
    reply = _filled(book, language, key, values)
    return replace(looked_up, reply=reply) if reply else None


def _absolute(url: str, public_url: str | None) -> str:
    return f"{public_url.rstrip('/')}{url}" if public_url else url


async def _article_answer(
    uow: UnitOfWork, *, context: BotContext, work: TurnWork, plan: BotPlan
) -> BotPlan | None:
    """The best published article in the player's language: searched in the intent's
    category first, then everywhere. None when nothing matches."""
    category = KB_CATEGORIES.get(plan.intent) if plan.intent else None
    hits = []
    if category is not None:
        hits = await kb.search_articles(
            uow, query=work.text, language=plan.language, limit=1, category_key=category
        )
    if not hits:
        hits = await kb.search_articles(uow, query=work.text, language=plan.language, limit=1)
    if not hits:
        return None
    hit = hits[0]
    url = _absolute(
        kb.article_url(language=hit.language, category_key=hit.category_key, slug=hit.slug),
        context.public_url,
    )
    book = context.replies
    reply = (
        f"{book.text(plan.language, 'kb_intro')}\n\n{hit.title}\n{hit.summary}\n\n"
        f"{book.text(plan.language, 'kb_read_more')} {url}"
    )
    return replace(plan, action=Action.KNOWLEDGE_BASE.value, reply=reply, article_url=url)


# Writing ------------------------------------------------------------------------------------


def _summary(plan: BotPlan, *, work: TurnWork, language: str) -> str:
    """The note the agent reads first: what the bot understood, did and why it handed over."""
    _ = translations(language).gettext
    reasons, intents = reason_label(language), intent_label(language)
    lines = [_("The bot handed this conversation over.")]
    if plan.intent is not None:
        lines.append(
            _("Understood: {intent} ({confidence}), language {language}.").format(
                intent=intents(plan.intent.value),
                confidence=f"{round((plan.confidence or 0) * 100)} %",
                language=plan.language,
            )
        )
    lines.append(
        _("Why: {reasons}.").format(reasons="; ".join(reasons(r.value) for r in plan.reasons))
    )
    if plan.rg_risk:
        evidence = "; ".join(f"“{text}”" for text in plan.evidence) or "-"
        lines.append(
            _("Responsible-gambling risk. The player wrote: {evidence}").format(evidence=evidence)
        )
    if plan.looked_up:
        lines.append(_("Looked up: {lookups}.").format(lookups=", ".join(plan.looked_up)))
    if work.tries:
        lines.append(_("Answers the bot gave before: {count}.").format(count=work.tries))
    return "\n".join(lines)


async def _finish(
    uow: UnitOfWork, *, work: TurnWork, outcome: BotOutcome, plan: BotPlan | None
) -> None:
    values: dict[str, object] = {"finished_at": uow.clock.now(), "outcome": outcome.value}
    if plan is not None:
        values |= {
            "language": plan.language,
            "intent": plan.intent.value if plan.intent else None,
            "confidence": plan.confidence,
            "rg_risk": plan.rg_risk,
            "action": plan.action,
            "reasons": ",".join(reason.value for reason in plan.reasons) or None,
        }
    await uow.session.execute(update(BotTurn).where(BotTurn.id.in_(work.turn_ids)).values(**values))


async def finish_turn(
    uow: UnitOfWork,
    *,
    work: TurnWork,
    plan: BotPlan,
    policy: BotPolicy,
) -> BotOutcome:
    """Write the plan in one transaction and commit; a conversation a person has taken
    since (an agent assigned or replying) is left to them."""
    ticket = await uow.session.scalar(
        select(Ticket).where(Ticket.id == work.ticket_id).with_for_update()
    )
    if (
        ticket is None
        or ticket.bot_state != BotState.ACTIVE.value
        or ticket.assignee_id is not None
        or ticket.status == TicketStatus.CLOSED.value
    ):
        if ticket is not None and ticket.bot_state == BotState.ACTIVE.value:
            ticket.bot_state = BotState.HANDED_OFF.value
        await _finish(uow, work=work, outcome=BotOutcome.SKIPPED, plan=None)
        await uow.commit()
        return BotOutcome.SKIPPED
    if plan.reply:
        posted = await add_message(
            uow,
            ticket=ticket,
            author_kind=AuthorKind.BOT,
            author=None,
            kind=MessageKind.REPLY,
            body=plan.reply,
            client_msg_id=f"bot-turn-{work.turn_ids[0]}",
            attachment_ids=[],
            limits=policy.limits,
            routing_policy=policy.routing,
            quick_replies=plan.quick_replies,
        )
        if posted.created:  # on a messenger the answer goes to the player's chat
            await outbound.send_messenger_reply(uow, ticket=ticket, message=posted.message)
    system = Actor.system()
    if plan.handoff:
        await _hand_over(
            uow,
            ticket=ticket,
            work=work,
            plan=plan,
            policy=policy,
        )
        outcome = BotOutcome.HANDED_OFF
    else:
        ticket.bot_tries = plan.tries
        if plan.status is not None and plan.status.value != ticket.status:
            await change_ticket(
                uow,
                actor=system,
                ticket_id=ticket.id,
                changes=TicketChanges(status=plan.status),
                supported_languages=policy.languages,
                routing_policy=policy.routing,
            )
        outcome = BotOutcome.ANSWERED
    await _finish(uow, work=work, outcome=outcome, plan=plan)
    await uow.commit()
    return outcome


async def _hand_over(
    uow: UnitOfWork,
    *,
    ticket: Ticket,
    work: TurnWork,
    plan: BotPlan,
    policy: BotPolicy,
) -> None:
    await add_message(
        uow,
        ticket=ticket,
        author_kind=AuthorKind.SYSTEM,
        author=None,
        kind=MessageKind.NOTE,
        body=_summary(plan, work=work, language=policy.note_language),
        client_msg_id=f"bot-handoff-{work.turn_ids[0]}",
        attachment_ids=[],
        limits=policy.limits,
        routing_policy=policy.routing,
    )
    ticket.bot_state = BotState.HANDED_OFF.value
    ticket.bot_tries = 0
    publish_ticket_updated(
        uow,
        ticket=ticket,
        changes={"bot_state": [BotState.ACTIVE.value, BotState.HANDED_OFF.value]},
    )
    priority = plan.priority or Priority.NORMAL
    raise_priority = priority.rank > Priority(ticket.priority).rank
    status = TicketStatus.OPEN if ticket.status != TicketStatus.NEW.value else None
    if status is not None and status.value == ticket.status:
        status = None
    await change_ticket(
        uow,
        actor=Actor.system(),
        ticket_id=ticket.id,
        changes=TicketChanges(
            topic=plan.topic or "general",
            priority=priority if raise_priority else None,
            status=status,
        ),
        supported_languages=policy.languages,
        routing_policy=policy.routing,
    )
    if ticket.assignee_id is None and ticket.queued_at is None:
        await routing.route_ticket(uow, ticket=ticket, policy=policy.routing)
    audit.record(
        uow,
        actor=Actor.system(),
        action="bot.handed_off",
        entity_type="ticket",
        entity_id=ticket.id,
        details={
            "intent": plan.intent.value if plan.intent else None,
            "reasons": [reason.value for reason in plan.reasons],
            "topic": plan.topic,
        },
    )


async def give_up_turn(
    uow: UnitOfWork,
    *,
    work: TurnWork,
    policy: BotPolicy,
) -> BotOutcome:
    """A turn that failed MAX_TURN_ATTEMPTS times: a person answers instead."""
    language = reply_book().language_for(work.ticket_language)
    plan = BotPlan(
        language=language,
        reply=reply_book().text(language, "handoff"),
        handoff=True,
        reasons=(HandoffReason.NO_ANSWER,),
        topic="general",
    )
    return await finish_turn(
        uow,
        work=work,
        plan=plan,
        policy=policy,
    )
