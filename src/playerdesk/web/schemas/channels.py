"""IMAP mailboxes and the outbox, for admins.

A mailbox's password goes in and never comes out: responses say only `has_password`. An
outbox row shows its subject but never its body, which may carry a player's personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from playerdesk.db.models import Mailbox, OutboxItem
from playerdesk.services.mailboxes import MailboxFields
from playerdesk.web.schemas.common import RequestModel, ResponseModel

MAX_PASSWORD_LENGTH = 1000
IMAPS_PORT = 993


def _host_name(value: str) -> str:
    if any(character.isspace() for character in value):
        raise ValueError("a host name or address, without spaces")
    return value


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


HostName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_host_name)]
MailboxName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_not_blank)]
Port = Annotated[int, Field(ge=1, le=65535)]
UserName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_not_blank)]
Password = Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD_LENGTH)]
FolderName = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_not_blank)]


class MailboxIn(RequestModel):
    name: MailboxName = Field(description="unique among mailboxes")
    host: HostName = Field(description="the IMAP server")
    port: Port = IMAPS_PORT
    use_tls: bool = Field(default=True, description="TLS from the first byte (IMAPS)")
    starttls: bool = Field(default=False, description="a plain connection upgraded; not with TLS")
    username: UserName
    password: Password = Field(description="stored encrypted; never shown again")
    folder: FolderName = "INBOX"
    enabled: bool = True

    @field_validator("starttls")
    @classmethod
    def _one_kind_of_tls(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("use_tls"):
            raise ValueError("choose TLS or STARTTLS, not both")
        return value

    def fields(self) -> MailboxFields:
        return MailboxFields(**self.model_dump())


class MailboxPatch(RequestModel):
    """Only what changes; an absent (or null) field keeps its value, the password too."""

    name: MailboxName | None = None
    host: HostName | None = None
    port: Port | None = None
    use_tls: bool | None = None
    starttls: bool | None = None
    username: UserName | None = None
    password: Password | None = Field(default=None, description="absent: keep the stored one")
    folder: FolderName | None = None
    enabled: bool | None = None

    def fields_over(self, current: Mailbox) -> MailboxFields:
        """The mailbox as it is to become: these changes over its stored settings (the
        service checks the result as a whole, e.g. TLS and STARTTLS together)."""
        changes = {key: value for key, value in self.model_dump().items() if value is not None}
        stored: dict[str, Any] = {
            "name": current.name,
            "host": current.host,
            "port": current.port,
            "use_tls": current.use_tls,
            "starttls": current.starttls,
            "username": current.username,
            "password": None,
            "folder": current.folder,
            "enabled": current.enabled,
        }
        return MailboxFields(**(stored | changes))


class MailboxOut(ResponseModel):
    id: int
    name: str
    host: str
    port: int
    use_tls: bool
    starttls: bool
    username: str
    has_password: bool
    folder: str
    enabled: bool
    managed_by: str = Field(description="console, or settings (PLAYERDESK_IMAP_MAILBOXES)")
    uid_validity: int | None
    last_uid: int = Field(description="the last message taken in; polling resumes after it")
    last_polled_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: Mailbox) -> MailboxOut:
        return cls(
            id=row.id,
            name=row.name,
            host=row.host,
            port=row.port,
            use_tls=row.use_tls,
            starttls=row.starttls,
            username=row.username,
            has_password=bool(row.password_encrypted),
            folder=row.folder,
            enabled=row.enabled,
            managed_by=row.managed_by,
            uid_validity=row.uid_validity,
            last_uid=row.last_uid,
            last_polled_at=row.last_polled_at,
            last_error=row.last_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class OutboxItemOut(ResponseModel):
    id: int
    channel: str
    purpose: str
    status: str
    ticket_id: int | None
    ticket_number: int | None
    message_id: int | None
    recipient: str
    subject: str | None = Field(description="the body is never shown here")
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    provider_message_id: str | None
    created_at: datetime
    sent_at: datetime | None
    dead_at: datetime | None

    @classmethod
    def of(cls, row: OutboxItem) -> OutboxItemOut:
        payload = row.payload if isinstance(row.payload, dict) else {}
        subject = payload.get("subject")
        number = payload.get("ticket_number")
        return cls(
            id=row.id,
            channel=row.channel,
            purpose=row.purpose,
            status=row.status,
            ticket_id=row.ticket_id,
            ticket_number=number if isinstance(number, int) else None,
            message_id=row.message_id,
            recipient=row.recipient,
            subject=subject if isinstance(subject, str) else None,
            attempts=row.attempts,
            next_attempt_at=row.next_attempt_at,
            last_error=row.last_error,
            provider_message_id=row.provider_message_id,
            created_at=row.created_at,
            sent_at=row.sent_at,
            dead_at=row.dead_at,
        )


class OutboxCountsOut(ResponseModel):
    pending: int
    sending: int
    sent: int
    dead: int


class OutboxOut(ResponseModel):
    counts: OutboxCountsOut = Field(description="every row, whatever the filter")
    items: list[OutboxItemOut] = Field(description="newest first")
