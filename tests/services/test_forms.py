"""Help-centre forms on a real database: one submission, one transaction, nothing half-done."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from playerdesk.clock import FrozenClock
from playerdesk.db.base import Base
from playerdesk.db.models import (
    Attachment,
    AuditEntry,
    ChannelIdentity,
    FormSubmission,
    Message,
    OutboxItem,
    Player,
    Ticket,
)
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.enums import Channel, Priority
from playerdesk.domain.errors import TooManyAttempts
from playerdesk.domain.routing import STANDARD_TOPICS
from playerdesk.runtime import Runtime
from playerdesk.services import forms, outbound
from playerdesk.services.forms import (
    ContactTopic,
    FormInput,
    FormInvalid,
    FormLimits,
    HelpForm,
    Upload,
)
from playerdesk.services.messages import MessageLimits
from tests.conftest import RecordingBus

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n% a statement\n"
IP = "203.0.113.7"
GENEROUS = FormLimits(per_ip=100, per_email=100)
ROWS_A_FORM_WRITES = (Ticket, Player, Message, Attachment, OutboxItem, FormSubmission, AuditEntry)


async def submit(
    runtime: Runtime,
    *,
    form: HelpForm = HelpForm.CONTACT,
    ip: str = IP,
    limits: FormLimits = GENEROUS,
    message_limits: MessageLimits | None = None,
    **fields: Any,
) -> Ticket:
    values: dict[str, Any] = {
        "language": "en",
        "email": "ola@example.pl",
        "message": "My withdrawal of 200 EUR from Monday has not arrived yet.",
        "topic": ContactTopic.WITHDRAWALS.value if form is HelpForm.CONTACT else "",
    }
    values.update(fields)
    async with runtime.uow() as uow:
        return await forms.submit_form(
            uow,
            form=form,
            submission=FormInput(**values),
            ip=ip,
            limits=limits,
            player_policy=runtime.policies.players,
            message_limits=message_limits or runtime.policies.messages,
            attachment_policy=runtime.policies.attachments,
            routing_policy=runtime.policies.routing,
            mail_policy=runtime.policies.mail,
            store=runtime.attachments,
        )


async def count(runtime: Runtime, model: type[Base]) -> int:
    async with runtime.uow() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(model)) or 0)


async def counts(runtime: Runtime) -> dict[str, int]:
    return {model.__name__: await count(runtime, model) for model in ROWS_A_FORM_WRITES}


def count_commits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    commits: list[int] = []
    original: Callable[[UnitOfWork], Awaitable[None]] = UnitOfWork.commit

    async def counting(self: UnitOfWork) -> None:
        commits.append(1)
        await original(self)

    monkeypatch.setattr(UnitOfWork, "commit", counting)
    return commits


async def test_a_contact_form_writes_ticket_player_message_files_mail_and_submission_at_once(
    runtime: Runtime, bus: RecordingBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = count_commits(monkeypatch)

    ticket = await submit(
        runtime,
        language="pl",
        name="Ola Nowak",
        email="Ola@Example.PL",
        attachments=[
            Upload(filename="screenshot.png", data=PNG),
            Upload(filename="../../statement.pdf", data=PDF),
        ],
    )

    assert commits == [1]
    async with runtime.uow() as uow:
        stored = await uow.session.scalar(
            select(Ticket).where(Ticket.id == ticket.id).options(selectinload(Ticket.tags))
        )
        assert stored is not None
        player = await uow.session.get_one(Player, stored.player_id)
        identity = await uow.session.scalar(
            select(ChannelIdentity.address).where(ChannelIdentity.player_id == player.id)
        )
        messages = (
            await uow.session.scalars(
                select(Message)
                .where(Message.ticket_id == ticket.id)
                .options(selectinload(Message.attachments))
            )
        ).all()
        outbox = (await uow.session.scalars(select(OutboxItem))).all()
        submission = await uow.session.scalar(select(FormSubmission))
        actions = (
            await uow.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))
        ).all()

    assert stored.channel == Channel.FORM and stored.language == "pl"
    assert stored.topic == "payments" and stored.topic in STANDARD_TOPICS
    assert stored.priority == Priority.NORMAL
    assert [tag.name for tag in stored.tags] == ["withdrawals"]
    label = forms.topic_labels("pl")[ContactTopic.WITHDRAWALS]
    assert stored.subject == f"{label}: My withdrawal of 200 EUR from Monday has…"

    assert (player.email, player.name, player.language) == ("Ola@example.pl", "Ola Nowak", "pl")
    assert identity == "Ola@example.pl"

    [message] = messages
    assert message.author_kind == "player"
    assert message.body == "My withdrawal of 200 EUR from Monday has not arrived yet."
    assert sorted(item.filename for item in message.attachments) == [
        "screenshot.png",
        "statement.pdf",
    ]
    assert {item.content_type for item in message.attachments} == {"image/png", "application/pdf"}
    for item in message.attachments:
        assert await runtime.attachments.exists(item.sha256)

    [acknowledgement] = outbox
    assert acknowledgement.purpose == outbound.Purpose.ACKNOWLEDGEMENT
    assert acknowledgement.recipient == "Ola@example.pl"
    assert acknowledgement.ticket_id == ticket.id
    assert acknowledgement.payload["ticket_number"] == ticket.number
    assert f"#{ticket.number}" in acknowledgement.payload["text"]

    assert submission is not None
    assert (submission.form, submission.email, submission.ip, submission.ticket_id) == (
        "contact",
        "ola@example.pl",
        IP,
        ticket.id,
    )
    assert "form.submitted" in actions and "ticket.created" in actions
    assert actions.count("attachment.uploaded") == 2
    # Published after the one commit: a new ticket and its first message.
    assert {"ticket.created", "message.posted"} <= set(bus.types())


async def test_feedback_keeps_the_rating_in_sight_and_waits_behind_requests_for_help(
    runtime: Runtime,
) -> None:
    ticket = await submit(
        runtime, form=HelpForm.FEEDBACK, rating="4", message="Quick and friendly, thank you!"
    )

    async with runtime.uow() as uow:
        stored = await uow.session.scalar(
            select(Ticket).where(Ticket.id == ticket.id).options(selectinload(Ticket.tags))
        )
        body = await uow.session.scalar(select(Message.body).where(Message.ticket_id == ticket.id))
    assert stored is not None
    assert stored.priority == Priority.LOW and stored.topic == "general"
    assert stored.channel == Channel.FORM
    assert sorted(tag.name for tag in stored.tags) == ["feedback", "rating-4"]
    assert stored.subject == "Feedback 4/5: Quick and friendly, thank you!"
    assert body == "Rating: 4 of 5\n\nQuick and friendly, thank you!"


@pytest.mark.parametrize(
    ("topic", "routing_topic"),
    [(topic, forms.ROUTING_TOPICS[topic]) for topic in ContactTopic],
)
def test_every_contact_topic_routes_to_a_standard_topic(
    topic: ContactTopic, routing_topic: str
) -> None:
    assert routing_topic in STANDARD_TOPICS
    assert forms.topic_labels("en")[topic]


async def test_a_known_address_is_the_same_player_and_a_form_cannot_rename_them(
    runtime: Runtime,
) -> None:
    first = await submit(runtime, name="Ola Nowak", email="ola@example.pl", language="pl")
    second = await submit(
        runtime, form=HelpForm.FEEDBACK, name="Someone Else", email="ola@EXAMPLE.pl", rating="5"
    )

    assert second.player_id == first.player_id
    async with runtime.uow() as uow:
        player = await uow.session.get_one(Player, first.player_id)
    assert (player.name, player.language) == ("Ola Nowak", "pl")
    assert await count(runtime, Player) == 1


async def test_every_field_error_at_once_and_nothing_is_left_behind(runtime: Runtime) -> None:
    with pytest.raises(FormInvalid) as refused:
        await submit(
            runtime,
            name="x" * 201,
            email="not an address",
            topic="casino-royale",
            message="   ",
            attachments=[Upload(filename=f"{n}.png", data=PNG) for n in range(6)],
        )

    assert set(refused.value.errors) == {"name", "email", "topic", "message", "attachments"}
    assert refused.value.errors["attachments"] == "You can attach up to 5 files at once."
    assert refused.value.field == "name"  # the first, as a plain ValidationFailed reports it
    assert all(value == 0 for value in (await counts(runtime)).values())


async def test_missing_email_and_rating_on_the_feedback_form(runtime: Runtime) -> None:
    with pytest.raises(FormInvalid) as refused:
        await submit(runtime, form=HelpForm.FEEDBACK, email="", rating="6", message="Good")

    assert refused.value.errors == {
        "email": "Please enter your email address so that we can answer you.",
        "rating": "Please choose a rating from 1 to 5.",
    }


async def test_bad_files_are_named_and_nothing_is_stored(runtime: Runtime) -> None:
    limit = runtime.policies.attachments.max_bytes
    with pytest.raises(FormInvalid) as refused:
        await submit(
            runtime,
            attachments=[
                Upload(filename="fine.png", data=PNG),
                Upload(filename="setup.exe", data=b"MZ\x90\x00\x03\x00\x00\x00\xff\xfe"),
                Upload(filename="huge.png", data=PNG + b"\x00" * limit),
                Upload(filename="empty.txt", data=b""),
            ],
        )

    problems = refused.value.errors["attachments"]
    assert list(refused.value.errors) == ["attachments"]
    assert "“setup.exe” cannot be attached: please use PNG, JPEG, GIF, WEBP, PDF, TXT." in problems
    assert "“huge.png” is too large: each file may be at most 10 MB." in problems
    assert "“empty.txt” is empty." in problems
    assert "fine.png" not in problems
    assert all(value == 0 for value in (await counts(runtime)).values())


async def test_the_message_limit_leaves_room_for_the_rating_line(runtime: Runtime) -> None:
    limits = MessageLimits(max_chars=100)
    with pytest.raises(FormInvalid) as refused:
        await submit(
            runtime, form=HelpForm.FEEDBACK, rating="3", message="a" * 95, message_limits=limits
        )
    assert refused.value.errors == {
        "message": "Your message is too long (95 characters; the limit is 84)."
    }

    await submit(
        runtime, form=HelpForm.FEEDBACK, rating="3", message="a" * 84, message_limits=limits
    )


async def test_a_failure_late_in_the_transaction_leaves_no_ticket_player_or_submission(
    runtime: Runtime, bus: RecordingBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def mail_server_on_fire(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the outbox table is gone")

    monkeypatch.setattr(outbound, "acknowledge_new_ticket", mail_server_on_fire)

    with pytest.raises(RuntimeError):
        await submit(runtime, attachments=[Upload(filename="screenshot.png", data=PNG)])

    assert all(value == 0 for value in (await counts(runtime)).values())
    assert bus.published == []


async def test_too_many_forms_from_one_ip_in_an_hour(runtime: Runtime, clock: FrozenClock) -> None:
    limits = FormLimits(per_ip=2, per_email=100)
    await submit(runtime, email="one@example.com", limits=limits)
    clock.advance(timedelta(minutes=20))
    await submit(runtime, email="two@example.com", limits=limits)
    clock.advance(timedelta(minutes=10))
    before = await counts(runtime)

    with pytest.raises(TooManyAttempts) as refused:
        await submit(runtime, email="three@example.com", limits=limits)

    # The first form counted stops counting 30 minutes from now.
    assert refused.value.retry_after_seconds == 30 * 60 + 1
    assert await counts(runtime) == before
    # Another client is not held back by this one.
    await submit(runtime, email="three@example.com", ip="198.51.100.4", limits=limits)

    clock.advance(timedelta(minutes=31))
    await submit(runtime, email="four@example.com", limits=limits)


async def test_too_many_forms_for_one_address_in_an_hour(runtime: Runtime) -> None:
    limits = FormLimits(per_ip=100, per_email=2)
    await submit(runtime, email="ola@example.pl", ip="198.51.100.1", limits=limits)
    await submit(runtime, email="OLA@example.PL", ip="198.51.100.2", limits=limits)

    with pytest.raises(TooManyAttempts):
        await submit(runtime, email="Ola@Example.pl", ip="198.51.100.3", limits=limits)
    assert await count(runtime, Ticket) == 2
    assert await count(runtime, FormSubmission) == 2

    await submit(runtime, email="ewa@example.pl", ip="198.51.100.3", limits=limits)


async def test_an_ipv6_client_is_counted_by_its_network(runtime: Runtime) -> None:
    limits = FormLimits(per_ip=1, per_email=100)
    await submit(runtime, email="a@example.com", ip="2001:db8:1:2::10", limits=limits)

    with pytest.raises(TooManyAttempts):
        await submit(runtime, email="b@example.com", ip="2001:db8:1:2:ffff::99", limits=limits)
    await submit(runtime, email="b@example.com", ip="2001:db8:1:3::10", limits=limits)


@pytest.mark.parametrize(
    ("ip", "key"),
    [
        ("203.0.113.7", "203.0.113.7"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.7", "203.0.113.7"),
        ("unknown", "unknown"),
        ("", "unknown"),
    ],
)
def test_rate_limit_key(ip: str, key: str) -> None:
    assert forms.rate_limit_key(ip) == key


@pytest.mark.parametrize(
    ("size", "language", "text"),
    [
        (10 * 1024 * 1024, "en", "10 MB"),
        (int(2.5 * 1024 * 1024), "pl", "2,5 MB"),
        (2048, "sv", "2 KB"),
    ],
)
def test_format_size(size: int, language: str, text: str) -> None:
    assert forms.format_size(size, language=language) == text
