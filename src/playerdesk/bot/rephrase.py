"""Optional, off by default (issue 7): a self-hosted model behind an OpenAI-compatible
endpoint may reword the bot's grounded answers so that they read less like a template.

The answer is always built first, from reviewed templates filled from the back office or
from an article's own summary; the model is only asked to reword it, and its wording is
used only when it keeps the facts: the same numbers, links and e-mail addresses, none
dropped and none added. An error, a timeout, an empty or overlong reply or a changed fact
keeps the answer as built. Only the answer and its language are sent, never the player's
message; the answer may still carry account figures, so point this at a model the casino
runs itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

from playerdesk.i18n import language_name

log = structlog.get_logger(__name__)

# Links, e-mail addresses and numbers (with their separators: "1,250.00", "14:30", "3.5").
_FACTS = re.compile(r"https?://[^\s<>\"]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\d+(?:[.,:/]\d+)*")
_TRAILING = ".,;:!?)"
# A reworded answer may be somewhat longer than the original, never an essay.
_MAX_GROWTH = 2.0
_MAX_EXTRA_CHARACTERS = 200


def facts(text: str) -> set[str]:
    """The numbers, links and e-mail addresses of a text."""
    return {match.group().rstrip(_TRAILING) for match in _FACTS.finditer(text)}


def keeps_the_facts(original: str, candidate: str) -> bool:
    """Whether `candidate` may stand in for `original`: not empty, not much longer, and
    the same facts."""
    if not candidate.strip():
        return False
    if len(candidate) > _MAX_GROWTH * len(original) + _MAX_EXTRA_CHARACTERS:
        return False
    return facts(candidate) == facts(original)


class Rephraser(Protocol):
    async def rephrase(self, *, text: str, language: str) -> str:
        """A rewording of `text` in `language`, or `text` itself."""
        ...


@dataclass(frozen=True, kw_only=True)
class RephraseConfig:
    base_url: str  # the API's root, e.g. "http://llm.internal:8000/v1"
    model: str | None
    api_key: str | None
    timeout_seconds: float


def _instructions(language: str) -> str:
    name = language_name(language, in_language="en")
    return (
        "You reword customer-support answers of an online casino. Rewrite the answer the "
        f"user gives you in {name}, warm and natural, and keep every number, amount, date, "
        "link and e-mail address exactly as written. Add nothing: no facts, offers, bonuses "
        "or promises that are not in the answer. Reply with the reworded answer only."
    )


class OpenAiCompatibleRephraser:
    """`POST {base_url}/chat/completions`, as OpenAI's API and the self-hosted servers that
    copy it (vLLM, llama.cpp, Ollama) accept it."""

    def __init__(self, config: RephraseConfig) -> None:
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self.config = config
        self._client = httpx.AsyncClient(
            base_url=config.base_url.rstrip("/") + "/",
            headers=headers,
            timeout=config.timeout_seconds,
        )

    async def rephrase(self, *, text: str, language: str) -> str:
        request: dict[str, Any] = {
            "messages": [
                {"role": "system", "content": _instructions(language)},
                {"role": "user", "content": text},
            ],
            "temperature": 0.2,
        }
        if self.config.model:
            request["model"] = self.config.model
        try:
            response = await self._client.post("chat/completions", json=request)
            response.raise_for_status()
            reworded = response.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, ValueError, LookupError, TypeError) as exc:
            # Never the body: it may repeat the answer's account figures.
            log.warning("bot_rephrase_failed", error=type(exc).__name__)
            return text
        if not isinstance(reworded, str) or not keeps_the_facts(text, reworded):
            log.info("bot_rephrase_rejected")
            return text
        return reworded.strip()

    async def close(self) -> None:
        await self._client.aclose()
