"""A ticket's SLA as the console shows it: one badge with the state and a countdown.

The badge carries the deadline (or, once breached, the moment it was missed) as an ISO time,
so the console's script ticks it every second without asking the server; the page also gives
the server's time, so a browser with a wrong clock still counts right. The server renders
the first value, so the page is right before any script runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from playerdesk.services.sla import TicketSla

AT_RISK_STATES = frozenset({"warning", "breached"})


def format_duration(seconds: int, *, days_template: str) -> str:
    """0:42, 4:05, 1:02:03; a day or more as the translated "{days} d {hours} h"."""
    seconds = max(0, seconds)
    if seconds >= 86400:
        return days_template.format(days=seconds // 86400, hours=(seconds % 86400) // 3600)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


@dataclass(frozen=True, kw_only=True)
class SlaBadge:
    state: str  # breached, warning, running, paused, met or none
    metric: str | None  # the clock the badge counts for
    due_at: datetime | None  # counting down to this
    overdue_since: datetime | None  # breached: counting up from this
    paused_seconds: int | None  # paused: what is left when the clock runs again

    def seconds(self, now: datetime) -> int | None:
        """What the badge shows: seconds left, seconds overdue, or the paused remainder."""
        if self.state == "breached" and self.overdue_since is not None:
            return int((now - self.overdue_since).total_seconds())
        if self.state in ("running", "warning") and self.due_at is not None:
            return int((self.due_at - now).total_seconds())
        if self.state == "paused":
            return self.paused_seconds
        return None

    def json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "metric": self.metric,
            "due_at": self.due_at.isoformat() if self.due_at else None,
            "overdue_since": self.overdue_since.isoformat() if self.overdue_since else None,
            "paused_seconds": self.paused_seconds,
        }


def badge(sla: TicketSla | None) -> SlaBadge:
    if sla is None:
        return SlaBadge(
            state="none", metric=None, due_at=None, overdue_since=None, paused_seconds=None
        )
    live = [clock for clock in sla.clocks if clock.stopped_at is None]
    metric: str | None = None
    overdue_since = None
    paused_seconds = None
    if sla.state == "breached":
        missed = [
            (clock.due_at or clock.breached_at, clock.metric.value)
            for clock in live
            if clock.breached_at is not None
        ]
        if missed:
            overdue_since, metric = min(missed)
    elif sla.next_due_at is not None:
        due = [clock for clock in live if clock.due_at == sla.next_due_at]
        metric = due[0].metric.value if due else None
    if sla.state == "paused":
        waiting = [clock for clock in live if clock.state == "paused"]
        shortest = min(waiting, key=lambda clock: clock.remaining_seconds, default=None)
        if shortest is not None:
            metric = shortest.metric.value
            paused_seconds = max(0, shortest.remaining_seconds)
    return SlaBadge(
        state=sla.state,
        metric=metric,
        due_at=sla.next_due_at if sla.state in ("running", "warning") else None,
        overdue_since=overdue_since,
        paused_seconds=paused_seconds,
    )
