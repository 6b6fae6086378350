"""A per-process cache of who a session cookie or API token belongs to.

A console sends a burst of requests (and a heartbeat per open socket); checking the
credential in the database for each one costs a transaction. The cache keeps the checked
`Actor` for a few seconds, keyed by the credential's SHA-256 (never the credential).

Staleness is bounded on both sides:
- in the process that logs out, revokes a token or changes an agent's role, activity,
  password or name, the agent's entries are dropped when that use case commits (its
  `AgentAccessChanged` event passes through `forget` before it reaches the bus), and a check
  that started before the revocation cannot put its stale answer back (`generation`);
- in other processes the same event arrives over the bus (the hub hands it to `offer`),
  and if it is lost, an entry lives `ttl` at most.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from playerdesk.domain.events import AgentAccessChanged, Event
from playerdesk.domain.permissions import Actor


@dataclass(frozen=True, kw_only=True)
class _Entry:
    actor: Actor
    valid_until: datetime


class ActorCache:
    def __init__(self, *, ttl: timedelta, max_entries: int) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self.generation = 0

    @property
    def enabled(self) -> bool:
        return self.ttl > timedelta(0) and self.max_entries > 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, *, now: datetime, ip: str | None) -> Actor | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.valid_until <= now:
            del self._entries[key]
            return None
        return dataclasses.replace(entry.actor, ip=ip)

    def put(
        self, key: str, actor: Actor, *, now: datetime, expires_at: datetime, generation: int
    ) -> None:
        """Remember `actor` until the TTL or the credential's own expiry, whichever is
        first; unless something was revoked since `generation` was read (the answer
        may predate the revocation)."""
        if not self.enabled or generation != self.generation:
            return
        self._entries[key] = _Entry(
            actor=dataclasses.replace(actor, ip=None), valid_until=min(now + self.ttl, expires_at)
        )
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def forget(self, *, agent_id: int) -> None:
        self.generation += 1
        for key in [k for k, entry in self._entries.items() if entry.actor.agent_id == agent_id]:
            del self._entries[key]

    def offer(self, event: Event) -> None:
        """The hub's listener interface: revocations from any process."""
        if isinstance(event, AgentAccessChanged):
            self.forget(agent_id=event.agent_id)
