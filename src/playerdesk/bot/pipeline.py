"""One message through the bot's steps: language, player protection, intent, policy.

`Bot` holds what is built once per process (lingua's models, the trained classifiers);
`Bot.analyse` is then pure computation, well under the 5 ms budget of issue 7.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playerdesk.bot.encoder import configured_encoder
from playerdesk.bot.language import (
    SUPPORTED_CODES,
    LanguageIdentifier,
    LanguageResult,
    language_identifier,
)
from playerdesk.bot.nlu import IntentResult, NluModel, load_or_train
from playerdesk.bot.policy import CONFIDENCE_THRESHOLD, Decision, decide
from playerdesk.bot.protection import RiskDetector, RiskResult, evidence_json


@dataclass(frozen=True, slots=True)
class Analysis:
    language: LanguageResult
    risk: RiskResult
    intent: IntentResult
    decision: Decision

    def as_json(self) -> dict[str, Any]:
        """The fields of issue 7 (`reply` stays null: the bot's answers are not built
        yet, `action` says where the answer would come from), then the details."""
        return {
            "language": self.language.language,
            "intent": self.intent.intent.value,
            "confidence": round(self.intent.confidence, 4),
            "rg_risk": self.risk.flagged,
            "handoff": self.decision.handoff,
            "action": self.decision.action.value if self.decision.action else None,
            "reply": None,
            "handoff_reasons": [reason.value for reason in self.decision.reasons],
            "team": self.decision.team.value if self.decision.team else None,
            "priority": self.decision.priority.value,
            "topic": self.decision.topic.value,
            "language_source": self.language.source.value,
            "ranking": [
                {"intent": intent.value, "probability": round(probability, 4)}
                for intent, probability in self.intent.ranking
            ],
            "risk_signals": [signal.value for signal in self.risk.signals],
            "risk_score": round(self.risk.score, 4),
            "evidence": evidence_json(self.risk),
        }


class Bot:
    @classmethod
    def load(
        cls,
        *,
        data_dir: Path,
        languages: Sequence[str],
        default_language: str,
        encoder_path: Path | None = None,
    ) -> Bot:
        """The saved model when current, else trained now (seconds) and saved; lingua's
        detector for the desk's languages the bot knows (the default one at least).
        `encoder_path`: the optional sentence encoder's folder (`bot/encoder.py`)."""
        model, _trained = load_or_train(data_dir, encoder=configured_encoder(encoder_path))
        known = [code for code in languages if code in SUPPORTED_CODES]
        return cls(model, languages=known or [default_language])

    def __init__(
        self,
        model: NluModel,
        *,
        languages: Sequence[str],
        identifier: LanguageIdentifier | None = None,
        threshold: float = CONFIDENCE_THRESHOLD,
    ) -> None:
        self.model = model
        self.languages = tuple(languages)
        self.identifier = identifier or language_identifier(self.languages)
        self.risk = RiskDetector(model.risk)
        self.threshold = threshold

    def analyse(
        self,
        text: str,
        *,
        profile_language: str | None = None,
        tries: int = 0,
        player_identified: bool = False,
        player_protected: bool = False,
    ) -> Analysis:
        language = self.identifier.detect(text, fallback=profile_language)
        row = self.model.vectorise(text)
        risk = self.risk.detect(text, row=row)
        intent = self.model.intents.classify_row(row)
        decision = decide(
            language=language.language,
            intent=intent,
            risk=risk,
            tries=tries,
            player_identified=player_identified,
            player_protected=player_protected,
            threshold=self.threshold,
        )
        return Analysis(language=language, risk=risk, intent=intent, decision=decision)
