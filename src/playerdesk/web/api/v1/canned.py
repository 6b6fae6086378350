"""Canned replies and macros: search for the composer, CRUD for supervisors and admins, the
preview of a reply filled in for a ticket, and sending one (a macro with its actions)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from playerdesk.domain.placeholders import PLACEHOLDERS
from playerdesk.services import canned as canned_service
from playerdesk.services import sla as sla_service
from playerdesk.services.placeholder_values import placeholder_descriptions
from playerdesk.web.deps import MAX_ID, CurrentActor, IdPath, ReadUowDep, RuntimeDep, UowDep
from playerdesk.web.schemas.canned import (
    CannedApplyIn,
    CannedApplyOut,
    CannedPreviewIn,
    CannedPreviewOut,
    CannedReplyIn,
    CannedReplyOut,
    CannedReplyPatch,
    CannedSuggestionOut,
    PlaceholderOut,
)
from playerdesk.web.schemas.common import SafeStr
from playerdesk.web.schemas.tickets import MessageOut, TicketOut

router = APIRouter(prefix="/canned-replies", tags=["canned replies and macros"])

NO_CONTENT = status.HTTP_204_NO_CONTENT


def _languages(runtime: RuntimeDep) -> canned_service.CannedLanguages:
    players = runtime.policies.players
    return canned_service.CannedLanguages(
        supported=players.languages, default=players.default_language
    )


@router.get("")
async def list_canned_replies(
    uow: ReadUowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    language: Annotated[
        SafeStr | None,
        Query(
            max_length=8,
            description="one reply per shortcut, in this language or else the default one",
        ),
    ] = None,
    prefix: Annotated[
        SafeStr | None, Query(max_length=51, description="of the shortcut, e.g. /withdr")
    ] = None,
    text: Annotated[SafeStr | None, Query(max_length=200, description="in title or shortcut")] = (
        None
    ),
    ticket_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="also the ticket's team's replies")
    ] = None,
    active_only: bool = False,
    limit: Annotated[int, Query(ge=1, le=canned_service.MAX_LIST)] = 50,
) -> list[CannedReplyOut]:
    rows = await canned_service.list_canned_replies(
        uow,
        actor=actor,
        query=canned_service.CannedQuery(
            language=language,
            prefix=prefix,
            text=text,
            ticket_id=ticket_id,
            active_only=active_only,
            limit=limit,
        ),
        default_language=runtime.policies.players.default_language,
    )
    return [CannedReplyOut.of(row) for row in rows]


@router.get("/suggestions")
async def suggest_canned_replies(
    uow: ReadUowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
    ticket_id: Annotated[int, Query(ge=1, le=MAX_ID)],
    language: Annotated[SafeStr, Query(max_length=8, description="the ticket's language")],
    prefix: Annotated[SafeStr, Query(max_length=51)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> list[CannedSuggestionOut]:
    """The composer's list for `/prefix`: active replies offered on this ticket."""
    rows = await canned_service.list_canned_replies(
        uow,
        actor=actor,
        query=canned_service.CannedQuery(
            language=language, prefix=prefix, ticket_id=ticket_id, active_only=True, limit=limit
        ),
        default_language=runtime.policies.players.default_language,
    )
    return [CannedSuggestionOut.of(row) for row in rows]


@router.get("/placeholders")
async def list_placeholders(actor: CurrentActor, runtime: RuntimeDep) -> list[PlaceholderOut]:
    """Every placeholder a reply may use, with what it stands for."""
    descriptions = placeholder_descriptions(runtime.settings.default_language)
    return [
        PlaceholderOut(
            name=item.name,
            source=item.source.value,
            from_back_office=item.source.from_back_office,
            description=descriptions[item.name],
        )
        for item in PLACEHOLDERS.values()
    ]


@router.post("", status_code=status.HTTP_201_CREATED)
async def create_canned_reply(
    body: CannedReplyIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> CannedReplyOut:
    row = await canned_service.create_canned_reply(
        uow, actor=actor, reply=body.reply(), languages=_languages(runtime)
    )
    return CannedReplyOut.of(row)


@router.post("/preview")
async def preview_canned_reply(
    body: CannedPreviewIn, uow: UowDep, actor: CurrentActor, runtime: RuntimeDep
) -> CannedPreviewOut:
    """The reply filled in for a ticket. Placeholders with no value (no such data, or the
    back office did not answer) stay in the text and are listed in `unfilled`."""
    preview = await canned_service.preview_canned_reply(
        uow,
        actor=actor,
        ticket_id=body.ticket_id,
        canned_id=body.canned_id,
        shortcut=body.shortcut,
        backend=runtime.casino,
        default_language=runtime.policies.players.default_language,
    )
    return CannedPreviewOut.of(preview)


@router.get("/{canned_id}")
async def get_canned_reply(
    canned_id: IdPath, uow: ReadUowDep, actor: CurrentActor
) -> CannedReplyOut:
    return CannedReplyOut.of(
        await canned_service.get_canned_reply(uow, actor=actor, canned_id=canned_id)
    )


@router.patch("/{canned_id}")
async def update_canned_reply(
    canned_id: IdPath,
    body: CannedReplyPatch,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> CannedReplyOut:
    # The service takes a whole reply: the changes are laid over the stored one.
    current = await canned_service.get_canned_reply(uow, actor=actor, canned_id=canned_id)
    row = await canned_service.update_canned_reply(
        uow,
        actor=actor,
        canned_id=canned_id,
        reply=body.reply_over(current),
        languages=_languages(runtime),
    )
    return CannedReplyOut.of(row)


@router.delete("/{canned_id}", status_code=NO_CONTENT)
async def delete_canned_reply(canned_id: IdPath, uow: UowDep, actor: CurrentActor) -> Response:
    await canned_service.delete_canned_reply(uow, actor=actor, canned_id=canned_id)
    return Response(status_code=NO_CONTENT)


@router.post(
    "/{canned_id}/apply",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {
            "model": CannedApplyOut,
            "description": "A replay of an earlier client_msg_id: nothing sent or changed again",
        }
    },
)
async def apply_canned_reply(
    canned_id: IdPath,
    body: CannedApplyIn,
    response: Response,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> CannedApplyOut:
    """Send the reply on a ticket; a macro also applies its actions, in the same transaction."""
    policies = runtime.policies
    applied = await canned_service.apply_canned_reply(
        uow,
        actor=actor,
        ticket_id=body.ticket_id,
        canned_id=canned_id,
        body=body.body,
        client_msg_id=body.client_msg_id,
        backend=runtime.casino,
        policies=canned_service.SendPolicies(
            limits=policies.messages,
            routing=policies.routing,
            mail=policies.mail,
            languages=_languages(runtime),
        ),
    )
    if not applied.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    slas = await sla_service.ticket_slas(uow, tickets=[applied.ticket])
    return CannedApplyOut(
        message=MessageOut.of(applied.message),
        ticket=TicketOut.of(applied.ticket, sla=slas[applied.ticket.id]),
        actions=applied.actions,
    )
