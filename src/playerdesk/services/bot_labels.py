"""The bot's hand-off reasons and intents in words people read: on the supervisors' Bot
page and in the note an agent gets at a hand-off. A value without a label shows as is."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache

from playerdesk.bot.intents import Intent
from playerdesk.bot.policy import HandoffReason
from playerdesk.i18n import translations

PGettext = Callable[[str, str], str]


def _reason_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        HandoffReason.RISK_DETECTED: pgettext(
            "bot hand-off reason", "Signs of gambling harm were detected"
        ),
        HandoffReason.ASKED_FOR_AGENT: pgettext(
            "bot hand-off reason", "The player asked for a person"
        ),
        HandoffReason.SENSITIVE_INTENT: pgettext(
            "bot hand-off reason", "A subject only people handle"
        ),
        HandoffReason.LOW_CONFIDENCE: pgettext(
            "bot hand-off reason", "The bot was not sure what the player meant"
        ),
        HandoffReason.TRIES_EXHAUSTED: pgettext("bot hand-off reason", "Two answers did not help"),
        HandoffReason.PLAYER_PROTECTED: pgettext(
            "bot hand-off reason", "A protected player asked about bonuses or deposits"
        ),
        HandoffReason.NO_ANSWER: pgettext(
            "bot hand-off reason", "No answer in the knowledge base or the account"
        ),
        HandoffReason.BACK_OFFICE_UNAVAILABLE: pgettext(
            "bot hand-off reason", "The casino back office did not answer"
        ),
    }


def _intent_labels(pgettext: PGettext) -> dict[str, str]:
    return {
        Intent.GREETING: pgettext("bot intent", "Greeting"),
        Intent.THANKS_BYE: pgettext("bot intent", "Thanks or goodbye"),
        Intent.HUMAN_AGENT: pgettext("bot intent", "Asks for a person"),
        Intent.ACCOUNT_ACCESS: pgettext("bot intent", "Signing in"),
        Intent.REGISTRATION: pgettext("bot intent", "Registration"),
        Intent.BALANCE: pgettext("bot intent", "Balance"),
        Intent.DEPOSIT_MISSING: pgettext("bot intent", "Deposit not credited"),
        Intent.DEPOSIT_HELP: pgettext("bot intent", "How to deposit"),
        Intent.WITHDRAWAL_STATUS: pgettext("bot intent", "Withdrawal status"),
        Intent.WITHDRAWAL_HELP: pgettext("bot intent", "How to withdraw"),
        Intent.VERIFICATION: pgettext("bot intent", "Verification (KYC)"),
        Intent.BONUS_TERMS: pgettext("bot intent", "Bonus terms"),
        Intent.BONUS_MISSING: pgettext("bot intent", "Bonus not credited"),
        Intent.GAME_ISSUE: pgettext("bot intent", "Problem with a game"),
        Intent.RESPONSIBLE_GAMBLING: pgettext("bot intent", "Responsible gambling"),
        Intent.ACCOUNT_CLOSURE: pgettext("bot intent", "Closing the account"),
        Intent.COMPLAINT: pgettext("bot intent", "Complaint"),
        Intent.PERSONAL_DATA: pgettext("bot intent", "Personal data"),
        Intent.VIP: pgettext("bot intent", "VIP programme"),
        Intent.OUT_OF_SCOPE: pgettext("bot intent", "Not about the casino"),
    }


class Lookup:
    """Translated labels that fall back to the raw value, so a value added later still shows."""

    def __init__(self, labels: Mapping[str, str]) -> None:
        self.labels = labels

    def __call__(self, value: str | None) -> str:
        if not value:
            return ""
        return self.labels.get(value, value)


@cache
def reason_label(language: str) -> Lookup:
    pgettext = translations(language).pgettext
    return Lookup({str(key): text for key, text in _reason_labels(pgettext).items()})


@cache
def intent_label(language: str) -> Lookup:
    pgettext = translations(language).pgettext
    return Lookup({str(key): text for key, text in _intent_labels(pgettext).items()})
