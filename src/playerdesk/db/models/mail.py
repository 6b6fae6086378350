"""Email threading records, the outbound outbox, IMAP mailboxes and help-centre form use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from playerdesk.db.base import Base, BigId, UTCDateTime


class EmailRecord(Base):
    """One email that belongs to a ticket, in either direction: its Message-ID threads the
    replies to come, and the raw original is kept in the attachment store."""

    __tablename__ = "email_records"
    __table_args__ = (
        # A message delivered twice (a relay's retry, SMTP and IMAP both) is stored once.
        UniqueConstraint("direction", "rfc_message_id"),
        Index("ix_email_records_rfc_message_id", "rfc_message_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[int | None] = mapped_column(
        ForeignKey("messages.id", ondelete="SET NULL"), index=True
    )
    direction: Mapped[str] = mapped_column(String(10))  # "in" | "out"
    rfc_message_id: Mapped[str] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list[str]] = mapped_column(JSON, default=list)
    from_address: Mapped[str | None] = mapped_column(String(254))
    to_addresses: Mapped[list[str]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(String(500), default="")
    # What the mail was: a player's message, an auto-reply, a bounce (domain.mail.MailKind).
    kind: Mapped[str] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(100))  # "smtp", "imap:<mailbox>", "outbox"
    raw_sha256: Mapped[str | None] = mapped_column(String(64))
    raw_size: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the mail could not be read: the raw copy is all there is.
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxItem(Base):
    """A message to deliver through a channel, written in the transaction that created it.

    The delivery job claims due rows with a lease, sends, and records the outcome; the
    `idempotency_key` (an email's Message-ID, a provider's client reference) is the same on
    every attempt, so a retry after a crash between send and commit is recognisable.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        UniqueConstraint("idempotency_key"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(30))  # reply, acknowledgement, notification
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), index=True
    )
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="SET NULL"))
    recipient: Mapped[str] = mapped_column(String(254))
    idempotency_key: Mapped[str] = mapped_column(String(500))
    # Everything the sender needs, rendered when the row was written (channel-specific).
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))  # domain.mail.OutboxStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # While a worker holds the row; a worker that died lets it go when this passes.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    provider_message_id: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class OutboxProviderId(Base):
    """An id a provider gave a message we sent through it (a reply sent in parts has one per
    part), so its later reports (delivered, read, failed) find the outbox row by index."""

    __tablename__ = "outbox_provider_ids"
    __table_args__ = (Index("ix_outbox_provider_ids_channel_id", "channel", "provider_message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(200))


class Mailbox(Base):
    """An IMAP mailbox PlayerDesk polls; the password is encrypted with the secret key."""

    __tablename__ = "mailboxes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer)
    use_tls: Mapped[bool] = mapped_column(Boolean, default=True)
    # A plain connection upgraded with STARTTLS (when use_tls is off).
    starttls: Mapped[bool] = mapped_column(Boolean, default=False)
    username: Mapped[str] = mapped_column(String(255))
    password_encrypted: Mapped[str] = mapped_column(Text)
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # "settings" when PLAYERDESK_IMAP_MAILBOXES defines it (edited there, not in the console).
    managed_by: Mapped[str] = mapped_column(String(20), default="console")
    uid_validity: Mapped[int | None] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FormSubmission(Base):
    """A help-centre form sent: counted per address and per IP for the rate limit."""

    __tablename__ = "form_submissions"
    __table_args__ = (
        Index("ix_form_submissions_ip_created_at", "ip", "created_at"),
        Index("ix_form_submissions_email_created_at", "email", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    form: Mapped[str] = mapped_column(String(20))  # contact | feedback
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str] = mapped_column(String(64))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
