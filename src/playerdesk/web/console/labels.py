"""Translated labels for the values the console shows (ticket status, priority, channel, SLA
state and metric, escalation trigger).

The database keeps the raw enum values, and the templates keep them in CSS classes; only
the text a person reads goes through the catalog. Each label carries a context, because
"Normal", "New" or "Email" translate differently as a priority, a status or a channel.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

from playerdesk.domain.enums import Channel, Priority, TicketStatus
from playerdesk.i18n import translations

PGettext = Callable[[str, str], str]


def _status_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        TicketStatus.NEW: pgettext("ticket status", "New"),
        TicketStatus.OPEN: pgettext("ticket status", "Open"),
        TicketStatus.PENDING: pgettext("ticket status", "Pending"),
        TicketStatus.ON_HOLD: pgettext("ticket status", "On hold"),
        TicketStatus.RESOLVED: pgettext("ticket status", "Resolved"),
        TicketStatus.CLOSED: pgettext("ticket status", "Closed"),
    }


def _priority_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        Priority.LOW: pgettext("ticket priority", "Low"),
        Priority.NORMAL: pgettext("ticket priority", "Normal"),
        Priority.HIGH: pgettext("ticket priority", "High"),
        Priority.URGENT: pgettext("ticket priority", "Urgent"),
    }


def _channel_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        Channel.WEB_CHAT: pgettext("channel", "Live chat"),
        Channel.EMAIL: pgettext("channel", "Email"),
        Channel.FORM: pgettext("channel", "Contact form"),
        Channel.TELEGRAM: pgettext("channel", "Telegram"),
        Channel.WHATSAPP: pgettext("channel", "WhatsApp"),
        Channel.VIBER: pgettext("channel", "Viber"),
        Channel.PHONE: pgettext("channel", "Phone"),
        Channel.API: pgettext("channel", "API"),
    }


def _sla_state_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        # Translators: an SLA clock with time to spare.
        "running": pgettext("SLA state", "On track"),
        # Translators: an SLA clock past its warning point, close to its deadline.
        "warning": pgettext("SLA state", "At risk"),
        # Translators: an SLA deadline that has passed without an answer.
        "breached": pgettext("SLA state", "Breached"),
        # Translators: an SLA clock stopped while the team waits on the player.
        "paused": pgettext("SLA state", "Paused"),
        # Translators: every SLA deadline of the conversation was kept.
        "met": pgettext("SLA state", "Met"),
    }


def _sla_metric_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        "first_response": pgettext("SLA metric", "First response"),
        "next_response": pgettext("SLA metric", "Next response"),
        "resolution": pgettext("SLA metric", "Resolution"),
    }


def _trigger_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        # Translators: an escalation an agent asked for.
        "manual": pgettext("escalation trigger", "By an agent"),
        "sla_warning": pgettext("escalation trigger", "SLA warning"),
        "sla_breach": pgettext("escalation trigger", "SLA breach"),
        "unresolved": pgettext("escalation trigger", "Unresolved too long"),
    }


@dataclass(frozen=True)
class Labels:
    """Lookups that fall back to the raw value, so a value added later still shows."""

    statuses: Mapping[str, str]
    priorities: Mapping[str, str]
    channels: Mapping[str, str]
    sla_states: Mapping[str, str]
    sla_metrics: Mapping[str, str]
    triggers: Mapping[str, str]

    def status(self, value: str) -> str:
        return self.statuses.get(value, value)

    def priority(self, value: str) -> str:
        return self.priorities.get(value, value)

    def channel(self, value: str) -> str:
        return self.channels.get(value, value)

    def sla_state(self, value: str) -> str:
        return self.sla_states.get(value, value)

    def sla_metric(self, value: str | None) -> str:
        return self.sla_metrics.get(value, value) if value else ""

    def trigger(self, value: str) -> str:
        return self.triggers.get(value, value)


@cache
def labels(language: str) -> Labels:
    pgettext = translations(language).pgettext
    return Labels(
        statuses={str(key): text for key, text in _status_labels(pgettext).items()},
        priorities={str(key): text for key, text in _priority_labels(pgettext).items()},
        channels={str(key): text for key, text in _channel_labels(pgettext).items()},
        sla_states=_sla_state_labels(pgettext),
        sla_metrics=_sla_metric_labels(pgettext),
        triggers=_trigger_labels(pgettext),
    )
