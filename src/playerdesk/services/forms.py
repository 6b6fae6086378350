"""The help centre's contact and feedback forms: one submission becomes one ticket.

A form is answered by email, like a mail to support: the player is found or created by the
address they typed, the ticket is routed by the topic they chose, and they get an
acknowledgement with the ticket number. Field errors are written in the page's language,
since they go straight back to the player next to the field they typed into.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from babel.numbers import format_decimal
from sqlalchemy import func, select

from playerdesk.db.models import FormSubmission, Player, Ticket
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel, Priority
from playerdesk.domain.errors import (
    PayloadTooLarge,
    TooManyAttempts,
    UnsupportedMediaType,
    ValidationFailed,
)
from playerdesk.domain.files import sniff_content_type
from playerdesk.domain.permissions import Actor
from playerdesk.domain.players import normalise_email
from playerdesk.domain.routing import RESPONSIBLE_GAMBLING_TOPIC
from playerdesk.i18n import translations
from playerdesk.services import audit, outbound
from playerdesk.services.attachments import AttachmentPolicy, store_attachment
from playerdesk.services.messages import MessageLimits, add_player_message
from playerdesk.services.outbound import MailPolicy
from playerdesk.services.players import (
    PlayerFields,
    PlayerPolicy,
    attach_email,
    match_or_create_player,
)
from playerdesk.services.routing import RoutingPolicy
from playerdesk.services.tickets import open_ticket_in_transaction
from playerdesk.storage.attachments import AttachmentStore

log = structlog.get_logger(__name__)

MAX_FORM_ATTACHMENTS = 5
MAX_NAME_CHARS = 200
RATE_LIMIT_WINDOW = timedelta(hours=1)
SUBJECT_WORDS = 8
SUBJECT_CHARS = 80
RATINGS = range(1, 6)
# Field names, as the form's inputs are named: errors are keyed by them.
FIELD_NAME = "name"
FIELD_EMAIL = "email"
FIELD_TOPIC = "topic"
FIELD_RATING = "rating"
FIELD_MESSAGE = "message"
FIELD_ATTACHMENTS = "attachments"


class HelpForm(StrEnum):
    CONTACT = "contact"
    FEEDBACK = "feedback"


class ContactTopic(StrEnum):
    """What a player can say their message is about: their words, not our team names."""

    ACCOUNT = "account"
    DEPOSITS = "deposits"
    WITHDRAWALS = "withdrawals"
    BONUSES = "bonuses"
    VERIFICATION = "verification"
    TECHNICAL = "technical"
    RESPONSIBLE_GAMBLING = "responsible_gambling"
    COMPLAINT = "complaint"
    OTHER = "other"


# Onto the topics the routing rules know (domain.routing.STANDARD_TOPICS).
ROUTING_TOPICS: dict[ContactTopic, str] = {
    ContactTopic.ACCOUNT: "general",
    ContactTopic.DEPOSITS: "payments",
    ContactTopic.WITHDRAWALS: "payments",
    ContactTopic.BONUSES: "bonuses",
    ContactTopic.VERIFICATION: "verification",
    ContactTopic.TECHNICAL: "technical",
    ContactTopic.RESPONSIBLE_GAMBLING: RESPONSIBLE_GAMBLING_TOPIC,
    ContactTopic.COMPLAINT: "complaints",
    ContactTopic.OTHER: "general",
}
FEEDBACK_ROUTING_TOPIC = "general"
FEEDBACK_TAG = "feedback"

# What a file type is called in the "allowed: ..." hint; others by their MIME subtype.
_TYPE_NAMES = {"text/plain": "TXT", "application/pdf": "PDF", "image/jpeg": "JPEG"}


def topic_labels(language: str) -> dict[ContactTopic, str]:
    """The contact topics as the player reads them, in the form's order."""
    pgettext = translations(language).pgettext
    return {
        ContactTopic.ACCOUNT: pgettext("help topic", "Account and login"),
        ContactTopic.DEPOSITS: pgettext("help topic", "Deposits"),
        ContactTopic.WITHDRAWALS: pgettext("help topic", "Withdrawals"),
        ContactTopic.BONUSES: pgettext("help topic", "Bonuses and promotions"),
        ContactTopic.VERIFICATION: pgettext("help topic", "Verification (KYC)"),
        ContactTopic.TECHNICAL: pgettext("help topic", "Technical problem"),
        ContactTopic.RESPONSIBLE_GAMBLING: pgettext("help topic", "Responsible gambling"),
        ContactTopic.COMPLAINT: pgettext("help topic", "Complaint"),
        ContactTopic.OTHER: pgettext("help topic", "Something else"),
    }


