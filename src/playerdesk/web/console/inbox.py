"""The inbox's views (Mine, Unassigned, My teams, All, At risk) and filters, read from the
query string.

A console page never fails on a hand-edited or stale query string: an unknown view or filter
value is ignored, so the agent still sees a list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import TypeVar
from urllib.parse import urlencode

from playerdesk.db.models import Ticket
from playerdesk.domain.enums import Channel, Priority, TicketStatus
from playerdesk.services.tickets import TicketFilter


class View(StrEnum):
    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAMS = "teams"
    ALL = "all"
    # Running SLA clocks past their warning point or deadline, soonest due first.
    AT_RISK = "at_risk"


DEFAULT_VIEW = View.ALL
FILTER_NAMES = ("channel", "status", "priority", "language")


E = TypeVar("E", bound=StrEnum)


def _choice(kind: type[E], raw: str | None) -> E | None:
    try:
        return kind(raw) if raw else None
    except ValueError:
        return None


@dataclass(frozen=True, kw_only=True)
class InboxQuery:
    view: View = DEFAULT_VIEW
    channel: Channel | None = None
    status: TicketStatus | None = None
    priority: Priority | None = None
    language: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str], *, languages: list[str]) -> InboxQuery:
        language = params.get("language")
        return cls(
            view=_choice(View, params.get("view")) or DEFAULT_VIEW,
            channel=_choice(Channel, params.get("channel")),
            status=_choice(TicketStatus, params.get("status")),
            priority=_choice(Priority, params.get("priority")),
            language=language if language in languages else None,
        )

    def ticket_filter(self, *, agent_id: int | None, team_ids: list[int]) -> TicketFilter:
        return TicketFilter(
            statuses=[self.status] if self.status else [],
            channel=self.channel,
            priority=self.priority,
            language=self.language,
            assignee_id=agent_id if self.view is View.MINE else None,
            unassigned=self.view is View.UNASSIGNED,
            team_ids=team_ids if self.view is View.TEAMS else None,
        )

    def admits(self, ticket: Ticket) -> bool:
        """The filters, applied to a list that does not come from `ticket_filter` (at risk)."""
        return (
            (self.status is None or ticket.status == self.status)
            and (self.channel is None or ticket.channel == self.channel)
            and (self.priority is None or ticket.priority == self.priority)
            and (self.language is None or ticket.language == self.language)
        )

    def filters(self) -> dict[str, str]:
        """The filters that are set, as query parameters (raw values)."""
        values = {
            "channel": self.channel,
            "status": self.status,
            "priority": self.priority,
            "language": self.language,
        }
        return {name: str(value) for name, value in values.items() if value}

    def params(self) -> dict[str, str]:
        """Query parameters for this view and its filters; the default view goes unsaid."""
        view = {} if self.view is DEFAULT_VIEW else {"view": self.view.value}
        return {**view, **self.filters()}

    def url(self, *, view: View | None = None, cursor: str | None = None) -> str:
        query = replace(self, view=view) if view is not None else self
        params = query.params()
        if cursor:
            params["cursor"] = cursor
        return "/console" + (f"?{urlencode(params)}" if params else "")

    @property
    def filtered(self) -> bool:
        return bool(self.filters())
