"""What the bot does with a message: answer it (and how) or hand it to a person (issue 7).

Pure: a function of what the NLU found and what the caller knows of the conversation and
the player. Hand-off when

- the risk detector fired (to the Responsible Gambling team, urgent, with the evidence;
  the bot's only part is a caring acknowledgement with the protection tools),
- the player asks for a person,
- the intent is one a person must handle: complaint, responsible_gambling,
  account_closure, personal_data,
- the bot is not confident enough of the intent,
- two tries did not help,
- a player under protection (self-excluded, RG flag) asks about bonuses or deposits.

Otherwise the action says where the answer comes from: a back-office lookup for an
identified player, the knowledge base, small talk, or the polite out-of-scope reply. A
risk message never gets a bonus or deposit action.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from playerdesk.bot.intents import Intent
from playerdesk.bot.nlu import IntentResult
from playerdesk.bot.protection import RiskResult
from playerdesk.domain.enums import Priority

# Below this calibrated probability the bot hands over instead of answering: the trade-off
# between answering routine questions and answering wrongly is in docs/BOT.md.
CONFIDENCE_THRESHOLD = 0.6
MAX_TRIES = 2


class Action(StrEnum):
    # back-office lookups, for an identified player
    BALANCE = "balance"
    LAST_DEPOSIT = "last_deposit"
    LAST_WITHDRAWAL = "last_withdrawal"
    BONUS_PROGRESS = "bonus_progress"
    KYC_MISSING = "kyc_missing"
    PASSWORD_RESET = "password_reset"
    # everyone
    KNOWLEDGE_BASE = "knowledge_base"
    SMALL_TALK = "small_talk"
    OUT_OF_SCOPE = "out_of_scope"
    # with a hand-off after a risk hit: acknowledge with care, offer the protection tools
    PROTECTION_TOOLS = "protection_tools"


BACK_OFFICE_ACTIONS: frozenset[Action] = frozenset(
    {
        Action.BALANCE,
        Action.LAST_DEPOSIT,
        Action.LAST_WITHDRAWAL,
        Action.BONUS_PROGRESS,
        Action.KYC_MISSING,
        Action.PASSWORD_RESET,
    }
)


class HandoffReason(StrEnum):
    RISK_DETECTED = "risk_detected"
    ASKED_FOR_AGENT = "asked_for_agent"
    SENSITIVE_INTENT = "sensitive_intent"
    LOW_CONFIDENCE = "low_confidence"
    TRIES_EXHAUSTED = "tries_exhausted"
    PLAYER_PROTECTED = "player_protected"
    # Found when acting on the decision (services.bot), never by `decide`:
    NO_ANSWER = "no_answer"  # nothing in the knowledge base or the account answers it
    BACK_OFFICE_UNAVAILABLE = "back_office_unavailable"


class Team(StrEnum):
    """Where a hand-off goes; `support` routes further by the intent as topic."""

    RESPONSIBLE_GAMBLING = "responsible_gambling"
    SUPPORT = "support"


HANDOFF_INTENTS: frozenset[Intent] = frozenset(
    {
        Intent.COMPLAINT,
        Intent.RESPONSIBLE_GAMBLING,
        Intent.ACCOUNT_CLOSURE,
        Intent.PERSONAL_DATA,
    }
)

# Questions about money in or bonuses: never answered for a player under protection.
_BONUS_OR_DEPOSIT: frozenset[Intent] = frozenset(
    {Intent.BONUS_TERMS, Intent.BONUS_MISSING, Intent.DEPOSIT_HELP, Intent.DEPOSIT_MISSING}
)

# The lookup that answers an intent for an identified player.
_LOOKUPS: dict[Intent, Action] = {
    Intent.BALANCE: Action.BALANCE,
    Intent.DEPOSIT_MISSING: Action.LAST_DEPOSIT,
    Intent.WITHDRAWAL_STATUS: Action.LAST_WITHDRAWAL,
    Intent.BONUS_MISSING: Action.BONUS_PROGRESS,
    Intent.VERIFICATION: Action.KYC_MISSING,
    Intent.ACCOUNT_ACCESS: Action.PASSWORD_RESET,
}

_SMALL_TALK: frozenset[Intent] = frozenset({Intent.GREETING, Intent.THANKS_BYE})


@dataclass(frozen=True, slots=True)
class Decision:
    handoff: bool
    reasons: tuple[HandoffReason, ...]
    # How the bot answers: the lookup or source, or None when a person answers alone.
    action: Action | None
    team: Team | None
    priority: Priority
    # The routing topic of a hand-off, and what the bot understood.
    topic: Intent
    language: str


def decide(
    *,
    language: str,
    intent: IntentResult,
    risk: RiskResult,
    tries: int = 0,
    player_identified: bool = False,
    player_protected: bool = False,
    threshold: float = CONFIDENCE_THRESHOLD,
) -> Decision:
    """The decision for one message. `tries` counts the bot's earlier answers in this
    conversation that did not help; `player_protected` is a self-excluded or RG-flagged
    player."""
    reasons: list[HandoffReason] = []
    if risk.flagged:
        reasons.append(HandoffReason.RISK_DETECTED)
    if intent.intent is Intent.HUMAN_AGENT:
        reasons.append(HandoffReason.ASKED_FOR_AGENT)
    if intent.intent in HANDOFF_INTENTS:
        reasons.append(HandoffReason.SENSITIVE_INTENT)
    if intent.confidence < threshold:
        reasons.append(HandoffReason.LOW_CONFIDENCE)
    if tries >= MAX_TRIES:
        reasons.append(HandoffReason.TRIES_EXHAUSTED)
    if player_protected and intent.intent in _BONUS_OR_DEPOSIT:
        reasons.append(HandoffReason.PLAYER_PROTECTED)

    protection = risk.flagged or intent.intent is Intent.RESPONSIBLE_GAMBLING
    if protection:
        return Decision(
            handoff=True,
            reasons=tuple(reasons),
            action=Action.PROTECTION_TOOLS,
            team=Team.RESPONSIBLE_GAMBLING,
            priority=Priority.URGENT,
            topic=Intent.RESPONSIBLE_GAMBLING,
            language=language,
        )
    if reasons:
        protected = HandoffReason.PLAYER_PROTECTED in reasons
        return Decision(
            handoff=True,
            reasons=tuple(reasons),
            action=None,
            team=Team.RESPONSIBLE_GAMBLING if protected else Team.SUPPORT,
            priority=Priority.HIGH if protected else Priority.NORMAL,
            topic=intent.intent,
            language=language,
        )
    return Decision(
        handoff=False,
        reasons=(),
        action=answer_action(intent.intent, player_identified=player_identified),
        team=None,
        priority=Priority.NORMAL,
        topic=intent.intent,
        language=language,
    )


def answer_action(intent: Intent, *, player_identified: bool) -> Action:
    """Where the answer to an intent the bot may answer comes from."""
    if intent in _SMALL_TALK:
        return Action.SMALL_TALK
    if intent is Intent.OUT_OF_SCOPE:
        return Action.OUT_OF_SCOPE
    if player_identified and intent in _LOOKUPS:
        return _LOOKUPS[intent]
    return Action.KNOWLEDGE_BASE


# The routing topic of a conversation the bot hands over (the shipped routing rules send
# each topic to its team; see domain.routing.STANDARD_TOPICS). Intents not listed go to
# the General queue.
ROUTING_TOPICS: dict[Intent, str] = {
    Intent.BALANCE: "payments",
    Intent.DEPOSIT_MISSING: "payments",
    Intent.DEPOSIT_HELP: "payments",
    Intent.WITHDRAWAL_STATUS: "payments",
    Intent.WITHDRAWAL_HELP: "payments",
    Intent.VERIFICATION: "verification",
    Intent.BONUS_TERMS: "bonuses",
    Intent.BONUS_MISSING: "bonuses",
    Intent.GAME_ISSUE: "technical",
    Intent.ACCOUNT_ACCESS: "technical",
    Intent.REGISTRATION: "technical",
    Intent.RESPONSIBLE_GAMBLING: "responsible_gambling",
    Intent.COMPLAINT: "complaints",
    Intent.VIP: "vip",
}
