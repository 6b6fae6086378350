"""The support channels the help centre shows a player, with their hours and what each
promises: taken from the floor's own configuration (the General team's business calendar,
the SLA policies' first-response targets) and the settings, so that the page never promises
what the desk is not set up to keep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from babel.dates import format_timedelta, get_day_names

from playerdesk.db.uow import UnitOfWork
from playerdesk.domain.calendar import BusinessCalendar
from playerdesk.domain.enums import Channel, Priority
from playerdesk.domain.routing import TeamPurpose
from playerdesk.domain.sla import SlaTicketFacts, match_policy
from playerdesk.i18n import translations
from playerdesk.services.floor_config import floor_config
from playerdesk.settings import Settings

CHAT, EMAIL, FORM, CALLBACK = "chat", "email", "form", "callback"


@dataclass(frozen=True, kw_only=True)
class SupportChannel:
    key: str  # chat | email | form | callback
    name: str
    promise: str
    href: str | None = None  # where the channel is reached (mailto:, the form)
    link_text: str | None = None


@dataclass(frozen=True, kw_only=True)
class Support:
    hours: str  # when agents answer, on every channel
    channels: list[SupportChannel]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def describe_hours(calendar: BusinessCalendar, *, language: str) -> str:
    """A calendar as a player reads it: "Every day, around the clock", or the working days
    grouped ("Monday–Friday 09:00–17:00; Saturday 10:00–14:00 (Europe/Warsaw)")."""
    _ = translations(language).gettext
    if not calendar.intervals:
        return _("Every day, around the clock")
    day_names = get_day_names("wide", locale=language)
    by_day: dict[int, tuple[tuple[int, int], ...]] = {}
    for interval in sorted(calendar.intervals, key=lambda item: (item.weekday, item.start_minute)):
        by_day[interval.weekday] = (
            *by_day.get(interval.weekday, ()),
            (interval.start_minute, interval.end_minute),
        )
    if len(by_day) == 7 and set(by_day.values()) == {((0, 24 * 60),)}:
        return _("Every day, around the clock")
    parts: list[str] = []
    # Consecutive weekdays with the same hours make one group.
    runs: list[list[int]] = []
    for day in sorted(by_day):
        if runs and runs[-1][-1] == day - 1 and by_day[runs[-1][-1]] == by_day[day]:
            runs[-1].append(day)
        else:
            runs.append([day])
    for run in runs:
        days = (
            str(day_names[run[0]]) if len(run) == 1 else f"{day_names[run[0]]}–{day_names[run[-1]]}"
        )
        times = ", ".join(f"{_clock(start)}–{_clock(end)}" for start, end in by_day[run[0]])
        parts.append(f"{days} {times}")
    # Translators: {hours} is a list of working days and times, {zone} a time zone name.
    return _("{hours} ({zone} time)").format(hours="; ".join(parts), zone=calendar.time_zone)


def _within(target: timedelta | None, *, language: str) -> str | None:
    if target is None:
        return None
    return str(format_timedelta(target, locale=language, threshold=2))


async def support_channels(uow: UnitOfWork, *, settings: Settings, language: str) -> Support:
    """When the team answers, and live chat, email, the contact form and a call back, in
    that order.
    Reads the floor configuration, which is cached for a few seconds per process (no query
    on most pages)."""
    catalog = translations(language)
    _ = catalog.gettext
    config = await floor_config(uow)
    general_team = config.purposes.get(TeamPurpose.GENERAL)
    rules = [rule for _id, rule in config.sla_policies]

    def first_response(channel: Channel) -> timedelta | None:
        facts = SlaTicketFacts(
            channel=channel, priority=Priority.NORMAL, vip_tier=None, team_id=general_team
        )
        rule = match_policy(rules=rules, facts=facts)
        return rule.targets.first_response if rule is not None else None

    chat_within = _within(first_response(Channel.WEB_CHAT), language=language)
    email_within = _within(first_response(Channel.EMAIL), language=language)
    form_within = _within(first_response(Channel.FORM), language=language)
    fallback = settings.email_acknowledgement_promise or _("We answer as soon as we can.")
    # Players can write at any hour (the chat takes a message when nobody is online); the
    # hours say when agents answer.
    hours = describe_hours(config.calendar_for(general_team), language=language)
    channels = [
        SupportChannel(
            key=CHAT,
            name=_("Live chat"),
            # Translators: {duration} is e.g. "5 minutes".
            promise=_("We usually answer within {duration}.").format(duration=chat_within)
            if chat_within
            else _("We answer as soon as an agent is free."),
        ),
        SupportChannel(
            key=EMAIL,
            # Translators: the support channel (a card in the help centre), not an address.
            name=catalog.pgettext("support channel", "Email"),
            # Translators: {duration} is e.g. "2 hours".
            promise=_("We answer within {duration}.").format(duration=email_within)
            if email_within
            else fallback,
            href=f"mailto:{settings.email_from}",
            link_text=settings.email_from,
        ),
        SupportChannel(
            key=FORM,
            name=_("Contact form"),
            promise=_(
                "Tell us the details and add screenshots. We answer by email within {duration}."
            ).format(duration=form_within)
            if form_within
            else fallback,
            href=f"/help/contact?lang={language}",
            link_text=_("Write to us"),
        ),
        SupportChannel(
            key=CALLBACK,
            # Translators: the support channel (a card in the help centre).
            name=_("Phone call"),
            promise=_("Leave your number and an agent who speaks your language calls you back."),
            href=f"/help/callback?lang={language}",
            link_text=_("Ask for a call"),
        ),
    ]
    return Support(hours=hours, channels=channels)
