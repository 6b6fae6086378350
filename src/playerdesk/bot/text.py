"""The normalised text every bot step works on, with a way back to the original text.

Normalising reuses the knowledge base's folding (casefolded, diacritics removed, ł -> l),
so "Wypłatę", "wyplate" and "WYPŁATĘ" look the same to the patterns and the classifiers.
Evidence found in the normalised text is reported as spans of the text the player wrote.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playerdesk.domain.kb import fold

_SPACES = re.compile(r"\s+")
# Words for the classifiers' word n-grams: one-letter words too ("i", "w", "å").
WORD_TOKENS = r"(?u)\b\w+\b"


def normalise(text: str) -> str:
    """Folded text with runs of whitespace made one space: "Wypłata  NIE\ndoszła" ->
    "wyplata nie doszla"."""
    return _SPACES.sub(" ", fold(text)).strip()


@dataclass(frozen=True, slots=True)
class MappedText:
    """A folded text and, for each of its characters, the index of the character of the
    original text it came from."""

    original: str
    folded: str
    origins: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that the folded span [start, end) came from."""
        if end <= start:
            position = self.origins[start] if start < len(self.origins) else len(self.original)
            return position, position
        return self.origins[start], self.origins[end - 1] + 1


def mapped(text: str) -> MappedText:
    """Folds `text` one character at a time, remembering where each folded character came
    from. The folded text equals `fold(text)` for text in composed (NFC) form."""
    pieces: list[str] = []
    origins: list[int] = []
    for index, char in enumerate(text):
        folded = fold(char)
        pieces.append(folded)
        origins.extend([index] * len(folded))
    return MappedText(original=text, folded="".join(pieces), origins=tuple(origins))
