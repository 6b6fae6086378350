"""Routing decisions: which team a conversation belongs to, which agent takes it, and where
it stands in the queue while nobody can. Pure functions over snapshots the services load."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from playerdesk.domain.enums import Channel, Priority, VipMatch
from playerdesk.domain.errors import ValidationFailed

# Capacity is counted in hundredths of a live chat, so that lighter channels can weigh less
# without fractions: an agent with room for 3 chats has 300 units.
UNITS_PER_CHAT = 100

DEFAULT_CHANNEL_WEIGHTS: Mapping[Channel, int] = {
    Channel.WEB_CHAT: 100,
    Channel.PHONE: 100,
    Channel.TELEGRAM: 50,
    Channel.WHATSAPP: 50,
    Channel.VIBER: 50,
    Channel.EMAIL: 25,
    Channel.FORM: 25,
    Channel.API: 25,
}

RESPONSIBLE_GAMBLING_TOPIC = "responsible_gambling"

# The topics the shipped rules route, one team each (issue 4's list of teams).
STANDARD_TOPICS: tuple[str, ...] = (
    "payments",
    "verification",
    "bonuses",
    "technical",
    "vip",
    RESPONSIBLE_GAMBLING_TOPIC,
    "complaints",
    "general",
)


class TeamPurpose(StrEnum):
    """Teams the router needs to know by role rather than by a rule."""

    GENERAL = "general"  # where a conversation no rule matches goes
    VIP = "vip"  # VIP players whose personal manager cannot take them
    SENIOR = "senior"  # escalations
    RESPONSIBLE_GAMBLING = "responsible_gambling"  # risk signals, always first


def parse_channel_weights(raw: Mapping[str, int]) -> dict[Channel, int]:
    """Operator-set weights over the defaults; a weight is 1..UNITS_PER_CHAT units."""
    weights = dict(DEFAULT_CHANNEL_WEIGHTS)
    for name, units in raw.items():
        try:
            channel = Channel(name)
        except ValueError:
            raise ValidationFailed(f"unknown channel {name!r}", field="channel_weights") from None
        if not 1 <= units <= UNITS_PER_CHAT:
            raise ValidationFailed(
                f"a channel weighs 1 to {UNITS_PER_CHAT} units", field="channel_weights"
            )
        weights[channel] = units
    return weights


@dataclass(frozen=True, kw_only=True)
class RoutingRule:
    rule_id: int
    team_id: int
    topic: str | None = None
    language: str | None = None
    channel: Channel | None = None
    vip: VipMatch = VipMatch.ANY

    def matches(self, facts: RoutingFacts) -> bool:
        return (
            (self.topic is None or self.topic == facts.topic)
            and (self.language is None or self.language == facts.language)
            and (self.channel is None or self.channel is facts.channel)
            and self.vip.admits(facts.vip_tier)
        )


@dataclass(frozen=True, kw_only=True)
class RoutingFacts:
    """What routing knows about a conversation."""

    channel: Channel
    topic: str | None
    language: str
    priority: Priority
    vip_tier: str | None
    personal_manager_id: int | None

    @property
    def responsible_gambling(self) -> bool:
        return self.topic == RESPONSIBLE_GAMBLING_TOPIC


@dataclass(frozen=True, kw_only=True)
class TeamChoice:
    team_id: int | None
    rule_id: int | None
    reason: str  # "responsible_gambling", "rule", "vip", "general" or "no_team"


def choose_team(
    *, rules: Sequence[RoutingRule], facts: RoutingFacts, purposes: Mapping[TeamPurpose, int]
) -> TeamChoice:
    """Player protection first, then the first rule that matches (rules are ordered), then
    the VIP team for VIP players, then General. Never raises: an unmatched conversation goes
    to General, or stays without a team when there is no General team (the caller logs it)."""
    protection_team = purposes.get(TeamPurpose.RESPONSIBLE_GAMBLING)
    if facts.responsible_gambling and protection_team is not None:
        return TeamChoice(team_id=protection_team, rule_id=None, reason="responsible_gambling")
    for rule in rules:
        if rule.matches(facts):
            return TeamChoice(team_id=rule.team_id, rule_id=rule.rule_id, reason="rule")
    vip_team = purposes.get(TeamPurpose.VIP)
    if facts.vip_tier is not None and vip_team is not None:
        return TeamChoice(team_id=vip_team, rule_id=None, reason="vip")
    general = purposes.get(TeamPurpose.GENERAL)
    if general is not None:
        return TeamChoice(team_id=general, rule_id=None, reason="general")
    return TeamChoice(team_id=None, rule_id=None, reason="no_team")


@dataclass(frozen=True, kw_only=True)
class AgentCapacity:
    """One agent as routing sees them at this moment."""

    agent_id: int
    languages: frozenset[str]
    team_ids: frozenset[int]
    capacity_units: int
    load_units: int
    idle_since: datetime
    available: bool  # active, online with a live console, and on shift

    def has_room_for(self, weight_units: int) -> bool:
        return self.available and self.load_units + weight_units <= self.capacity_units

    @property
    def load_ratio(self) -> float:
        return self.load_units / self.capacity_units if self.capacity_units > 0 else 1.0


@dataclass(frozen=True, kw_only=True)
class AgentChoice:
    agent_id: int
    reason: str  # "personal_manager", "least_loaded" or "least_loaded_any_language"


def choose_agent(
    *,
    facts: RoutingFacts,
    team_id: int | None,
    agents: Sequence[AgentCapacity],
    weight_units: int,
) -> AgentChoice | None:
    """A VIP's personal manager first when they have room; then the least loaded team member
    who speaks the player's language (longest idle breaks ties). When no available team
    member speaks it at all, any available member will do rather than nobody; when speakers
    are there but full, the conversation waits for them. `None`: wait in the queue."""
    if facts.vip_tier is not None and facts.personal_manager_id is not None:
        for agent in agents:
            if agent.agent_id == facts.personal_manager_id and agent.has_room_for(weight_units):
                return AgentChoice(agent_id=agent.agent_id, reason="personal_manager")
    # Without a team (no teams set up) everyone available serves the one floor queue.
    members = [
        agent
        for agent in agents
        if agent.available and (team_id is None or team_id in agent.team_ids)
    ]
    speakers = [agent for agent in members if facts.language in agent.languages]
    pool, reason = (
        (speakers, "least_loaded") if speakers else (members, "least_loaded_any_language")
    )
    with_room = [agent for agent in pool if agent.has_room_for(weight_units)]
    if not with_room:
        return None
    best = min(with_room, key=lambda agent: (agent.load_ratio, agent.idle_since, agent.agent_id))
    return AgentChoice(agent_id=best.agent_id, reason=reason)


def queue_rank(*, facts: RoutingFacts, vip_tiers: Sequence[str]) -> int:
    """Higher is served first: responsible gambling, then urgent, then VIP tier (the
    operator's list is ordered lowest first), then priority. Waiting time breaks ties."""
    if facts.responsible_gambling:
        band = 2
    elif facts.priority is Priority.URGENT:
        band = 1
    else:
        band = 0
    tier = vip_tiers.index(facts.vip_tier) + 1 if facts.vip_tier in vip_tiers else 0
    if facts.vip_tier is not None and tier == 0:
        tier = 1  # a tier the operator no longer lists still counts as VIP
    return band * 10_000 + tier * 10 + facts.priority.rank


# With nothing measured yet, assume an agent frees up for the next chat this often.
DEFAULT_HANDLING_TIME = timedelta(minutes=4)


def estimate_wait(
    *, position: int, agents_serving: int, recent_handling_time: timedelta | None
) -> timedelta | None:
    """Position 1 is next. With agents serving the queue in parallel, each frees a slot about
    every `recent_handling_time`; `None` when nobody serves the queue now (no estimate)."""
    if position < 1:
        raise ValueError("queue positions start at 1")
    if agents_serving < 1:
        return None
    per_slot = recent_handling_time or DEFAULT_HANDLING_TIME
    rounds = (position + agents_serving - 1) // agents_serving
    return per_slot * rounds
