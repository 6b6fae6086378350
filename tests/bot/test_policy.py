from __future__ import annotations

import pytest

from playerdesk.bot.intents import Intent
from playerdesk.bot.nlu import IntentResult
from playerdesk.bot.pipeline import Bot
from playerdesk.bot.policy import (
    BACK_OFFICE_ACTIONS,
    CONFIDENCE_THRESHOLD,
    Action,
    HandoffReason,
    Team,
    decide,
)
from playerdesk.bot.protection import Evidence, RiskResult, RiskSignal
from playerdesk.domain.enums import Priority

NO_RISK = RiskResult(flagged=False, score=0.0, signals=(), evidence=())
RISK = RiskResult(
    flagged=True,
    score=0.9,
    signals=(RiskSignal.CHASING_LOSSES,),
    evidence=(Evidence(RiskSignal.CHASING_LOSSES, 0, 8, "win back"),),
)


def _intent(intent: Intent, confidence: float = 0.9) -> IntentResult:
    return IntentResult(intent=intent, confidence=confidence, ranking=((intent, confidence),))


# intent, confidence, risk, tries, identified, protected -> handoff, reasons, action
CASES = [
    (Intent.BALANCE, 0.9, False, 0, True, False, False, (), Action.BALANCE),
    (Intent.BALANCE, 0.9, False, 0, False, False, False, (), Action.KNOWLEDGE_BASE),
    (Intent.DEPOSIT_MISSING, 0.9, False, 0, True, False, False, (), Action.LAST_DEPOSIT),
    (Intent.WITHDRAWAL_STATUS, 0.9, False, 1, True, False, False, (), Action.LAST_WITHDRAWAL),
    (Intent.BONUS_MISSING, 0.9, False, 0, True, False, False, (), Action.BONUS_PROGRESS),
    (Intent.VERIFICATION, 0.9, False, 0, True, False, False, (), Action.KYC_MISSING),
    (Intent.ACCOUNT_ACCESS, 0.9, False, 0, True, False, False, (), Action.PASSWORD_RESET),
    (Intent.DEPOSIT_HELP, 0.9, False, 0, True, False, False, (), Action.KNOWLEDGE_BASE),
    (Intent.GREETING, 0.9, False, 0, False, False, False, (), Action.SMALL_TALK),
    (Intent.THANKS_BYE, 0.9, False, 0, True, False, False, (), Action.SMALL_TALK),
    (Intent.OUT_OF_SCOPE, 0.9, False, 0, False, False, False, (), Action.OUT_OF_SCOPE),
    (Intent.BALANCE, 0.3, False, 0, True, False, True, (HandoffReason.LOW_CONFIDENCE,), None),
    (Intent.BALANCE, 0.9, False, 2, True, False, True, (HandoffReason.TRIES_EXHAUSTED,), None),
    (Intent.HUMAN_AGENT, 0.9, False, 0, False, False, True, (HandoffReason.ASKED_FOR_AGENT,), None),
    (Intent.COMPLAINT, 0.9, False, 0, True, False, True, (HandoffReason.SENSITIVE_INTENT,), None),
    (
        Intent.ACCOUNT_CLOSURE,
        0.9,
        False,
        0,
        True,
        False,
        True,
        (HandoffReason.SENSITIVE_INTENT,),
        None,
    ),
    (
        Intent.PERSONAL_DATA,
        0.9,
        False,
        0,
        True,
        False,
        True,
        (HandoffReason.SENSITIVE_INTENT,),
        None,
    ),
    (
        Intent.RESPONSIBLE_GAMBLING,
        0.9,
        False,
        0,
        True,
        False,
        True,
        (HandoffReason.SENSITIVE_INTENT,),
        Action.PROTECTION_TOOLS,
    ),
    (
        Intent.BONUS_TERMS,
        0.9,
        True,
        0,
        True,
        False,
        True,
        (HandoffReason.RISK_DETECTED,),
        Action.PROTECTION_TOOLS,
    ),
    (
        Intent.DEPOSIT_HELP,
        0.3,
        True,
        3,
        True,
        False,
        True,
        (HandoffReason.RISK_DETECTED, HandoffReason.LOW_CONFIDENCE, HandoffReason.TRIES_EXHAUSTED),
        Action.PROTECTION_TOOLS,
    ),
    (
        Intent.BONUS_MISSING,
        0.9,
        False,
        0,
        True,
        True,
        True,
        (HandoffReason.PLAYER_PROTECTED,),
        None,
    ),
    (Intent.WITHDRAWAL_HELP, 0.9, False, 0, True, True, False, (), Action.KNOWLEDGE_BASE),
]


