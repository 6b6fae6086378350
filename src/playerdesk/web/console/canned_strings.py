"""Texts of the composer's canned replies (static/console/canned.js), translated here and
handed to the page in its JSON data block (`config.canned`). `{name}`-style placeholders
are filled in by the script."""

from __future__ import annotations

from functools import cache

from playerdesk.i18n import translations


@cache
def canned_strings(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        # Translators: the name of the list of canned replies shown while typing /shortcut.
        "list_label": _("Canned replies"),
        # Translators: a canned reply that also changes the conversation (status, tags...).
        "macro": _("Macro"),
        "other_language": _(
            "No version in the conversation's language: this one is in the default language"
        ),
        # Translators: {count} is a number; read out by screen readers.
        "found": _("Canned replies found: {count}. Use the arrow keys and Enter to choose."),
        # Translators: {prefix} is what the agent typed, like /withdr.
        "none": _("No canned reply starts with {prefix}."),
        "search_failed": _("Canned replies could not be loaded."),
        "preview_failed": _("The canned reply could not be filled in. Try again."),
        # Translators: {shortcut} is a canned reply's shortcut, like /close-thanks.
        "macro_intro": _("{shortcut} also does this when you send it:"),
        "action_status": _("sets the status to {status}"),
        "action_priority": _("sets the priority to {priority}"),
        "action_tags": _("adds the tags {tags}"),
        "action_team": _("hands the conversation over to {team}"),
        "drop_macro": _("Send as a plain reply"),
        "macro_applied": _("The macro's actions were applied."),
        "unfilled": _(
            "Some placeholders have no value. Replace them before sending (choose one to "
            "select it in the message):"
        ),
        "unfilled_unavailable": _(
            "Account data unavailable: the casino's back office did not answer. Replace these "
            "placeholders before sending (choose one to select it in the message):"
        ),
        "select_placeholder": _("Select it in the message"),
        "blocked": _(
            "Replace the placeholders in double braces before sending: the player must never "
            "see them."
        ),
    }
