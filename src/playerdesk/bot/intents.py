"""The intents the bot knows (issue 7), exactly these and in this order."""

from __future__ import annotations

from enum import StrEnum


class Intent(StrEnum):
    GREETING = "greeting"
    THANKS_BYE = "thanks_bye"
    HUMAN_AGENT = "human_agent"
    ACCOUNT_ACCESS = "account_access"
    REGISTRATION = "registration"
    BALANCE = "balance"
    DEPOSIT_MISSING = "deposit_missing"
    DEPOSIT_HELP = "deposit_help"
    WITHDRAWAL_STATUS = "withdrawal_status"
    WITHDRAWAL_HELP = "withdrawal_help"
    VERIFICATION = "verification"
    BONUS_TERMS = "bonus_terms"
    BONUS_MISSING = "bonus_missing"
    GAME_ISSUE = "game_issue"
    RESPONSIBLE_GAMBLING = "responsible_gambling"
    ACCOUNT_CLOSURE = "account_closure"
    COMPLAINT = "complaint"
    PERSONAL_DATA = "personal_data"
    VIP = "vip"
    OUT_OF_SCOPE = "out_of_scope"


# Questions the bot is there to answer, from the back office or the knowledge base: the
# base of "answered without hand-off" in the evaluation.
ROUTINE_INTENTS: frozenset[Intent] = frozenset(
    {
        Intent.ACCOUNT_ACCESS,
        Intent.REGISTRATION,
        Intent.BALANCE,
        Intent.DEPOSIT_MISSING,
        Intent.DEPOSIT_HELP,
        Intent.WITHDRAWAL_STATUS,
        Intent.WITHDRAWAL_HELP,
        Intent.VERIFICATION,
        Intent.BONUS_TERMS,
        Intent.BONUS_MISSING,
        Intent.GAME_ISSUE,
        Intent.VIP,
    }
)