def format_size(size: int, *, language: str) -> str:
    """A file size as people write it: "10 MB", "2,5 MB", "800 KB"."""
    megabytes = size / (1024 * 1024)
    if megabytes >= 1:
        return f"{format_decimal(round(megabytes, 1), format='#,##0.#', locale=language)} MB"
    return f"{format_decimal(max(1, round(size / 1024)), locale=language)} KB"


def file_type_names(allowed_types: list[str]) -> str:
    """The allowed MIME types as a short list of names: "PNG, JPEG, PDF, TXT"."""
    names = (_TYPE_NAMES.get(kind, kind.partition("/")[2].upper()) for kind in allowed_types)
    return ", ".join(dict.fromkeys(names))


def rate_limit_key(ip: str) -> str:
    """The address a limit counts: an IPv6 client owns a whole /64, so it is counted as one;
    an IPv4 address seen through IPv6 is counted as the IPv4 address."""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip.strip()[:64] or "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


@dataclass(frozen=True, kw_only=True)
class FormLimits:
    """Submissions allowed per client address and per email address in RATE_LIMIT_WINDOW."""

    per_ip: int
    per_email: int


@dataclass(frozen=True, kw_only=True)
class Upload:
    filename: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class FormInput:
    """The fields as the player filled them in (unchecked text); `language` is the page's."""

    language: str
    email: str
    message: str
    name: str = ""
    topic: str = ""  # the contact form
    rating: str = ""  # the feedback form
    attachments: list[Upload] = field(default_factory=list)


class FormInvalid(ValidationFailed):
    """Every field that needs correcting at once, each with a message in the page's
    language, so the player fixes the form in one go rather than one error per round trip."""

    def __init__(self, errors: dict[str, str]) -> None:
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field)
        self.errors = errors


@dataclass(frozen=True, kw_only=True)
class _CheckedForm:
    email: str
    name: str | None
    subject: str
    body: str
    routing_topic: str
    priority: Priority
    tags: list[str]
    attachments: list[Upload]
    audit_details: dict[str, str | int]


def _first_words(text: str) -> str:
    words = text.split()
    head = " ".join(words[:SUBJECT_WORDS])
    if len(head) > SUBJECT_CHARS:
        return head[: SUBJECT_CHARS - 1].rstrip() + "…"
    return head + "…" if len(words) > SUBJECT_WORDS else head


def _attachment_problems(
    uploads: list[Upload], *, policy: AttachmentPolicy, language: str
) -> str | None:
    """What is wrong with the files, in the player's words (None when they are fine). The
    same checks store_attachment makes, made first so that they are reported together with
    the other fields' errors."""
    _ = translations(language).gettext
    if len(uploads) > MAX_FORM_ATTACHMENTS:
        return _("You can attach up to {limit} files at once.").format(limit=MAX_FORM_ATTACHMENTS)
    problems: list[str] = []
    for upload in uploads:
        if not upload.data:
            problems.append(_("“{filename}” is empty.").format(filename=upload.filename))
        elif len(upload.data) > policy.max_bytes:
            problems.append(
                _("“{filename}” is too large: each file may be at most {size}.").format(
                    filename=upload.filename, size=format_size(policy.max_bytes, language=language)
                )
            )
        elif sniff_content_type(upload.data) not in policy.allowed_types:
            problems.append(
                _("“{filename}” cannot be attached: please use {types}.").format(
                    filename=upload.filename, types=file_type_names(policy.allowed_types)
                )
            )
    return " ".join(problems) or None


