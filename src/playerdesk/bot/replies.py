"""The bot's reviewed reply texts: one file per language in `data/replies/`, the same keys
in each. Back-office answers use the canned replies' placeholders (`{{balance.real}}`),
filled in the player's language; a reply that would keep a placeholder is never sent."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

REPLIES_DIR = Path(__file__).parent / "data" / "replies"
FALLBACK_LANGUAGE = "en"


class ReplyBook:
    def __init__(self, texts: dict[str, dict[str, str]]) -> None:
        if FALLBACK_LANGUAGE not in texts:
            raise ValueError("the bot needs its English replies")
        keys = set(texts[FALLBACK_LANGUAGE])
        for language, book in texts.items():
            if set(book) != keys:
                missing = sorted(keys ^ set(book))
                raise ValueError(f"replies/{language}.json differs in keys: {missing}")
        self._texts = texts

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._texts)

    def language_for(self, *candidates: str | None) -> str:
        """The first candidate the bot has replies in, else English."""
        return next((code for code in candidates if code in self._texts), FALLBACK_LANGUAGE)

    def text(self, language: str, key: str) -> str:
        return self._texts[self.language_for(language)][key]


@cache
def reply_book() -> ReplyBook:
    return ReplyBook(
        {
            path.stem: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(REPLIES_DIR.glob("*.json"))
        }
    )