@pytest.mark.parametrize(
    (
        "intent",
        "confidence",
        "risky",
        "tries",
        "identified",
        "protected",
        "handoff",
        "reasons",
        "action",
    ),
    CASES,
)
def test_handoff_rules(
    intent: Intent,
    confidence: float,
    risky: bool,
    tries: int,
    identified: bool,
    protected: bool,
    handoff: bool,
    reasons: tuple[HandoffReason, ...],
    action: Action | None,
) -> None:
    decision = decide(
        language="sv",
        intent=_intent(intent, confidence),
        risk=RISK if risky else NO_RISK,
        tries=tries,
        player_identified=identified,
        player_protected=protected,
    )
    assert decision.handoff is handoff
    assert decision.reasons == reasons
    assert decision.action is action
    assert decision.language == "sv"


def test_a_risk_goes_to_the_responsible_gambling_team_at_top_priority() -> None:
    decision = decide(language="pl", intent=_intent(Intent.DEPOSIT_HELP), risk=RISK)
    assert decision.team is Team.RESPONSIBLE_GAMBLING
    assert decision.priority is Priority.URGENT
    assert decision.topic is Intent.RESPONSIBLE_GAMBLING


def test_an_ordinary_handoff_is_routed_by_its_intent() -> None:
    decision = decide(language="en", intent=_intent(Intent.COMPLAINT), risk=NO_RISK)
    assert decision.team is Team.SUPPORT
    assert decision.topic is Intent.COMPLAINT
    assert decision.priority is Priority.NORMAL


def test_the_threshold_is_the_boundary() -> None:
    at = decide(language="en", intent=_intent(Intent.VIP, CONFIDENCE_THRESHOLD), risk=NO_RISK)
    below = decide(
        language="en", intent=_intent(Intent.VIP, CONFIDENCE_THRESHOLD - 0.01), risk=NO_RISK
    )
    assert not at.handoff
    assert below.handoff


@pytest.mark.parametrize("intent", list(Intent))
def test_a_risk_never_gets_a_bonus_deposit_or_lookup_action(intent: Intent) -> None:
    for identified in (False, True):
        decision = decide(
            language="en", intent=_intent(intent), risk=RISK, player_identified=identified
        )
        assert decision.handoff
        assert decision.action is Action.PROTECTION_TOOLS


@pytest.mark.parametrize(
    "text",
    [
        "where is my bonus, I need it to win back what I lost yesterday",
        "I deposited my rent money and the deposit never arrived",
        "gdzie bonus? pożyczyłem 500 zł żeby go dostać",
        "insättningen syns inte och det var mina sista pengar, jag måste vinna tillbaka",
        "cancel my withdrawal I want to keep playing",
    ],
)
def test_risk_messages_through_the_pipeline_are_handed_over(bot: Bot, text: str) -> None:
    analysis = bot.analyse(text, player_identified=True)
    assert analysis.risk.flagged
    assert analysis.decision.handoff
    assert analysis.decision.action is Action.PROTECTION_TOOLS
    assert analysis.decision.action not in BACK_OFFICE_ACTIONS
    payload = analysis.as_json()
    assert payload["rg_risk"] is True
    assert payload["reply"] is None
    assert payload["evidence"]
