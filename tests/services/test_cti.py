"""CTI: a PBX's call events matched to players, popped on consoles, logged on tickets."""

from __future__ import annotations

from datetime import timedelta

import pytest

from playerdesk.clock import FrozenClock
from playerdesk.domain.enums import AgentRole, Channel, MessageKind
from playerdesk.domain.errors import PermissionDenied, ValidationFailed
from playerdesk.domain.events import CallRinging, event_from_json, event_to_json
from playerdesk.domain.phone import (
    CallbackSource,
    CallbackStatus,
    CallDirection,
    CallEventKind,
    is_missed,
    normalise_phone,
)
from playerdesk.realtime.hub import agent_topic, topics_for
from playerdesk.runtime import Runtime
from playerdesk.services import callbacks as callback_service
from playerdesk.services import cti
from playerdesk.services import messages as message_service
from playerdesk.services import players as player_service
from playerdesk.services.players import PlayerFields
from playerdesk.web.phone import callback_policy, phone_policy
from tests.conftest import AgentFactory, AgentLogin, RecordingBus

CALLER = "+44 7911 123456"
CALLER_E164 = "+447911123456"
DESK = "+442079460958"


def test_numbers_are_normalised_to_e164() -> None:
    assert normalise_phone("+44 7911 123456", default_region=None) == CALLER_E164
    assert normalise_phone("07911 123456", default_region="GB") == CALLER_E164
    assert normalise_phone("0044 7911 123456", default_region=None) == CALLER_E164
    assert normalise_phone("+48 512 345 678", default_region="GB") == "+48512345678"
    for bad in ("", "anonymous", "12", "07911 123456"):
        with pytest.raises(ValidationFailed):
            normalise_phone(bad, default_region=None)


def test_which_calls_are_missed() -> None:
    inbound = CallDirection.INBOUND
    assert is_missed(direction=inbound, answered=False, cause="normal")
    assert is_missed(direction=inbound, answered=True, cause="abandoned")
    assert not is_missed(direction=inbound, answered=True, cause="normal")
    assert not is_missed(direction=CallDirection.OUTBOUND, answered=False, cause="no_answer")


async def _player(runtime: Runtime, *, phone: str, vip_tier: str | None = None, **extra: str):  # type: ignore[no-untyped-def]
    async with runtime.uow() as uow:
        result = await player_service.upsert_player(
            uow,
            actor=cti_actor_system(),
            external_id=extra.get("external_id", "P-1"),
            fields=PlayerFields(
                name=extra.get("name", "Anna Lind"),
                phone=phone,
                vip_tier=vip_tier,
                language=extra.get("language", "en"),
            ),
            policy=runtime.policies.players,
        )
    return result.player


def cti_actor_system():  # type: ignore[no-untyped-def]
    from playerdesk.domain.permissions import Actor

    return Actor.system()


async def send(
    runtime: Runtime,
    pbx: AgentLogin,
    kind: CallEventKind,
    *,
    call_id: str = "c-1",
    direction: CallDirection = CallDirection.INBOUND,
    caller: str = CALLER,
    **extra: object,
) -> cti.CallEventResult:
    async with runtime.uow() as uow:
        return await cti.record_call_event(
            uow,
            actor=pbx.actor,
            event=cti.CallEvent(
                kind=kind,
                call_id=call_id,
                direction=direction,
                from_number=caller if direction is CallDirection.INBOUND else DESK,
                to_number=DESK if direction is CallDirection.INBOUND else caller,
                **extra,  # type: ignore[arg-type]
            ),
            policy=phone_policy(runtime),
        )


