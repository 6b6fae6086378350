"""The widget's HTTP calls: start a session, upload and download files, leave a message, ask
for a call."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, Response, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import Field

from playerdesk.domain import tokens
from playerdesk.domain.errors import AuthenticationFailed
from playerdesk.services import chat
from playerdesk.services.players import PlayerFields
from playerdesk.web.chat.strings import widget_strings
from playerdesk.web.chat.widget_auth import (
    WidgetSession,
    identity_secret,
    issue_session_token,
    issue_visitor_token,
    new_visitor_id,
    read_session_token,
    read_visitor_token,
)
from playerdesk.web.chat.widget_callback import CallbackOut, CallbackRequest, ask_for_a_call
from playerdesk.web.console.rendering import request_language
from playerdesk.web.deps import Admitted, IdPath, RuntimeDep, UowDep, client_ip
from playerdesk.web.schemas.common import PROBLEM_RESPONSES, RequestModel, ResponseModel
from playerdesk.web.schemas.tickets import AttachmentOut

router = APIRouter(
    prefix="/widget/v1",
    tags=["widget"],
    responses=PROBLEM_RESPONSES,
    dependencies=[Admitted],
)


class VerifiedPlayer(RequestModel):
    id: str = Field(min_length=1, max_length=100)
    hash: str = Field(min_length=64, max_length=64)
    name: str | None = Field(default=None, max_length=200)
    email: str | None = Field(default=None, max_length=254)


class SessionStart(RequestModel):
    visitor_token: str | None = Field(default=None, max_length=500)
    player: VerifiedPlayer | None = None
    language: str | None = Field(default=None, max_length=8)


class ConversationOut(ResponseModel):
    ticket_id: int
    number: int
    status: str


class WidgetLimits(ResponseModel):
    max_message_chars: int
    max_file_bytes: int
    file_types: list[str]


class SessionOut(ResponseModel):
    token: str
    expires_in: int
    visitor_token: str | None
    language: str
    agents_available: bool
    conversation: ConversationOut | None
    limits: WidgetLimits
    strings: dict[str, str]


def _bearer(request: Request) -> str:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthenticationFailed("use 'Authorization: Bearer <widget session token>'")
    return credentials.strip()


def current_widget_session(request: Request, runtime: RuntimeDep) -> WidgetSession:
    return read_session_token(_bearer(request), settings=runtime.settings, now=runtime.clock.now())


WidgetSessionDep = Annotated[WidgetSession, Depends(current_widget_session)]


@router.post("/session")
async def start_session(
    body: SessionStart, request: Request, uow: UowDep, runtime: RuntimeDep
) -> SessionOut:
    settings, now = runtime.settings, runtime.clock.now()
    language = (
        body.language
        if body.language in settings.languages
        else request_language(
            request, supported=settings.languages, default=settings.default_language
        )
    )
    visitor_token: str | None = None
    if body.player is not None:
        secret = identity_secret(settings)
        if not secret or not tokens.player_hash_valid(
            body.player.id, body.player.hash, secret=secret
        ):
            raise AuthenticationFailed(
                "the player's identity hash does not match", field="player.hash"
            )
        identity = chat.WidgetIdentity(external_id=body.player.id)
    else:
        visitor_id = (
            read_visitor_token(body.visitor_token, settings=settings, now=now)
            if body.visitor_token
            else new_visitor_id()
        )
        identity = chat.WidgetIdentity(visitor_id=visitor_id)
        visitor_token = issue_visitor_token(visitor_id, settings=settings, now=now)
    conversation = await chat.find_conversation(uow, identity=identity)
    available = await chat.agents_available(uow)
    ticket = conversation.ticket
    policies = runtime.policies
    return SessionOut(
        token=issue_session_token(
            WidgetSession(identity=identity, language=language), settings=settings, now=now
        ),
        expires_in=settings.widget_session_ttl_seconds,
        visitor_token=visitor_token,
        language=language,
        agents_available=available,
        conversation=ConversationOut(
            ticket_id=ticket.id, number=ticket.number, status=ticket.status
        )
        if ticket
        else None,
        limits=WidgetLimits(
            max_message_chars=policies.messages.max_chars,
            max_file_bytes=policies.attachments.max_bytes,
            file_types=policies.attachments.allowed_types,
        ),
        strings=widget_strings(language),
    )


@router.post("/attachments", status_code=status.HTTP_201_CREATED)
async def upload(
    file: Annotated[UploadFile, File()],
    session: WidgetSessionDep,
    uow: UowDep,
    runtime: RuntimeDep,
) -> AttachmentOut:
    attachment = await chat.upload_widget_attachment(
        uow,
        identity=session.identity,
        store=runtime.attachments,
        attachment_policy=runtime.policies.attachments,
        player_policy=runtime.policies.players,
        fields=PlayerFields(language=session.language),
        filename=file.filename or "attachment",
        data=await file.read(),
        routing_policy=runtime.policies.routing,
    )
    return AttachmentOut.of(attachment)


@router.get("/attachments/{attachment_id}", response_class=Response)
async def download(
    attachment_id: IdPath, session: WidgetSessionDep, uow: UowDep, runtime: RuntimeDep
) -> Response:
    content = await chat.download_widget_attachment(
        uow, identity=session.identity, store=runtime.attachments, attachment_id=attachment_id
    )
    item = content.attachment
    return Response(
        content=content.data,
        media_type=item.content_type,
        headers={
            "Content-Disposition": "attachment",
            "Cache-Control": "private, no-store",
        },
    )


class OfflineMessage(RequestModel):
    email: str = Field(max_length=254)
    name: str | None = Field(default=None, max_length=200)
    body: str = Field(min_length=1, max_length=20_000)


class OfflineOut(ResponseModel):
    ticket_number: int


@router.post("/offline", status_code=status.HTTP_201_CREATED)
async def leave_message(
    body: OfflineMessage, session: WidgetSessionDep, uow: UowDep, runtime: RuntimeDep
) -> OfflineOut:
    ticket = await chat.leave_offline_message(
        uow,
        identity=session.identity,
        email=body.email,
        name=body.name,
        body=body.body,
        policy=runtime.policies.players,
        limits=runtime.policies.messages,
        language=session.language,
        routing_policy=runtime.policies.routing,
        mail_policy=runtime.policies.mail,
    )
    return OfflineOut(ticket_number=ticket.number)


@router.post("/callbacks", status_code=status.HTTP_201_CREATED, response_model=CallbackOut)
async def request_callback(
    body: CallbackRequest,
    request: Request,
    session: WidgetSessionDep,
    uow: UowDep,
    runtime: RuntimeDep,
) -> CallbackOut | JSONResponse:
    """The widget's player asks to be called back: 201 with what to tell them, or 422 naming
    the fields at fault, in their language (see widget_callback.py)."""
    return await ask_for_a_call(
        uow, runtime=runtime, session=session, body=body, client_ip=client_ip(request)
    )
