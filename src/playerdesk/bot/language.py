"""Which of the supported languages a message is in.

`lingua-language-detector` (offline, n-gram models shipped in the package) is limited to
the languages the desk supports, so it never answers with one nobody can serve. A very
short message ("ok", "hej", "saldo?") or one lingua is unsure about is given the player's
profile language instead, when there is one: "hej" is Swedish and Polish alike, and the
player's own language is the better guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

LINGUA_LANGUAGES: dict[str, Language] = {
    "en": Language.ENGLISH,
    "pl": Language.POLISH,
    "sv": Language.SWEDISH,
    "de": Language.GERMAN,
    "es": Language.SPANISH,
}
SUPPORTED_CODES: tuple[str, ...] = tuple(LINGUA_LANGUAGES)

# Below this many letters a message is too short to tell (measured on the shipped data:
# most of lingua's mistakes there are greetings and one-word questions).
MIN_LETTERS = 12
# Below this confidence lingua's answer gives way to the profile language.
MIN_CONFIDENCE = 0.7

_LETTER = re.compile(r"[^\W\d_]", re.UNICODE)


class LanguageSource(StrEnum):
    DETECTED = "detected"  # lingua was sure enough
    PROFILE = "profile"  # too short or unsure: the player's profile language
    GUESS = "guess"  # too short or unsure, and no profile language: lingua's best guess


@dataclass(frozen=True, slots=True)
class LanguageResult:
    language: str
    confidence: float
    source: LanguageSource


class UnsupportedLanguageError(ValueError):
    pass


class LanguageIdentifier:
    """Detection among a fixed set of languages; build it once (see `language_identifier`):
    loading lingua's models takes a second or two, each message then well under one ms."""

    def __init__(
        self,
        languages: Iterable[str],
        *,
        min_letters: int = MIN_LETTERS,
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        codes = tuple(dict.fromkeys(languages))
        unknown = [code for code in codes if code not in LINGUA_LANGUAGES]
        if unknown:
            raise UnsupportedLanguageError(
                f"no language model for {', '.join(unknown)}; the bot knows "
                f"{', '.join(SUPPORTED_CODES)}"
            )
        if not codes:
            raise UnsupportedLanguageError("at least one language is needed")
        self.languages = codes
        self.min_letters = min_letters
        self.min_confidence = min_confidence
        self._codes = {LINGUA_LANGUAGES[code]: code for code in codes}
        self._detector: LanguageDetector | None = None
        if len(codes) > 1:
            self._detector = (
                LanguageDetectorBuilder.from_languages(*self._codes)
                .with_preloaded_language_models()
                .build()
            )

    def detect(self, text: str, *, fallback: str | None = None) -> LanguageResult:
        """The language of `text`; `fallback` (the player's profile language) is used for a
        message too short or too unclear to tell, if it is one of the languages."""
        profile = fallback if fallback in self._codes.values() else None
        if self._detector is None:
            return LanguageResult(self.languages[0], 1.0, LanguageSource.DETECTED)
        values = self._detector.compute_language_confidence_values(text)
        best = values[0] if values else None
        letters = len(_LETTER.findall(text))
        if best is not None and letters >= self.min_letters and best.value >= self.min_confidence:
            return LanguageResult(self._codes[best.language], best.value, LanguageSource.DETECTED)
        if profile is not None:
            return LanguageResult(profile, best.value if best else 0.0, LanguageSource.PROFILE)
        if best is not None and best.value > 0:
            return LanguageResult(self._codes[best.language], best.value, LanguageSource.GUESS)
        return LanguageResult(self.languages[0], 0.0, LanguageSource.GUESS)


@lru_cache(maxsize=4)
def language_identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    """The process's identifier for these languages, built on first use."""
    return LanguageIdentifier(languages)
