from __future__ import annotations

import pytest

from playerdesk.bot.language import (
    LanguageIdentifier,
    LanguageSource,
    UnsupportedLanguageError,
    language_identifier,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Where is my withdrawal? It has been pending for three days", "en"),
        ("Gdzie jest moja wypłata? Czekam już trzy dni", "pl"),
        ("Var är mitt uttag? Jag har väntat i tre dagar", "sv"),
        ("Wo bleibt meine Auszahlung? Ich warte seit drei Tagen", "de"),
        ("¿Dónde está mi retiro? Llevo tres días esperando", "es"),
        # missing diacritics, chat style
        ("gdzie jest moja wyplata, prosze o szybka odpowiedz", "pl"),
        ("har inte fatt mina pengar fran uttaget annu", "sv"),
    ],
)
def test_detects_each_supported_language(
    identifier: LanguageIdentifier, text: str, expected: str
) -> None:
    result = identifier.detect(text, fallback="en" if expected != "en" else "sv")
    assert result.language == expected
    assert result.source is LanguageSource.DETECTED


@pytest.mark.parametrize("text", ["hej", "ok", "tack!", "saldo?", "hi"])
def test_short_messages_take_the_profile_language(
    identifier: LanguageIdentifier, text: str
) -> None:
    for profile in ("sv", "pl", "en"):
        result = identifier.detect(text, fallback=profile)
        assert result.language == profile
        assert result.source is LanguageSource.PROFILE


def test_without_a_profile_language_a_short_message_gets_the_best_guess(
    identifier: LanguageIdentifier,
) -> None:
    result = identifier.detect("dzięki", fallback=None)
    assert result.source is LanguageSource.GUESS
    assert result.language == "pl"


def test_a_profile_language_outside_the_set_is_ignored() -> None:
    limited = LanguageIdentifier(["en", "sv"])
    result = limited.detect("ok", fallback="pl")
    assert result.language in {"en", "sv"}
    assert result.source is LanguageSource.GUESS


def test_detection_is_limited_to_the_configured_languages() -> None:
    limited = LanguageIdentifier(["en", "sv"])
    result = limited.detect("Gdzie jest moja wypłata? Czekam już trzy dni", fallback="en")
    assert result.language in {"en", "sv"}


def test_one_language_needs_no_detection() -> None:
    only = LanguageIdentifier(["pl"])
    assert only.detect("where is my money", fallback=None).language == "pl"


def test_unknown_languages_are_refused() -> None:
    with pytest.raises(UnsupportedLanguageError, match="fi"):
        LanguageIdentifier(["en", "fi"])


def test_the_identifier_is_built_once_per_set_of_languages() -> None:
    assert language_identifier(("en", "pl")) is language_identifier(("en", "pl"))
