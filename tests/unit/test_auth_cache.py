from __future__ import annotations

from datetime import UTC, datetime, timedelta

from playerdesk.domain.enums import AgentRole, AuthMethod
from playerdesk.domain.events import AgentAccessChanged, PresenceChanged
from playerdesk.domain.permissions import Actor
from playerdesk.services.auth_cache import ActorCache

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def actor(agent_id: int) -> Actor:
    return Actor(agent_id=agent_id, role=AgentRole.AGENT, method=AuthMethod.SESSION, ip="1.2.3.4")


def test_entries_last_the_ttl_or_the_credential_whichever_is_shorter() -> None:
    cache = ActorCache(ttl=timedelta(seconds=5), max_entries=10)
    cache.put("a", actor(1), now=NOW, expires_at=LATER, generation=cache.generation)
    cache.put("b", actor(2), now=NOW, expires_at=NOW + timedelta(seconds=2), generation=0)
    hit = cache.get("a", now=NOW + timedelta(seconds=4), ip="5.6.7.8")
    assert hit is not None and hit.agent_id == 1 and hit.ip == "5.6.7.8"
    assert cache.get("b", now=NOW + timedelta(seconds=2), ip=None) is None
    assert cache.get("a", now=NOW + timedelta(seconds=5), ip=None) is None
    assert len(cache) == 0


def test_the_cache_is_bounded_and_drops_the_oldest() -> None:
    cache = ActorCache(ttl=timedelta(seconds=5), max_entries=2)
    for key, agent_id in (("a", 1), ("b", 2), ("c", 3)):
        cache.put(key, actor(agent_id), now=NOW, expires_at=LATER, generation=0)
    assert len(cache) == 2
    assert cache.get("a", now=NOW, ip=None) is None
    assert cache.get("c", now=NOW, ip=None) is not None


def test_revocation_forgets_the_agent_and_voids_checks_already_running() -> None:
    cache = ActorCache(ttl=timedelta(seconds=5), max_entries=10)
    for key, agent_id in (("a", 1), ("b", 1), ("c", 2)):
        cache.put(key, actor(agent_id), now=NOW, expires_at=LATER, generation=0)
    started = cache.generation  # a check reads the database...
    cache.offer(PresenceChanged(occurred_at=NOW, agent_id=1, presence="away"))
    assert len(cache) == 3
    cache.offer(AgentAccessChanged(occurred_at=NOW, agent_id=1))  # ...the agent signs out...
    assert [cache.get(key, now=NOW, ip=None) is None for key in "abc"] == [True, True, False]
    cache.put("a", actor(1), now=NOW, expires_at=LATER, generation=started)  # ...stale answer
    assert cache.get("a", now=NOW, ip=None) is None


def test_a_zero_ttl_turns_the_cache_off() -> None:
    cache = ActorCache(ttl=timedelta(0), max_entries=10)
    cache.put("a", actor(1), now=NOW, expires_at=LATER, generation=0)
    assert cache.get("a", now=NOW, ip=None) is None
