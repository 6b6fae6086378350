"""Console pages for the channels' plumbing, for admins: the IMAP mailboxes PlayerDesk polls
(with how their polling goes) and the outbox, where a dead letter can be sent again.

Plain forms that post back and redirect, as on the other administration pages. A stored
password is never put back into a page: the edit form leaves it empty to keep it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.datastructures import FormData

from playerdesk.db.models import Mailbox
from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.errors import PermissionDenied, ValidationFailed
from playerdesk.domain.mail import OutboxStatus
from playerdesk.i18n import translations
from playerdesk.services import mailboxes as mailbox_service
from playerdesk.services import outbound
from playerdesk.services.mailboxes import MANAGED_BY_SETTINGS, MailboxFields
from playerdesk.services.routing_admin import N_
from playerdesk.web.console.admin import (
    FormError,
    Viewer,
    _common,
    _signed_or_login,
    forbidden_page,
    submit_form,
)
from playerdesk.web.console.routes import _language, _page
from playerdesk.web.deps import Admitted, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.channels import IMAPS_PORT, MAX_PASSWORD_LENGTH, OutboxItemOut

router = APIRouter(prefix="/console/admin", include_in_schema=False, dependencies=[Admitted])

MAILBOXES = "/console/admin/mailboxes"
OUTBOX = "/console/admin/outbox"
# Rows per table on the outbox page: the newest; the API pages further.
OUTBOX_ROWS_SHOWN = 100

# How the console names a mailbox's connection security (the service's two flags).
TLS, STARTTLS, PLAIN = "tls", "starttls", "none"

# Messages of the services' own checks, marked here so that the console can translate them.
SERVICE_MESSAGES = (
    N_("1 to 100 characters"),
    N_("1 to 255 characters"),
    N_("a host name or address"),
    N_("a port from 1 to 65535"),
    N_("choose TLS or STARTTLS, not both"),
    N_("the mailbox password is required"),
    N_("a folder name, e.g. INBOX"),
    N_("a mailbox with this name exists"),
    N_("this mailbox comes from PLAYERDESK_IMAP_MAILBOXES; change it there"),
    N_("no such mailbox"),
    N_("no such outbox message"),
    N_("only a dead-lettered message is retried"),
)


def _text(form: FormData, name: str) -> str:
    text = str(form.get(name) or "")
    # PostgreSQL text cannot hold NUL: refused here, it is a message rather than an error page.
    if "\x00" in text:
        raise ValidationFailed(N_("this field cannot contain NUL characters"), field=name)
    return text.strip()


def _port(form: FormData) -> int:
    try:
        return int(_text(form, "port"))
    except ValueError:
        raise ValidationFailed(N_("enter a whole number"), field="port") from None


def _security(form: FormData) -> str:
    security = _text(form, "security")
    if security not in (TLS, STARTTLS, PLAIN):
        raise ValidationFailed(N_("choose how to connect to the server"), field="security")
    return security


def _password(form: FormData) -> str | None:
    # Not stripped: spaces may belong to a password.
    password = str(form.get("password") or "")
    if "\x00" in password:
        raise ValidationFailed(N_("this field cannot contain NUL characters"), field="password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed(N_("a password is at most 1000 characters"), field="password")
    return password or None


def _mailbox_fields(form: FormData) -> MailboxFields:
    security = _security(form)
    return MailboxFields(
        name=_text(form, "name"),
        host=_text(form, "host"),
        port=_port(form),
        use_tls=security == TLS,
        starttls=security == STARTTLS,
        username=_text(form, "username"),
        password=_password(form),
        folder=_text(form, "folder") or "INBOX",
        enabled="enabled" in form,
    )


def _typed_values(form: FormData) -> dict[str, Any]:
    """What the admin typed, to show again next to a refusal; never the password."""
    return {
        "id": str(form.get("id") or "").strip(),
        "name": str(form.get("name") or ""),
        "host": str(form.get("host") or ""),
        "port": str(form.get("port") or ""),
        "security": str(form.get("security") or TLS),
        "username": str(form.get("username") or ""),
        "folder": str(form.get("folder") or ""),
        "enabled": "enabled" in form,
    }


def _stored_values(row: Mailbox) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "name": row.name,
        "host": row.host,
        "port": str(row.port),
        "security": _security_of(row),
        "username": row.username,
        "folder": row.folder,
        "enabled": row.enabled,
    }


NEW_MAILBOX: dict[str, Any] = {
    "id": "",
    "port": str(IMAPS_PORT),
    "security": TLS,
    "folder": "INBOX",
    "enabled": True,
}


def _security_of(row: Mailbox) -> str:
    if row.use_tls:
        return TLS
    return STARTTLS if row.starttls else PLAIN


def _security_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        TLS: _("TLS (usually port 993)"),
        STARTTLS: _("STARTTLS (usually port 143)"),
        # Translators: an IMAP connection without encryption, for a server on the same machine.
        PLAIN: _("None (unencrypted)"),
    }


def _short_security_labels(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    # Translators: an IMAP connection without encryption, in a table cell.
    return {TLS: "TLS", STARTTLS: "STARTTLS", PLAIN: _("unencrypted")}


def _purpose_labels(language: str) -> dict[str, str]:
    pgettext = translations(language).pgettext
    return {
        # Translators: an outgoing message that is an agent's answer to a player.
        outbound.Purpose.REPLY: pgettext("outbox purpose", "Reply"),
        # Translators: the automatic mail that tells a player their request arrived.
        outbound.Purpose.ACKNOWLEDGEMENT: pgettext("outbox purpose", "Confirmation of receipt"),
        # Translators: the mail that tells supervisors a conversation was escalated.
        outbound.Purpose.ESCALATION: pgettext("outbox purpose", "Escalation notice"),
        # Translators: the desk's own answer in a messenger chat (a greeting, a confirmation).
        outbound.Purpose.NOTICE: pgettext("outbox purpose", "Automatic answer"),
    }


def _status_labels(language: str) -> dict[str, str]:
    pgettext = translations(language).pgettext
    return {
        OutboxStatus.PENDING.value: pgettext("outbox status", "Waiting"),
        OutboxStatus.SENDING.value: pgettext("outbox status", "Being sent"),
        OutboxStatus.SENT.value: pgettext("outbox status", "Sent"),
        # Translators: messages that failed too often and wait for an admin.
        OutboxStatus.DEAD.value: pgettext("outbox status", "Dead letters"),
    }


# Page plumbing ------------------------------------------------------------------------------


def _admin_page(
    request: Request,
    runtime: RuntimeDep,
    signed: Viewer,
    *,
    section: str,
    status_code: int,
    **context: Any,
) -> Response:
    language = _language(request, runtime)
    return _page(
        request,
        runtime,
        f"console/admin/{section}.html",
        status_code=status_code,
        **_common(signed, section, language),
        **context,
    )


PageRenderer = Callable[..., Awaitable[Response]]


async def _submit(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    *,
    form_name: str,
    action: Callable[[FormData, Viewer], Awaitable[object]],
    render: PageRenderer,
    done: str,
    keep_typed: bool = False,
) -> Response:
    """The admin forms' one path (admin.submit_form); a refused form shows its page again,
    with what was typed kept when `keep_typed`."""

    async def refused(signed: Viewer, error: FormError, status: int, form: FormData) -> Response:
        typed = _typed_values(form) if keep_typed else None
        return await render(request, runtime, uow, signed, error=error, typed=typed, status=status)

    return await submit_form(
        request, runtime, uow, form_name=form_name, action=action, refused=refused, done=done
    )


# Mailboxes ----------------------------------------------------------------------------------


async def _mailboxes(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    error: FormError | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    language = _language(request, runtime)
    _ = translations(language).gettext
    try:
        rows = await mailbox_service.list_mailboxes(uow, actor=signed.actor)
    except PermissionDenied:
        return forbidden_page(request, runtime, signed, title=_("Mailboxes"))
    form = typed if typed is not None and error is not None else dict(NEW_MAILBOX)
    editing = request.query_params.get("edit", "")
    if typed is None and editing.isdigit():
        for row in rows:
            if row.id == int(editing) and row.managed_by != MANAGED_BY_SETTINGS:
                form = _stored_values(row)
    unchanged = error is None
    return _admin_page(
        request,
        runtime,
        signed,
        section="mailboxes",
        status_code=status,
        mailboxes=rows,
        managed_by_settings=MANAGED_BY_SETTINGS,
        security_of=_security_of,
        security_labels=_security_labels(language),
        short_security_labels=_short_security_labels(language),
        form=form,
        error=error,
        saved=unchanged and request.query_params.get("saved") == "1",
        deleted=unchanged and request.query_params.get("deleted") == "1",
    )


@router.get("/mailboxes")
async def mailboxes_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    return await _mailboxes(request, runtime, uow, signed)


@router.post("/mailboxes")
async def save_mailbox(request: Request, runtime: RuntimeDep, uow: UowDep) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        box = runtime.secret_box
        editing = _text(form, "id")
        if not editing:
            return await mailbox_service.create_mailbox(
                uow, actor=signed.actor, fields=_mailbox_fields(form), box=box
            )
        if not editing.isdigit():
            raise ValidationFailed(N_("no such mailbox"), field="mailbox_id")
        return await mailbox_service.update_mailbox(
            uow, actor=signed.actor, mailbox_id=int(editing), fields=_mailbox_fields(form), box=box
        )

    return await _submit(
        request,
        runtime,
        uow,
        form_name="mailbox",
        action=action,
        render=_mailboxes,
        done=f"{MAILBOXES}?saved=1",
        keep_typed=True,
    )


@router.post("/mailboxes/{mailbox_id}/delete")
async def delete_mailbox(
    mailbox_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        await mailbox_service.delete_mailbox(uow, actor=signed.actor, mailbox_id=mailbox_id)
        return None

    return await _submit(
        request,
        runtime,
        uow,
        form_name="mailboxes",
        action=action,
        render=_mailboxes,
        done=f"{MAILBOXES}?deleted=1",
    )


# Outbox -------------------------------------------------------------------------------------


async def _outbox(
    request: Request,
    runtime: RuntimeDep,
    uow: UnitOfWork,
    signed: Viewer,
    *,
    error: FormError | None = None,
    typed: dict[str, Any] | None = None,
    status: int = 200,
) -> Response:
    language = _language(request, runtime)
    _ = translations(language).gettext
    actor = signed.actor
    try:
        counts = await outbound.outbox_counts(uow, actor=actor)
        dead = await outbound.list_outbox(
            uow, actor=actor, status=OutboxStatus.DEAD, limit=OUTBOX_ROWS_SHOWN
        )
        waiting = await outbound.list_outbox(
            uow, actor=actor, status=OutboxStatus.PENDING, limit=OUTBOX_ROWS_SHOWN
        )
    except PermissionDenied:
        return forbidden_page(request, runtime, signed, title=_("Outbox"))
    status_labels = _status_labels(language)
    return _admin_page(
        request,
        runtime,
        signed,
        section="outbox",
        status_code=status,
        counts=[(value, status_labels[value], counts.get(value, 0)) for value in status_labels],
        dead_letters=[OutboxItemOut.of(row) for row in dead],
        # Failed at least once and waiting for the next attempt.
        retrying=[OutboxItemOut.of(row) for row in waiting if row.last_error],
        purpose_labels=_purpose_labels(language),
        error=error,
        retried=error is None and request.query_params.get("retried") == "1",
    )


@router.get("/outbox")
async def outbox_page(request: Request, runtime: RuntimeDep, uow: ReadUowDep) -> Response:
    signed = await _signed_or_login(request, uow)
    if not isinstance(signed, Viewer):
        return signed
    return await _outbox(request, runtime, uow, signed)


@router.post("/outbox/{outbox_id}/retry")
async def retry_dead_letter(
    outbox_id: IdPath, request: Request, runtime: RuntimeDep, uow: UowDep
) -> Response:
    async def action(form: FormData, signed: Viewer) -> object:
        return await outbound.retry_dead(uow, actor=signed.actor, item_id=outbox_id)

    return await _submit(
        request,
        runtime,
        uow,
        form_name="outbox",
        action=action,
        render=_outbox,
        done=f"{OUTBOX}?retried=1",
    )
