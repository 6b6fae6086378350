"""IMAP mailboxes PlayerDesk polls: configured by admins in the console or by settings, with
their passwords encrypted at rest, and the polling progress (UIDVALIDITY, last UID)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select

from playerdesk.db.models import Mailbox
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import Conflict, NotFound, ValidationFailed
from playerdesk.domain.permissions import Actor, Permission
from playerdesk.services import audit

MANAGED_BY_SETTINGS = "settings"
MANAGED_BY_CONSOLE = "console"


class SecretBox:
    """Encrypts stored credentials with a key derived from PLAYERDESK_SECRET_KEY (Fernet:
    authenticated encryption from a well-kept library rather than a scheme of our own)."""

    def __init__(self, secret_key: str) -> None:
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"playerdesk mailbox passwords"
        ).derive(secret_key.encode())
        self._fernet = Fernet(base64.urlsafe_b64encode(derived))

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken as error:
            raise ValidationFailed(
                "the stored password cannot be read (was the secret key changed?); enter it again",
                field="password",
            ) from error


@dataclass(frozen=True, kw_only=True)
class MailboxFields:
    name: str
    host: str
    port: int
    use_tls: bool
    starttls: bool
    username: str
    # None on an update: keep the stored one.
    password: str | None
    folder: str = "INBOX"
    enabled: bool = True


@dataclass(frozen=True, kw_only=True)
class MailboxToPoll:
    """What a poller needs, the password opened."""

    id: int
    name: str
    host: str
    port: int
    use_tls: bool
    starttls: bool
    username: str
    password: str
    folder: str
    uid_validity: int | None
    last_uid: int


def _check(fields: MailboxFields, *, creating: bool) -> None:
    if not 0 < len(fields.name.strip()) <= 100:
        raise ValidationFailed("1 to 100 characters", field="name")
    if not fields.host.strip() or len(fields.host) > 255 or any(c.isspace() for c in fields.host):
        raise ValidationFailed("a host name or address", field="host")
    if not 0 < fields.port < 65536:
        raise ValidationFailed("a port from 1 to 65535", field="port")
    if fields.use_tls and fields.starttls:
        raise ValidationFailed("choose TLS or STARTTLS, not both", field="starttls")
    if not fields.username.strip() or len(fields.username) > 255:
        raise ValidationFailed("1 to 255 characters", field="username")
    if creating and not fields.password:
        raise ValidationFailed("the mailbox password is required", field="password")
    if not fields.folder.strip() or len(fields.folder) > 255:
        raise ValidationFailed("a folder name, e.g. INBOX", field="folder")


async def _named(uow: UnitOfWork, name: str) -> Mailbox | None:
    return await uow.session.scalar(select(Mailbox).where(Mailbox.name == name.strip()))


def _apply(row: Mailbox, fields: MailboxFields, *, box: SecretBox, now: datetime) -> list[str]:
    changed: list[str] = []
    server_changed = (row.host, row.port, row.username, row.folder) != (
        fields.host.strip(),
        fields.port,
        fields.username.strip(),
        fields.folder.strip(),
    )
    for attr, value in (
        ("name", fields.name.strip()),
        ("host", fields.host.strip()),
        ("port", fields.port),
        ("use_tls", fields.use_tls),
        ("starttls", fields.starttls),
        ("username", fields.username.strip()),
        ("folder", fields.folder.strip()),
        ("enabled", fields.enabled),
    ):
        if getattr(row, attr) != value:
            setattr(row, attr, value)
            changed.append(attr)
    if fields.password:
        row.password_encrypted = box.seal(fields.password)
        changed.append("password")
    if server_changed and row.id is not None:
        # Another mailbox: its UIDs mean other messages (Message-IDs still catch repeats).
        row.uid_validity = None
        row.last_uid = 0
    row.updated_at = now
    return changed


async def list_mailboxes(uow: UnitOfWork, *, actor: Actor) -> list[Mailbox]:
    actor.require(Permission.CHANNELS_MANAGE)
    return list((await uow.session.scalars(select(Mailbox).order_by(Mailbox.name))).all())


async def create_mailbox(
    uow: UnitOfWork, *, actor: Actor, fields: MailboxFields, box: SecretBox
) -> Mailbox:
    actor.require(Permission.CHANNELS_MANAGE)
    _check(fields, creating=True)
    if await _named(uow, fields.name) is not None:
        raise Conflict("a mailbox with this name exists", field="name")
    now = uow.clock.now()
    row = Mailbox(managed_by=MANAGED_BY_CONSOLE, last_uid=0, created_at=now, password_encrypted="")
    _apply(row, fields, box=box, now=now)
    uow.session.add(row)
    await uow.session.flush()
    audit.record(
        uow,
        actor=actor,
        action="mailbox.created",
        entity_type="mailbox",
        entity_id=row.id,
        details={"name": row.name, "host": row.host, "username": row.username},
    )
    await uow.commit()
    return row


async def _editable(uow: UnitOfWork, mailbox_id: int) -> Mailbox:
    row = await uow.session.get(Mailbox, mailbox_id, with_for_update=True)
    if row is None:
        raise NotFound("no such mailbox", field="mailbox_id")
    if row.managed_by == MANAGED_BY_SETTINGS:
        raise Conflict(
            "this mailbox comes from PLAYERDESK_IMAP_MAILBOXES; change it there",
            field="mailbox_id",
        )
    return row


async def update_mailbox(
    uow: UnitOfWork, *, actor: Actor, mailbox_id: int, fields: MailboxFields, box: SecretBox
) -> Mailbox:
    actor.require(Permission.CHANNELS_MANAGE)
    _check(fields, creating=False)
    row = await _editable(uow, mailbox_id)
    other = await _named(uow, fields.name)
    if other is not None and other.id != row.id:
        raise Conflict("a mailbox with this name exists", field="name")
    changed = _apply(row, fields, box=box, now=uow.clock.now())
    audit.record(
        uow,
        actor=actor,
        action="mailbox.updated",
        entity_type="mailbox",
        entity_id=row.id,
        details={"changed": changed},
    )
    await uow.commit()
    return row


async def delete_mailbox(uow: UnitOfWork, *, actor: Actor, mailbox_id: int) -> None:
    actor.require(Permission.CHANNELS_MANAGE)
    row = await _editable(uow, mailbox_id)
    await uow.session.delete(row)
    audit.record(
        uow,
        actor=actor,
        action="mailbox.deleted",
        entity_type="mailbox",
        entity_id=mailbox_id,
        details={"name": row.name},
    )
    await uow.commit()


async def sync_configured_mailboxes(
    uow: UnitOfWork, *, configured: list[MailboxFields], box: SecretBox
) -> list[Mailbox]:
    """Make the settings' mailboxes rows (by name), and disable the ones the settings no
    longer name; their progress is kept. Run by the poller at start."""
    now = uow.clock.now()
    wanted = {fields.name.strip(): fields for fields in configured}
    rows = list(
        (
            await uow.session.scalars(
                select(Mailbox).where(Mailbox.managed_by == MANAGED_BY_SETTINGS)
            )
        ).all()
    )
    for row in rows:
        if row.name not in wanted and row.enabled:
            row.enabled = False
            row.updated_at = now
    by_name = {row.name: row for row in rows}
    for name, fields in wanted.items():
        _check(fields, creating=True)
        existing = by_name.get(name) or await _named(uow, name)
        if existing is None:
            existing = Mailbox(
                managed_by=MANAGED_BY_SETTINGS, last_uid=0, created_at=now, password_encrypted=""
            )
            uow.session.add(existing)
        existing.managed_by = MANAGED_BY_SETTINGS
        _apply(existing, fields, box=box, now=now)
    await uow.commit()
    return list(
        (
            await uow.session.scalars(
                select(Mailbox).where(Mailbox.managed_by == MANAGED_BY_SETTINGS)
            )
        ).all()
    )


async def mailboxes_to_poll(uow: UnitOfWork, *, box: SecretBox) -> list[MailboxToPoll]:
    """The enabled mailboxes; one whose password cannot be opened is skipped, with the
    reason on its row for the console (commits only then)."""
    rows = (await uow.session.scalars(select(Mailbox).where(Mailbox.enabled.is_(True)))).all()
    polled: list[MailboxToPoll] = []
    unreadable = False
    for row in rows:
        try:
            password = box.open(row.password_encrypted)
        except ValidationFailed as error:
            row.last_error = str(error)
            unreadable = True
            continue
        polled.append(
            MailboxToPoll(
                id=row.id,
                name=row.name,
                host=row.host,
                port=row.port,
                use_tls=row.use_tls,
                starttls=row.starttls,
                username=row.username,
                password=password,
                folder=row.folder,
                uid_validity=row.uid_validity,
                last_uid=row.last_uid,
            )
        )
    if unreadable:
        await uow.commit()
    return polled


async def record_poll(
    uow: UnitOfWork,
    *,
    mailbox_id: int,
    uid_validity: int | None,
    last_uid: int | None,
    error: str | None,
) -> None:
    """A poll's progress: the last UID taken (only after the mails are in the desk) or
    the error that stopped it."""
    row = await uow.session.get(Mailbox, mailbox_id, with_for_update=True)
    if row is None:
        return
    now = uow.clock.now()
    row.last_polled_at = now
    row.last_error = error[:2000] if error else None
    if uid_validity is not None:
        row.uid_validity = uid_validity
    if last_uid is not None:
        row.last_uid = last_uid
    await uow.commit()
