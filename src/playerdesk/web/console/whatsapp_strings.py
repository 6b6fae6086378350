"""Texts of the WhatsApp template composer (static/console/whatsapp_templates.js), translated
here and handed to the page in its JSON data block (`config.whatsapp`). `{name}`-style
placeholders are filled in by the script."""

from __future__ import annotations

from functools import cache

from playerdesk.i18n import translations


@cache
def whatsapp_strings(language: str) -> dict[str, str]:
    _ = translations(language).gettext
    return {
        # Translators: the heading of the composer's part for WhatsApp template messages,
        # shown once the 24-hour window has closed.
        "title": _("Template message"),
        # Translators: the label of the list of WhatsApp templates to choose from.
        "choose": _("Template"),
        "loading": _("Loading the approved templates…"),
        "load_failed": _("The templates could not be loaded."),
        "retry": _("Try again"),
        "not_configured": _(
            "Template messages are not set up: no WhatsApp business account is configured. "
            "Ask an administrator."
        ),
        "none": _(
            "No approved template can be sent from the desk. Ask an administrator to have one "
            "approved in WhatsApp Manager."
        ),
        "other_languages": _(
            "No approved template is in the conversation's language; these are in other languages."
        ),
        # Translators: {placeholder} is a template's placeholder, like {{1}} or {{name}}.
        "value_for": _("Value for {placeholder}"),
        "preview": _("What the player will see"),
        "send": _("Send template"),
        "sending": _("Sending…"),
        "missing_value": _("Fill in every value of the template first."),
        "bad_value": _(
            "A value may not contain line breaks, tabs or more than four spaces in a row."
        ),
        "sent": _("The template was sent."),
        # Translators: {reason} is the server's explanation, in English.
        "failed": _("The template was not sent: {reason}"),
    }
