from __future__ import annotations

from fastapi import APIRouter, Response

from playerdesk.services import player_context as player_context_service
from playerdesk.web.deps import AdmittedUntilCommit, CurrentActor, IdPath, RuntimeDep, UowDep
from playerdesk.web.schemas.player_context import PlayerContextOut

router = APIRouter(prefix="/tickets", tags=["players"], dependencies=[AdmittedUntilCommit])

# How much longer than one call's timeout the page waits for the back office as a whole:
# room for one retry after a quick failure.
DEADLINE_FACTOR = 1.5


@router.get("/{ticket_id}/player-context")
async def get_player_context(
    ticket_id: IdPath,
    response: Response,
    uow: UowDep,
    actor: CurrentActor,
    runtime: RuntimeDep,
) -> PlayerContextOut:
    """The player of a ticket as an agent needs them: our records, the casino account (balance,
    payments, bonuses, verification, responsible-gambling state) and earlier tickets.

    Written to the audit log as a read of personal data. The back office's trouble never
    fails this request: `account.state` says what could not be had, and why."""
    context = await player_context_service.view_player_context(
        uow,
        actor=actor,
        ticket_id=ticket_id,
        backend=runtime.casino,
        deadline_seconds=runtime.settings.casino_api_timeout_seconds * DEADLINE_FACTOR,
    )
    # Personal data, and stale within seconds: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return PlayerContextOut.of(context)