def _check(
    *,
    form: HelpForm,
    submission: FormInput,
    language: str,
    message_limits: MessageLimits,
    attachment_policy: AttachmentPolicy,
) -> _CheckedForm:
    """Check every field; raise FormInvalid with all the errors, or return what to store."""
    catalog = translations(language)
    _ = catalog.gettext
    errors: dict[str, str] = {}

    name = " ".join(submission.name.split())
    if len(name) > MAX_NAME_CHARS:
        errors[FIELD_NAME] = _("Please shorten your name to {limit} characters or fewer.").format(
            limit=MAX_NAME_CHARS
        )

    email = ""
    if not submission.email.strip():
        errors[FIELD_EMAIL] = _("Please enter your email address so that we can answer you.")
    else:
        try:
            email = normalise_email(submission.email, field=FIELD_EMAIL)
        except ValidationFailed:
            errors[FIELD_EMAIL] = _("Please enter a valid email address, like name@example.com.")

    contact_topic: ContactTopic | None = None
    rating: int | None = None
    if form is HelpForm.CONTACT:
        try:
            contact_topic = ContactTopic(submission.topic.strip())
        except ValueError:
            errors[FIELD_TOPIC] = _("Please choose what your message is about.")
    else:
        text = submission.rating.strip()
        rating = int(text) if text in {str(value) for value in RATINGS} else None
        if rating is None:
            errors[FIELD_RATING] = _("Please choose a rating from 1 to 5.")

    message = submission.message.strip()
    # The stored message starts with the rating, so that it stays in sight in the thread.
    rating_line = _("Rating: {rating} of 5").format(rating=rating) if rating is not None else ""
    body = f"{rating_line}\n\n{message}" if rating_line else message
    if not message:
        errors[FIELD_MESSAGE] = _("Please write your message.")
    elif len(body) > message_limits.max_chars:
        errors[FIELD_MESSAGE] = _(
            "Your message is too long ({length} characters; the limit is {limit})."
        ).format(length=len(message), limit=message_limits.max_chars - (len(body) - len(message)))

    problems = _attachment_problems(
        submission.attachments, policy=attachment_policy, language=language
    )
    if problems:
        errors[FIELD_ATTACHMENTS] = problems

    if errors:
        raise FormInvalid(errors)
    details: dict[str, str | int] = {
        "form": form.value,
        "attachments": len(submission.attachments),
    }
    if contact_topic is not None:
        label = topic_labels(language)[contact_topic]
        routing_topic = ROUTING_TOPICS[contact_topic]
        details["topic"] = contact_topic.value
        return _CheckedForm(
            email=email,
            name=name or None,
            subject=f"{label}: {_first_words(message)}",
            body=body,
            routing_topic=routing_topic,
            priority=Priority.NORMAL,
            # The player's own choice stays visible where routing's topic is coarser
            # (deposits and withdrawals are both "payments").
            tags=[] if contact_topic.value == routing_topic else [contact_topic.value],
            attachments=submission.attachments,
            audit_details=details,
        )
    assert rating is not None
    details["rating"] = rating
    feedback = catalog.pgettext("help topic", "Feedback")
    return _CheckedForm(
        email=email,
        name=name or None,
        subject=f"{feedback} {rating}/5: {_first_words(message)}",
        body=body,
        routing_topic=FEEDBACK_ROUTING_TOPIC,
        # Feedback asks for no decision from us: it waits behind the players who need help.
        priority=Priority.LOW,
        tags=[FEEDBACK_TAG, f"rating-{rating}"],
        attachments=submission.attachments,
        audit_details=details,
    )


async def _recent_submissions(
    uow: UnitOfWork, *, column: str, value: str, since: datetime
) -> tuple[int, datetime | None]:
    """How many forms came from this IP / address since `since`, and the oldest's time."""
    counted = FormSubmission.ip if column == "ip" else FormSubmission.email
    row = (
        await uow.session.execute(
            select(func.count(), func.min(FormSubmission.created_at)).where(
                counted == value, FormSubmission.created_at > since
            )
        )
    ).one()
    return int(row[0]), row[1]


async def _check_rate_limits(
    uow: UnitOfWork, *, ip_key: str, email_key: str | None, limits: FormLimits
) -> None:
    """Refuse when this client or this address sent too many forms in the last hour. The
    address limit also keeps the form from being used to flood someone's mailbox with our
    acknowledgements. Counted without a lock: two forms racing at the limit may both pass,
    which a limit of this kind can live with."""
    now = uow.clock.now()
    since = now - RATE_LIMIT_WINDOW
    checks = [("ip", ip_key, limits.per_ip)]
    if email_key is not None:
        checks.append(("email", email_key, limits.per_email))
    for column, value, limit in checks:
        count, oldest = await _recent_submissions(uow, column=column, value=value, since=since)
        if count >= limit:
            # The window slides: a place frees up when the oldest counted form ages out.
            free_at = (oldest or now) + RATE_LIMIT_WINDOW
            retry_after = max(1, int((free_at - now).total_seconds()) + 1)
            log.info("form_rate_limited", by=column, count=count, retry_after=retry_after)
            raise TooManyAttempts(
                f"too many forms from this {column} in the last hour",
                retry_after_seconds=retry_after,
            )


