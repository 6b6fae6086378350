"""Routing decisions as pure functions: team choice, agent choice, queue order, wait."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from playerdesk.domain.enums import Channel, Priority, VipMatch
from playerdesk.domain.errors import ValidationFailed
from playerdesk.domain.routing import (
    AgentCapacity,
    RoutingFacts,
    RoutingRule,
    TeamPurpose,
    choose_agent,
    choose_team,
    estimate_wait,
    parse_channel_weights,
    queue_rank,
)

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
GENERAL, VIP, PAYMENTS, PROTECTION, SWEDISH = 1, 2, 3, 4, 5
PURPOSES = {
    TeamPurpose.GENERAL: GENERAL,
    TeamPurpose.VIP: VIP,
    TeamPurpose.RESPONSIBLE_GAMBLING: PROTECTION,
}
RULES = [
    RoutingRule(rule_id=10, team_id=PAYMENTS, topic="payments"),
    RoutingRule(rule_id=11, team_id=SWEDISH, language="sv", vip=VipMatch.NOT_VIP),
]


def facts(**overrides: object) -> RoutingFacts:
    values: dict[str, object] = {
        "channel": Channel.WEB_CHAT,
        "topic": None,
        "language": "en",
        "priority": Priority.NORMAL,
        "vip_tier": None,
        "personal_manager_id": None,
    }
    values.update(overrides)
    return RoutingFacts(**values)  # type: ignore[arg-type]


def agent(agent_id: int, **overrides: object) -> AgentCapacity:
    values: dict[str, object] = {
        "agent_id": agent_id,
        "languages": frozenset({"en"}),
        "team_ids": frozenset({GENERAL}),
        "capacity_units": 300,
        "load_units": 0,
        "idle_since": T0,
        "available": True,
    }
    values.update(overrides)
    return AgentCapacity(**values)  # type: ignore[arg-type]


def test_rules_are_ordered_and_the_first_match_wins() -> None:
    choice = choose_team(
        rules=RULES, facts=facts(topic="payments", language="sv"), purposes=PURPOSES
    )
    assert (choice.team_id, choice.rule_id, choice.reason) == (PAYMENTS, 10, "rule")
    swedish = choose_team(rules=RULES, facts=facts(language="sv"), purposes=PURPOSES)
    assert (swedish.team_id, swedish.rule_id) == (SWEDISH, 11)


def test_responsible_gambling_goes_to_protection_before_any_rule() -> None:
    rules = [RoutingRule(rule_id=1, team_id=PAYMENTS)]  # would match everything
    choice = choose_team(rules=rules, facts=facts(topic="responsible_gambling"), purposes=PURPOSES)
    assert (choice.team_id, choice.reason) == (PROTECTION, "responsible_gambling")


def test_vip_without_a_rule_goes_to_the_vip_team_and_others_to_general() -> None:
    vip = choose_team(rules=RULES, facts=facts(vip_tier="gold", language="sv"), purposes=PURPOSES)
    assert (vip.team_id, vip.reason) == (VIP, "vip")  # the Swedish rule excludes VIPs
    plain = choose_team(rules=RULES, facts=facts(topic="bonuses"), purposes=PURPOSES)
    assert (plain.team_id, plain.reason) == (GENERAL, "general")


def test_no_rule_and_no_general_team_is_not_an_error() -> None:
    choice = choose_team(rules=[], facts=facts(), purposes={})
    assert (choice.team_id, choice.reason) == (None, "no_team")


def test_the_personal_manager_comes_first_when_they_have_room() -> None:
    manager = agent(7, team_ids=frozenset(), load_units=200)
    others = [agent(1, team_ids=frozenset({VIP}))]
    vip = facts(vip_tier="gold", personal_manager_id=7)
    chosen = choose_agent(facts=vip, team_id=VIP, agents=[*others, manager], weight_units=100)
    assert chosen is not None and (chosen.agent_id, chosen.reason) == (7, "personal_manager")
    full = agent(7, team_ids=frozenset(), load_units=250)
    fallback = choose_agent(facts=vip, team_id=VIP, agents=[*others, full], weight_units=100)
    assert fallback is not None and fallback.agent_id == 1
    # A manager is a VIP privilege: for a player without a tier the field means nothing.
    plain = choose_agent(
        facts=facts(personal_manager_id=7), team_id=VIP, agents=[*others, manager], weight_units=50
    )
    assert plain is not None and plain.agent_id == 1


def test_least_loaded_then_longest_idle_and_never_over_capacity() -> None:
    busy = agent(1, load_units=200)
    light = agent(2, load_units=100, idle_since=T0)
    light_but_recent = agent(3, load_units=100, idle_since=T0 + timedelta(minutes=5))
    chosen = choose_agent(
        facts=facts(), team_id=GENERAL, agents=[busy, light_but_recent, light], weight_units=100
    )
    assert chosen is not None and chosen.agent_id == 2
    everyone_full = [agent(1, load_units=300), agent(2, load_units=250)]
    assert (
        choose_agent(facts=facts(), team_id=GENERAL, agents=everyone_full, weight_units=100) is None
    )
    # ...but an email (25 units) still fits beside the 250.
    email = choose_agent(facts=facts(), team_id=GENERAL, agents=everyone_full, weight_units=25)
    assert email is not None and email.agent_id == 2


def test_load_is_compared_as_a_share_of_capacity() -> None:
    small = agent(1, capacity_units=100, load_units=50)  # half full
    large = agent(2, capacity_units=400, load_units=100)  # a quarter full
    chosen = choose_agent(facts=facts(), team_id=GENERAL, agents=[small, large], weight_units=25)
    assert chosen is not None and chosen.agent_id == 2


def test_language_speakers_first_and_a_full_speaker_means_waiting() -> None:
    swede = agent(1, languages=frozenset({"sv", "en"}), load_units=300)
    english = agent(2)
    swedish_chat = facts(language="sv")
    assert (
        choose_agent(facts=swedish_chat, team_id=GENERAL, agents=[swede, english], weight_units=100)
        is None
    )
    # Nobody available speaks Polish at all: anyone will do rather than nobody.
    polish = choose_agent(
        facts=facts(language="pl"), team_id=GENERAL, agents=[swede, english], weight_units=100
    )
    assert polish is not None and (polish.agent_id, polish.reason) == (
        2,
        "least_loaded_any_language",
    )


def test_unavailable_and_other_team_agents_never_get_chats() -> None:
    away = agent(1, available=False)
    elsewhere = agent(2, team_ids=frozenset({PAYMENTS}))
    assert (
        choose_agent(facts=facts(), team_id=GENERAL, agents=[away, elsewhere], weight_units=100)
        is None
    )
    # Without teams the floor is one queue that every available agent serves.
    floor = choose_agent(facts=facts(), team_id=None, agents=[away, elsewhere], weight_units=100)
    assert floor is not None and floor.agent_id == 2


def test_queue_rank_orders_protection_urgent_vip_tier_then_priority() -> None:
    tiers = ["bronze", "silver", "gold"]
    ranks = [
        queue_rank(facts=facts(topic="responsible_gambling"), vip_tiers=tiers),
        queue_rank(facts=facts(priority=Priority.URGENT), vip_tiers=tiers),
        queue_rank(facts=facts(vip_tier="gold", priority=Priority.LOW), vip_tiers=tiers),
        queue_rank(facts=facts(vip_tier="bronze", priority=Priority.HIGH), vip_tiers=tiers),
        queue_rank(facts=facts(priority=Priority.HIGH), vip_tiers=tiers),
        queue_rank(facts=facts(), vip_tiers=tiers),
        queue_rank(facts=facts(priority=Priority.LOW), vip_tiers=tiers),
    ]
    assert ranks == sorted(ranks, reverse=True)
    assert len(set(ranks)) == len(ranks)
    retired_tier = queue_rank(facts=facts(vip_tier="diamond"), vip_tiers=tiers)
    assert retired_tier > queue_rank(facts=facts(priority=Priority.HIGH), vip_tiers=tiers)


def test_estimated_wait_grows_with_position_and_shrinks_with_agents() -> None:
    handling = timedelta(minutes=3)
    assert estimate_wait(position=1, agents_serving=2, recent_handling_time=handling) == handling
    assert (
        estimate_wait(position=3, agents_serving=2, recent_handling_time=handling) == 2 * handling
    )
    assert estimate_wait(position=3, agents_serving=0, recent_handling_time=handling) is None
    assert estimate_wait(position=1, agents_serving=1, recent_handling_time=None) == timedelta(
        minutes=4
    )
    with pytest.raises(ValueError, match="positions start at 1"):
        estimate_wait(position=0, agents_serving=1, recent_handling_time=None)


def test_channel_weights_are_checked() -> None:
    weights = parse_channel_weights({"email": 10})
    assert weights[Channel.EMAIL] == 10 and weights[Channel.WEB_CHAT] == 100
    with pytest.raises(ValidationFailed) as unknown:
        parse_channel_weights({"fax": 10})
    assert unknown.value.field == "channel_weights"
    with pytest.raises(ValidationFailed):
        parse_channel_weights({"email": 0})
