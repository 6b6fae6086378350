"""The lexicon gives the same concept token to the same thing said in any language."""

from __future__ import annotations

import pytest

from playerdesk.bot.lexicon import concept_text, concepts
from playerdesk.bot.text import normalise


@pytest.mark.parametrize(
    ("concept", "wordings"),
    [
        (
            "c_error",
            [
                "the game is not working",
                "gra nie działa",
                "spelet funkar inte",
                "das Spiel funktioniert nicht",
                "el juego no funciona",
            ],
        ),
        ("c_win", ["I won 500", "wygrałem 500", "jag vann 500", "ich habe gewonnen", "gané 500"]),
        (
            "c_rejected",
            [
                "my card was declined",
                "płatność odrzucona",
                "betalningen nekades",
                "Zahlung abgelehnt",
                "pago rechazado",
            ],
        ),
        (
            "c_login",
            ["jag kommer inte in på kontot", "nie mogę dostać się do konta", "I can't log in"],
        ),
        ("c_deposit", ["jag har satt in 200 kr", "pengarna jag lagt in", "wpłaciłem 50 zł"]),
        ("c_withdraw", ["jag vill plocka ut vinsten", "kann ich Geld abheben"]),
        (
            "c_chase",
            [
                "I need to win it back",
                "muszę to odrobić",
                "måste vinna tillbaka",
                "quiero recuperarlo",
            ],
        ),
        (
            "c_borrow",
            ["I borrowed 500", "pożyczyłem 500", "tog ett sms-lån", "ich habe Geld geliehen"],
        ),
    ],
)
def test_one_concept_for_every_wording(concept: str, wordings: list[str]) -> None:
    for wording in wordings:
        assert concept in concepts(normalise(wording)), wording


def test_concepts_match_whole_words_only() -> None:
    # "id" (an identity document) is not inside "idea", "leg" not inside "legal".
    assert "c_identity" not in concepts(normalise("I have an idea, is this legal"))
    assert "c_identity" in concepts(normalise("they want my ID"))


def test_swedish_man_is_family_only_as_a_husband() -> None:
    # "man" alone is "one" in Swedish and German: no family cue in "how does one".
    for impersonal in ("hur gör man ett uttag", "kan man ta ut", "wie macht man das"):
        assert "c_family" not in concepts(normalise(impersonal)), impersonal
    for husband in ("min man får inte veta", "mannen kollar kontot", "maken ser allt"):
        assert "c_family" in concepts(normalise(husband)), husband


def test_concept_tokens_follow_the_text() -> None:
    assert concept_text("withdrawal declined") == "withdrawal declined c_withdraw c_rejected"
    assert concept_text("hello there") == "hello there c_greeting"
    assert concept_text("xyz") == "xyz"