def _email_key(email: str) -> str | None:
    """The address as the limit counts it (letter case never makes another mailbox)."""
    try:
        return normalise_email(email).lower()
    except ValidationFailed:
        return None


async def _store_uploads(
    uow: UnitOfWork,
    *,
    actor: Actor,
    ticket: Ticket,
    uploads: list[Upload],
    store: AttachmentStore,
    policy: AttachmentPolicy,
    language: str,
) -> list[int]:
    attachment_ids: list[int] = []
    for upload in uploads:
        try:
            attachment = await store_attachment(
                uow,
                actor=actor,
                store=store,
                policy=policy,
                ticket_id=ticket.id,
                filename=upload.filename,
                data=upload.data,
            )
        except (PayloadTooLarge, UnsupportedMediaType):
            # Checked above already; should the two checks ever disagree, the player still
            # reads why, next to the field, rather than a bare error page.
            problems = _attachment_problems([upload], policy=policy, language=language)
            raise FormInvalid({FIELD_ATTACHMENTS: problems or upload.filename}) from None
        attachment_ids.append(attachment.id)
    return attachment_ids


async def submit_form(
    uow: UnitOfWork,
    *,
    form: HelpForm,
    submission: FormInput,
    ip: str,
    limits: FormLimits,
    player_policy: PlayerPolicy,
    message_limits: MessageLimits,
    attachment_policy: AttachmentPolicy,
    routing_policy: RoutingPolicy,
    mail_policy: MailPolicy,
    store: AttachmentStore,
) -> Ticket:
    """A help-centre form sent: in one transaction, the player (found or created by email),
    a ticket on the form channel with the message and its files, the acknowledgement mail
    in the outbox and the submission counted for the rate limit. Raises TooManyAttempts
    over the limits and FormInvalid with every field's error; either leaves nothing behind.
    """
    language = (
        submission.language
        if submission.language in player_policy.languages
        else player_policy.default_language
    )
    ip_key = rate_limit_key(ip)
    email_key = _email_key(submission.email)
    await _check_rate_limits(uow, ip_key=ip_key, email_key=email_key, limits=limits)
    checked = _check(
        form=form,
        submission=submission,
        language=language,
        message_limits=message_limits,
        attachment_policy=attachment_policy,
    )
    assert email_key is not None  # a valid address passed the check
    actor = replace(Actor.system(), ip=ip)
    # Whoever types an address may write to us as its player, as with any email, but may
    # not change what we know of them: the name and language only describe a new player.
    player: Player = await match_or_create_player(
        uow,
        actor=actor,
        external_id=None,
        fields=PlayerFields(email=checked.email, name=checked.name, language=language),
        policy=player_policy,
    )
    await attach_email(uow, player=player, email=checked.email)
    ticket = await open_ticket_in_transaction(
        uow,
        actor=actor,
        player=player,
        channel=Channel.FORM,
        subject=checked.subject,
        language=language,
        priority=checked.priority,
        topic=checked.routing_topic,
        tags=checked.tags,
        routing_policy=routing_policy,
    )
    attachment_ids = await _store_uploads(
        uow,
        actor=actor,
        ticket=ticket,
        uploads=checked.attachments,
        store=store,
        policy=attachment_policy,
        language=language,
    )
    await add_player_message(
        uow,
        ticket=ticket,
        body=checked.body,
        client_msg_id=None,
        attachment_ids=attachment_ids,
        limits=message_limits,
        routing_policy=routing_policy,
    )
    await outbound.acknowledge_new_ticket(uow, ticket=ticket, player=player, policy=mail_policy)
    uow.session.add(
        FormSubmission(
            form=form.value,
            email=email_key,
            ip=ip_key,
            ticket_id=ticket.id,
            created_at=uow.clock.now(),
        )
    )
    audit.record(
        uow,
        actor=actor,
        action="form.submitted",
        entity_type="ticket",
        entity_id=ticket.id,
        details=checked.audit_details,
    )
    await uow.commit()
    return ticket
