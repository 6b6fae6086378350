"""Texts of the player context panel (static/console/player_context.js), translated here and
handed to the page in its JSON data block under `player_context`.

`{name}`-style placeholders are filled in by the script. Values the back office sends as codes
(payment statuses, document kinds, limit kinds...) are named here; a code we do not know is
shown as the back office sent it.
"""

from __future__ import annotations

from functools import cache

from playerdesk.i18n import translations


@cache
def player_context_strings(language: str) -> dict[str, dict[str, str]]:
    catalog = translations(language)
    _ = catalog.gettext
    pgettext = catalog.pgettext
    return {
        "text": {
            "loading": _("Loading account data…"),
            "load_failed": _("The player's details could not be loaded."),
            "unavailable": _("Account data unavailable"),
            "unavailable_hint": _(
                "The casino's back office is not answering right now. You can still reply to "
                "the player."
            ),
            "partial": _("Some account data is unavailable right now."),
            "section_unavailable": _("Not available right now."),
            "retry": _("Try again"),
            "refresh": _("Refresh"),
            # Translators: {time} is a time of day: when the account data was read.
            "checked": _("Checked at {time}"),
            "not_linked": _("An anonymous visitor: no casino account is linked to this chat."),
            # Linking a messenger chat to a casino account (the form under "not linked").
            "link_empty": _("Enter the player's casino ID."),
            "link_invalid": _("This is not a casino player ID the desk can use."),
            "link_elsewhere": _(
                "This chat is already linked to another casino account. A supervisor can move it."
            ),
            "link_unavailable": _(
                "The casino's back office did not answer, so the ID could not be checked. "
                "Try again shortly."
            ),
            "link_failed": _("The chat could not be linked. Try again."),
            # Translators: {external_id} is the casino's id of the player.
            "linked": _("This chat is now linked to casino account {external_id}."),
            "not_found": _("The casino's back office has no player with this ID."),
            "not_configured": _(
                "No casino back office is connected: only PlayerDesk's own records are shown."
            ),
            "manager": _("Personal manager"),
            "registered": _("Registered"),
            "account_status": _("Account"),
            "balance": _("Balance"),
            "real_money": _("Real money"),
            "bonus_money": _("Bonus money"),
            "withdrawable": _("Withdrawable"),
            "payments": _("Recent payments"),
            "no_payments": _("No payments yet."),
            "bonuses": _("Bonuses"),
            "no_bonuses": _("No bonuses."),
            # Translators: the accessible name of a bonus's wagering progress bar.
            "wagering_label": _("Wagering progress"),
            # Translators: {done} and {required} are amounts, {percent} a whole number.
            "wagering": _("{done} of {required} wagered ({percent}%)"),
            # Translators: {date} is the date a bonus expires.
            "expires": _("Expires {date}"),
            # Translators: {amount} is the largest bet allowed while a bonus is wagered.
            "max_bet": _("Max bet {amount}"),
            # Translators: {amount} is the most that can be withdrawn from a bonus's winnings.
            "max_cashout": _("Max cashout {amount}"),
            # Translators: {games} lists game types with the share each counts, "Slots 100%".
            "contributions": _("Counts towards wagering: {games}"),
            "verification": _("Verification (KYC)"),
            "all_documents_approved": _("All documents approved."),
            "responsible_gambling": _("Responsible gambling"),
            "no_limits": _("No limits set."),
            # Translators: {kind} is a limit ("Deposit limit"), {amount} its amount,
            # {period} "day", "week" or "month".
            "limit": _("{kind}: {amount} per {period}"),
            # Translators: a raised limit waits for a cooling period; {amount}, {date}.
            "limit_pending": _("Changes to {amount} on {date}"),
            # Translators: {minutes} is a number of minutes (a session time limit).
            "minutes": _("{minutes} min"),
            # Translators: {date} is when the player's self-chosen break ends.
            "cooling_off_until": _("Cooling-off until {date}"),
            # Translators: {date} is when the player's self-exclusion ends.
            "self_excluded_until": _("Self-excluded until {date}"),
            "self_excluded_forever": _("Self-excluded indefinitely"),
            # Translators: {registers} names national self-exclusion registers ("Spelpaus
            # (Sweden)").
            "registers": _("In a national self-exclusion register: {registers}"),
            "alert_self_excluded": _("No offers, no bonuses, nothing that encourages play."),
            "alert_cooling_off": _("The player may not play. Do not offer to end the break early."),
            "alert_national_register": _("The player may not play here. No offers, no bonuses."),
            "earlier_tickets": _("Earlier tickets"),
            "no_earlier_tickets": _("No earlier tickets."),
            "more_earlier_tickets": _("Older tickets are not shown."),
        },
        "account_status": {
            "active": pgettext("casino account", "Active"),
            "suspended": pgettext("casino account", "Suspended"),
            "closed": pgettext("casino account", "Closed"),
            "self_excluded": pgettext("casino account", "Self-excluded"),
        },
        "payment_kind": {
            "deposit": _("Deposit"),
            "withdrawal": _("Withdrawal"),
        },
        "payment_status": {
            "pending": pgettext("payment", "Pending"),
            "processing": pgettext("payment", "Processing"),
            "completed": pgettext("payment", "Completed"),
            "failed": pgettext("payment", "Failed"),
            "cancelled": pgettext("payment", "Cancelled"),
        },
        "bonus_status": {
            "active": pgettext("bonus", "Active"),
            "completed": pgettext("bonus", "Completed"),
            "expired": pgettext("bonus", "Expired"),
            "forfeited": pgettext("bonus", "Forfeited"),
        },
        "verification_status": {
            "not_started": pgettext("verification", "Not started"),
            "pending": pgettext("verification", "Being checked"),
            "verified": pgettext("verification", "Verified"),
            "rejected": pgettext("verification", "Rejected"),
        },
        "document_kind": {
            "id_front": _("ID document (front)"),
            "id_back": _("ID document (back)"),
            "selfie": _("Selfie"),
            "proof_of_address": _("Proof of address"),
            "payment_method": _("Proof of payment method"),
            "source_of_funds": _("Source of funds"),
        },
        "document_status": {
            "missing": pgettext("document", "Missing"),
            "pending": pgettext("document", "Being checked"),
            "approved": pgettext("document", "Approved"),
            "rejected": pgettext("document", "Rejected"),
        },
        "limit_kind": {
            "deposit": _("Deposit limit"),
            "loss": _("Loss limit"),
            "wager": _("Wagering limit"),
            "session_minutes": _("Session time limit"),
        },
        "limit_period": {
            # Translators: as in "Deposit limit: 100 EUR per day".
            "day": pgettext("limit period", "day"),
            "week": pgettext("limit period", "week"),
            "month": pgettext("limit period", "month"),
        },
        "register": {
            "spelpaus": _("Spelpaus (Sweden)"),
            "gamstop": _("GAMSTOP (United Kingdom)"),
        },
        "game": {
            "slots": _("Slots"),
            "table": _("Table games"),
            "live_casino": _("Live casino"),
            "jackpot_slots": _("Jackpot slots"),
        },
    }