async def note_bodies(runtime: Runtime, actor, ticket_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    async with runtime.uow() as uow:
        messages = await message_service.list_messages(uow, actor=actor, ticket_id=ticket_id)
    return [m.body for m in messages if m.kind == MessageKind.NOTE.value]


async def test_answered_call_pops_the_agents_console_and_is_logged_on_a_phone_ticket(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus, clock: FrozenClock
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    agent = await make_agent(email="sara@example.test")
    player = await _player(runtime, phone=CALLER, vip_tier="gold")

    ringing = await send(runtime, pbx, CallEventKind.NEW_CALL, agent_email="Sara@example.test")
    assert ringing.call.player_id == player.id
    pops = [e for e in bus.published if isinstance(e, CallRinging)]
    assert len(pops) == 1
    pop = pops[0]
    assert (pop.agent_id, pop.player_name, pop.vip_tier, pop.number, pop.state) == (
        agent.id,
        "Anna Lind",
        "gold",
        CALLER_E164,
        "ringing",
    )
    assert topics_for(pop) == [agent_topic(agent.id)]
    assert event_from_json(event_to_json(pop)) == pop

    clock.advance(timedelta(seconds=5))
    await send(runtime, pbx, CallEventKind.ANSWER, agent_email="sara@example.test")
    assert [e.state for e in bus.published if isinstance(e, CallRinging)] == [
        "ringing",
        "answered",
    ]
    clock.advance(timedelta(seconds=125))
    ended = await send(
        runtime,
        pbx,
        CallEventKind.HANGUP,
        cause="normal",
        recording_url="https://pbx.example.test/rec/c-1.mp3",
    )
    call = ended.call
    assert (call.state, call.duration_seconds, call.cause) == ("ended", 125, "normal")
    assert ended.callback_id is None
    assert call.ticket_id is not None
    async with runtime.uow() as uow:
        from playerdesk.db.models import Ticket

        ticket = await uow.session.get(Ticket, call.ticket_id)
        assert ticket is not None
        assert (ticket.channel, ticket.player_id, ticket.assignee_id) == (
            Channel.PHONE.value,
            player.id,
            agent.id,
        )
    [note] = await note_bodies(runtime, agent.actor, call.ticket_id)
    assert "Inbound call" in note
    assert CALLER_E164 in note
    assert "2:05" in note
    assert "Answered (normal)" in note
    assert "https://pbx.example.test/rec/c-1.mp3" in note
    assert "Agent 2" not in note or "Agent" in note

    # The next call of the same player is logged on the same open phone ticket.
    await send(runtime, pbx, CallEventKind.NEW_CALL, call_id="c-2")
    await send(runtime, pbx, CallEventKind.ANSWER, call_id="c-2", agent_email=agent.email)
    again = await send(runtime, pbx, CallEventKind.HANGUP, call_id="c-2", duration_seconds=30)
    assert again.call.ticket_id == call.ticket_id
    assert len(await note_bodies(runtime, agent.actor, call.ticket_id)) == 2


async def test_events_are_idempotent_per_call_and_event(
    runtime: Runtime, make_agent: AgentFactory, bus: RecordingBus
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    agent = await make_agent()
    await _player(runtime, phone=CALLER)
    first = await send(runtime, pbx, CallEventKind.NEW_CALL, agent_email=agent.email)
    repeat = await send(runtime, pbx, CallEventKind.NEW_CALL, agent_email=agent.email)
    assert (first.duplicate, repeat.duplicate) == (False, True)
    assert repeat.call.id == first.call.id
    assert sum(isinstance(e, CallRinging) for e in bus.published) == 1
    hung = await send(runtime, pbx, CallEventKind.HANGUP)
    hung_again = await send(runtime, pbx, CallEventKind.HANGUP)
    assert hung_again.duplicate
    assert hung.call.ticket_id is not None
    notes = await note_bodies(runtime, agent.actor, hung.call.ticket_id)
    assert len(notes) == 1


async def test_missed_call_logs_a_ticket_and_queues_one_callback(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    agent = await make_agent()
    player = await _player(runtime, phone="+447911123456", vip_tier="silver")
    await send(runtime, pbx, CallEventKind.NEW_CALL, queue="vip")
    missed = await send(runtime, pbx, CallEventKind.HANGUP, cause="abandoned")
    assert missed.callback_id is not None
    assert missed.call.ticket_id is not None
    [note] = await note_bodies(runtime, agent.actor, missed.call.ticket_id)
    assert "Missed; a callback is queued (abandoned)" in note
    assert "Queue: vip" in note

    # A second missed call does not queue a second callback for the same number.
    await send(runtime, pbx, CallEventKind.NEW_CALL, call_id="c-2")
    second = await send(runtime, pbx, CallEventKind.HANGUP, call_id="c-2", cause="no_answer")
    assert second.callback_id == missed.callback_id
    async with runtime.read_uow() as uow:
        queue = await callback_service.list_callbacks(
            uow, actor=agent.actor, statuses=[], vip_tiers=list(runtime.settings.vip_tiers)
        )
    [queued] = queue
    assert queued.callback.source == CallbackSource.MISSED_CALL.value
    assert queued.callback.player_id == player.id
    assert queued.callback.phone == CALLER_E164
    assert queued.callback.ticket_id == missed.call.ticket_id
    assert queued.vip_tier == "silver"


async def test_unknown_caller_gets_a_player_and_a_phone_identity(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    await send(runtime, pbx, CallEventKind.NEW_CALL, caller="+48 512 345 678")
    ended = await send(runtime, pbx, CallEventKind.HANGUP, caller="+48 512 345 678")
    assert ended.call.player_id is not None
    # The number now finds that player at once.
    await send(runtime, pbx, CallEventKind.NEW_CALL, call_id="c-2", caller="0048512345678")
    again = await send(runtime, pbx, CallEventKind.HANGUP, call_id="c-2", caller="+48512345678")
    assert again.call.player_id == ended.call.player_id
    assert again.call.ticket_id == ended.call.ticket_id


async def test_withheld_number_is_logged_without_a_callback(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    pbx = await make_agent(AgentRole.ADMIN)
    ended = await send(runtime, pbx, CallEventKind.HANGUP, caller="anonymous")
    assert ended.call.player_number is None
    assert ended.call.ticket_id is not None
    assert ended.callback_id is None


async def test_only_a_role_with_cti_events_reports_calls(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent(AgentRole.SUPERVISOR)
    with pytest.raises(PermissionDenied):
        await send(runtime, agent, CallEventKind.NEW_CALL)


async def test_callback_queue_orders_by_vip_then_due_and_assigns_by_language(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    english = await make_agent(languages=["en"])
    polish = await make_agent(languages=["pl", "en"])
    supervisor = await make_agent(AgentRole.SUPERVISOR)
    await _player(runtime, phone="+447911123401", external_id="P-1", name="Regular")
    await _player(runtime, phone="+447911123402", external_id="P-2", name="Gold", vip_tier="gold")
    policy = callback_policy(runtime)

    async def ask(phone: str, *, language: str | None = None, minutes_ahead: int = 0) -> int:
        async with runtime.uow() as uow:
            callback = await callback_service.request_callback(
                uow,
                phone=phone,
                window_from=clock.now() + timedelta(minutes=minutes_ahead)
                if minutes_ahead
                else None,
                window_until=None,
                language=language,
                reason="Withdrawal question",
                source=CallbackSource.WIDGET,
                ip_key="203.0.113.9",
                policy=policy,
            )
        return callback.id

    regular = await ask("+447911123401")
    gold = await ask("+447911123402", minutes_ahead=60)
    polish_caller = await ask("+48512345678", language="pl", minutes_ahead=10)
    async with runtime.read_uow() as uow:
        queue = await callback_service.list_callbacks(
            uow, actor=english.actor, statuses=[], vip_tiers=list(runtime.settings.vip_tiers)
        )
    assert [item.callback.id for item in queue] == [gold, regular, polish_caller]

    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed):
            await callback_service.assign_callback(
                uow, actor=english.actor, callback_id=polish_caller, agent_id=english.id
            )
    async with runtime.uow() as uow:
        assigned = await callback_service.assign_callback(
            uow, actor=supervisor.actor, callback_id=polish_caller, agent_id=None
        )
    assert (assigned.agent_id, assigned.status) == (polish.id, CallbackStatus.ASSIGNED.value)
    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied):
            await callback_service.assign_callback(
                uow, actor=english.actor, callback_id=regular, agent_id=polish.id
            )
    # A callback a colleague has is not taken away by another agent.
    second_polish = await make_agent(languages=["pl"])
    async with runtime.uow() as uow:
        with pytest.raises(PermissionDenied):
            await callback_service.assign_callback(
                uow, actor=second_polish.actor, callback_id=polish_caller, agent_id=None
            )


async def test_callback_outcomes_done_or_retried_then_given_up(
    runtime: Runtime, make_agent: AgentFactory, clock: FrozenClock
) -> None:
    agent = await make_agent()
    pbx = await make_agent(AgentRole.ADMIN)
    await _player(runtime, phone=CALLER)
    missed = await send(runtime, pbx, CallEventKind.HANGUP)
    assert missed.callback_id is not None
    policy = callback_policy(runtime)

    async def outcome(reached: bool, note: str) -> tuple[str, int]:
        async with runtime.uow() as uow:
            callback = await callback_service.record_callback_outcome(
                uow,
                actor=agent.actor,
                callback_id=missed.callback_id,  # type: ignore[arg-type]
                reached=reached,
                note=note,
                policy=policy,
            )
        return callback.status, int((callback.due_at - clock.now()).total_seconds())

    assert await outcome(False, "No answer") == (CallbackStatus.WAITING.value, 1800)
    assert await outcome(False, "") == (CallbackStatus.WAITING.value, 3600)
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed):
            await callback_service.record_callback_outcome(
                uow,
                actor=agent.actor,
                callback_id=missed.callback_id,
                reached=True,
                note=" ",
                policy=policy,
            )
    status, _ = await outcome(True, "Explained the withdrawal delay; paid out tomorrow.")
    assert status == CallbackStatus.DONE.value
    assert missed.call.ticket_id is not None
    notes = await note_bodies(runtime, agent.actor, missed.call.ticket_id)
    assert notes[-1] == "Explained the withdrawal delay; paid out tomorrow."
    async with runtime.uow() as uow:
        with pytest.raises(ValidationFailed):
            await callback_service.record_callback_outcome(
                uow,
                actor=agent.actor,
                callback_id=missed.callback_id,
                reached=True,
                note="again",
                policy=policy,
            )


async def test_unanswered_attempts_give_up_after_the_last(
    runtime: Runtime, make_agent: AgentFactory
) -> None:
    agent = await make_agent()
    async with runtime.uow() as uow:
        callback = await callback_service.request_callback(
            uow,
            phone=CALLER,
            window_from=None,
            window_until=None,
            language=None,
            reason="",
            source=CallbackSource.HELPCENTER,
            ip_key="203.0.113.9",
            policy=callback_policy(runtime),
        )
    statuses = []
    for _ in range(3):
        async with runtime.uow() as uow:
            done = await callback_service.record_callback_outcome(
                uow,
                actor=agent.actor,
                callback_id=callback.id,
                reached=False,
                note="",
                policy=callback_policy(runtime),
            )
        statuses.append(done.status)
    assert statuses == ["waiting", "waiting", "failed"]


async def test_callback_requests_are_rate_limited_per_address_and_number(
    runtime: Runtime,
) -> None:
    from playerdesk.domain.errors import TooManyAttempts

    policy = callback_policy(runtime)

    async def ask(phone: str, ip: str) -> int:
        async with runtime.uow() as uow:
            callback = await callback_service.request_callback(
                uow,
                phone=phone,
                window_from=None,
                window_until=None,
                language=None,
                reason="",
                source=CallbackSource.WIDGET,
                ip_key=ip,
                policy=policy,
            )
        return callback.id

    # The same number asking again while it waits keeps its one place in the queue.
    first = await ask(CALLER, "198.51.100.1")
    assert await ask(CALLER, "198.51.100.2") == first
    for index in range(policy.limit_per_ip - 1):
        await ask(f"+4479111235{index:02d}", "198.51.100.1")
    with pytest.raises(TooManyAttempts):
        await ask("+447911123599", "198.51.100.1")
    with pytest.raises(ValidationFailed):
        await ask("not a number", "192.0.2.1")
