"""Texts the console's scripts show, translated here and handed to the page in its JSON data
block, so the ES modules carry no language data of their own.

`{name}`-style placeholders are filled in by the script.
"""

from __future__ import annotations

from functools import cache

from playerdesk.i18n import translations


@cache
def console_strings(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        "player": _("Player"),
        "bot": _("Bot"),
        # A badge's tooltip in the inbox and the conversation: nobody needs to take it yet.
        "bot_answering": _("The bot is answering this conversation"),
        # Translators: read out before the buttons a bot message offered the player.
        "quick_replies": _("Buttons offered to the player"),
        "system": _("System"),
        "agent": _("Agent"),
        "you": _("You"),
        # Translators: {name} is an agent's name, shown in the list of agents to assign to.
        "me_option": _("{name} (you)"),
        "note": _("Internal note"),
        "reply_placeholder": _("Write a reply to the player…"),
        "note_placeholder": _("Write an internal note. Only agents see it…"),
        "send_reply": _("Send reply"),
        "send_note": _("Add note"),
        "sending": _("Sending…"),
        "typing": _("The player is typing…"),
        # Translators: {count} is a number; shown to screen readers next to a badge.
        "unread": _("Unread messages: {count}"),
        "unassigned": _("Unassigned"),
        "assigned": _("Assigned"),
        "no_team": _("No team"),
        "loading": _("Loading…"),
        "empty_conversation": _("No messages yet."),
        "load_failed": _("The conversation could not be loaded."),
        "send_failed": _("The message was not sent. Try again."),
        "update_failed": _("The change was not saved. Try again."),
        "conflict": _("That is not possible in the conversation's current state."),
        "forbidden": _("Your role does not allow this."),
        "not_found": _("This conversation no longer exists."),
        "session_ended": _("Your session has ended. Please sign in again."),
        "reconnecting": _("Connection lost. Reconnecting…"),
        "assigned_to_you": _("The conversation is now assigned to you."),
        "resolved": _("The conversation is resolved."),
        # Translators: {number} is a ticket number; the title of a desktop notification.
        "new_chat": _("New chat #{number}"),
        "redacted": _("A card number was hidden"),
        "read_by_player": _("Read by the player"),
        # Under the newest reply the player's widget or messenger app received, not yet read.
        "delivered_to_player": _("Delivered to the player"),
        # The state of the email copy of an agent's reply, shown under it.
        "original_email": _("Original email"),
        "delivery_pending": _("Email queued"),
        "delivery_retrying": _("Email not sent yet; retrying"),
        "delivery_sending": _("Sending the email…"),
        "delivery_sent": _("Email sent"),
        "delivery_dead": _("Email not delivered"),
        # Translators: under an agent's reply in a Telegram, WhatsApp or Viber conversation.
        "delivery_chat_pending": _("Queued for the player's messenger"),
        "delivery_chat_retrying": _("Not sent to the messenger yet; retrying"),
        "delivery_chat_sending": _("Sending to the messenger…"),
        "delivery_chat_sent": _("Sent to the messenger"),
        "delivery_chat_dead": _("Not delivered to the messenger"),
        # Translators: {address} is an email address, {reason} what the mail server said.
        "address_failing": _(
            "Mail to {address} bounced or was refused ({reason}). The player may not get "
            "replies by email."
        ),
        # WhatsApp's 24-hour customer-service window has passed: shown above the composer.
        "whatsapp_window_closed": _(
            "The player last wrote on WhatsApp more than 24 hours ago. WhatsApp accepts only "
            "an approved template message until they write again."
        ),
        "new_messages": _("New messages"),
        "close_tab": _("Close this conversation"),
        "player_name": _("Name"),
        "player_email": _("Email"),
        "player_phone": _("Phone"),
        "player_id": _("Player ID"),
        "player_language": _("Language"),
        "player_country": _("Country"),
        "player_vip": _("VIP tier"),
        "notifications_on": _("Desktop notifications are on."),
        "notifications_blocked": _("The browser blocks notifications from this site."),
        "sound_on": _("Sound on"),
        "sound_off": _("Sound off"),
        "attachment": _("Attachment"),
        # Translators: a long SLA countdown: {days} days and {hours} hours, kept short.
        "duration_days": _("{days} d {hours} h"),
        # Translators: {number} is a ticket number; a toast and a desktop notification title.
        "sla_breached": _("SLA breached on #{number}"),
        # Translators: {number} is a ticket number; a toast and a desktop notification title.
        "sla_warning": _("SLA deadline close on #{number}"),
        # Translators: {number} is a ticket number; a toast and a desktop notification title.
        "escalated_note": _("#{number} was escalated"),
        # Translators: {level} is a number: how many times a conversation was escalated.
        "escalation_level": _("Escalated, level {level}"),
        # Translators: who escalated, when no person did (the floor's rules).
        "escalation_automatic": _("Automatic"),
        # Translators: {from} and {to} are team names.
        "escalation_team": _("Team: {from} → {to}"),
        # Translators: {from} and {to} are priorities.
        "escalation_priority": _("Priority: {from} → {to}"),
        "escalated": _("The conversation is escalated."),
        "transferred": _("The conversation is transferred."),
        "reason_required": _("Say why the conversation is escalated."),
        "note_required": _("Write a note for whoever takes over."),
        "transfer_target": _("Choose a colleague or a team."),
        # Translators: the transfer dialog's choice of colleague when none is chosen.
        "transfer_no_agent": _("Nobody: the team's queue"),
        # Translators: the transfer dialog's choice of team when none is chosen.
        "transfer_same_team": _("Keep the current team"),
        # The phone call pop-up (issue 8): a call rings at the agent's phone, or was answered.
        "call_ringing": _("Incoming call"),
        "call_ringing_outbound": _("Outgoing call"),
        "call_answered": _("Call in progress"),
        "call_unknown_caller": _("Unknown caller"),
        # Translators: {queue} is the name of a phone queue.
        "call_queue": _("Queue: {queue}"),
        "call_open_tickets": _("Open tickets"),
        "call_no_open_tickets": _("No open tickets. The call is logged on a new phone ticket."),
        "call_open_player": _("Open player"),
        "call_dismiss": _("Dismiss"),
    }
