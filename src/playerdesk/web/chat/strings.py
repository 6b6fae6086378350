"""Every text the player widget shows, translated through the gettext catalogs and sent
with the widget session, so widget.js carries no language data of its own."""

from __future__ import annotations

from functools import cache

from playerdesk.i18n import translations


@cache
def widget_strings(language: str) -> dict[str, str]:
    catalog = translations(language)
    pgettext, gettext = catalog.pgettext, catalog.gettext
    return {
        "title": pgettext("widget", "Chat with support"),
        "subtitle_online": pgettext("widget", "We usually answer within a few minutes."),
        "subtitle_offline": pgettext("widget", "No one can answer the chat right now."),
        "open": pgettext("widget", "Open the chat"),
        "close": pgettext("widget", "Close the chat"),
        "placeholder": pgettext("widget", "Write a message…"),
        "send": pgettext("widget", "Send"),
        "attach": pgettext("widget", "Attach a file"),
        "you": pgettext("widget", "You"),
        "support": pgettext("widget", "Support"),
        # Translators: the name shown above the support bot's messages.
        "assistant": pgettext("widget", "Virtual assistant"),
        "typing": pgettext("widget", "Support is typing…"),
        "sending": pgettext("widget", "Sending…"),
        "sent": pgettext("widget", "Sent"),
        "delivered": pgettext("widget", "Delivered"),
        "read": pgettext("widget", "Read"),
        "failed": pgettext("widget", "Not sent. Tap to try again."),
        "reconnecting": pgettext("widget", "Connection lost. Reconnecting…"),
        "empty": pgettext("widget", "Ask us anything about your account, payments or bonuses."),
        "offline_intro": pgettext(
            "widget",
            "Leave us a message with your email address and we will answer by email.",
        ),
        "offline_email": pgettext("widget", "Your email address"),
        "offline_name": pgettext("widget", "Your name (optional)"),
        "offline_message": pgettext("widget", "Your message"),
        "offline_send": pgettext("widget", "Send message"),
        "offline_thanks": pgettext(
            "widget", "Thank you. Your ticket number is {number}; we will answer by email."
        ),
        "file_too_large": pgettext("widget", "This file is too large (at most {size})."),
        "file_type": pgettext("widget", "This type of file cannot be sent."),
        "message_too_long": pgettext("widget", "This message is too long."),
        "rate_limited": pgettext("widget", "You are sending messages too fast. Please wait."),
        "error": pgettext("widget", "Something went wrong. Please try again."),
        "resolved": pgettext("widget", "This conversation was marked as resolved."),
        "quick_replies": pgettext("widget", "Suggested answers"),
        "queue_position": pgettext(
            "widget", "All our agents are busy. You are number {position} in the queue."
        ),
        "queue_wait": pgettext("widget", "Estimated wait: about {minutes} min."),
        "queue_long": pgettext(
            "widget", "All our agents are busy. More than {count} people are waiting before you."
        ),
        # "Call me back": the help centre's form, in its words (web/helpcenter/callback.py).
        "callback_open": gettext("Call me back"),
        "callback_intro": gettext(
            "Leave your number and one of our agents will call you back in your language."
        ),
        "callback_phone": gettext("Your phone number"),
        # The example number is one of the language's country.
        "callback_phone_hint": gettext("With the country code, for example +44 20 7946 0958."),
        "callback_when": gettext("When should we call?"),
        "callback_asap": gettext("As soon as possible"),
        "callback_today": gettext("Today"),
        "callback_tomorrow": gettext("Tomorrow"),
        # {zone}: the player's time zone, filled in by the widget.
        "callback_times": gettext(
            "Today or tomorrow: between which times? Times are %(zone)s time."
        )
        % {"zone": "{zone}"},
        "callback_from": pgettext("time window", "From"),
        "callback_until": pgettext("time window", "Until"),
        "callback_reason": gettext("What is it about?"),
        "callback_optional": gettext("(optional)"),
        "callback_send": gettext("Call me back"),
        # Translators: leaves the "call me back" form for the chat (or the message form).
        "callback_back": pgettext("widget", "Back"),
    }
