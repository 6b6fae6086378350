"""The optional rewording of the bot's answers by a self-hosted model (issue 7), against a
local server that speaks the OpenAI chat-completions API over real HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from playerdesk.bot.rephrase import (
    OpenAiCompatibleRephraser,
    RephraseConfig,
    keeps_the_facts,
)
from playerdesk.crm.http import HttpCasinoBackend
from playerdesk.runtime import Runtime, answer_rephraser
from playerdesk.settings import Settings
from tests.bot.test_turns import BALANCE_PLAYER, bot_says, start_chat
from tests.casino_backoffice import serving
from tests.kb_articles import seed_articles

API_KEY = "sk-local-test-key"


@dataclass
class FakeModelServer:
    """`POST /v1/chat/completions`: records each request and answers with `reword(text)`,
    or with `status` / after `delay` when a test asks for a failure."""

    reword: Callable[[str], str] = lambda text: f"Happy to help! {text}"
    status: int = 200
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    authorizations: list[str | None] = field(default_factory=list)

    def app(self) -> Starlette:
        async def completions(request: Request) -> Response:
            body = await request.json()
            self.requests.append(body)
            self.authorizations.append(request.headers.get("authorization"))
            if self.delay:
                await asyncio.sleep(self.delay)
            if self.status != 200:
                return JSONResponse({"error": {"message": "overloaded"}}, status_code=self.status)
            answer = body["messages"][-1]["content"]
            return JSONResponse(
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "model": body.get("model", "local"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": self.reword(answer)},
                            "finish_reason": "stop",
                        }
                    ],
                }
            )

        return Starlette(routes=[Route("/v1/chat/completions", completions, methods=["POST"])])


@pytest.fixture
async def model_server() -> AsyncIterator[tuple[FakeModelServer, str]]:
    server = FakeModelServer()
    async with serving(server.app()) as url:
        yield server, f"{url}/v1"


@pytest.fixture
async def rephraser(
    model_server: tuple[FakeModelServer, str],
) -> AsyncIterator[OpenAiCompatibleRephraser]:
    _, url = model_server
    client = OpenAiCompatibleRephraser(
        RephraseConfig(base_url=url, model="support-7b", api_key=API_KEY, timeout_seconds=0.5)
    )
    yield client
    await client.close()


ANSWER = (
    "Your balance is £1,250.00 and your withdrawal of £300 is pending. "
    "See https://help.example.test/en/withdrawals or write to support@example.test."
)


def test_a_rewording_must_keep_every_fact_and_add_none() -> None:
    same = (
        "Right now you have £1,250.00; the £300 withdrawal is still pending. More at "
        "https://help.example.test/en/withdrawals, or mail support@example.test!"
    )
    assert keeps_the_facts(ANSWER, same)
    assert not keeps_the_facts(ANSWER, same.replace("1,250.00", "1,520.00"))
    assert not keeps_the_facts(ANSWER, same.replace(" or mail support@example.test", ""))
    assert not keeps_the_facts(ANSWER, same + " You also get 50 free spins.")
    assert not keeps_the_facts(ANSWER, same + " https://elsewhere.example.test")
    assert not keeps_the_facts(ANSWER, "   ")
    assert not keeps_the_facts(ANSWER, same + " and" * 200)


async def test_the_model_gets_the_answer_and_its_language_and_its_wording_is_used(
    model_server: tuple[FakeModelServer, str], rephraser: OpenAiCompatibleRephraser
) -> None:
    server, _ = model_server
    reworded = await rephraser.rephrase(text=ANSWER, language="sv")
    assert reworded == f"Happy to help! {ANSWER}"
    [request] = server.requests
    assert request["model"] == "support-7b"
    assert request["messages"][-1] == {"role": "user", "content": ANSWER}
    assert "Swedish" in request["messages"][0]["content"]
    assert server.authorizations == [f"Bearer {API_KEY}"]


@pytest.mark.parametrize(
    "failure",
    ["changes a number", "server error", "too slow", "not the API's shape"],
)
async def test_anything_but_a_faithful_rewording_keeps_the_answer(
    model_server: tuple[FakeModelServer, str],
    rephraser: OpenAiCompatibleRephraser,
    failure: str,
) -> None:
    server, _ = model_server
    if failure == "changes a number":
        server.reword = lambda text: text.replace("£300", "£3,000")
    elif failure == "server error":
        server.status = 503
    elif failure == "too slow":
        server.delay = 2.0
    else:
        server.reword = lambda text: None  # type: ignore[assignment,return-value]
    assert await rephraser.rephrase(text=ANSWER, language="en") == ANSWER
    assert len(server.requests) == 1


async def test_a_chat_answer_from_the_knowledge_base_is_reworded(
    with_bot: Runtime,
    model_server: tuple[FakeModelServer, str],
    rephraser: OpenAiCompatibleRephraser,
) -> None:
    server, _ = model_server
    with_bot.rephraser = rephraser
    await seed_articles(with_bot)
    ticket_id = await start_chat(with_bot, "how long does a withdrawal take to arrive?")
    reply = await bot_says(with_bot, ticket_id)
    assert reply.body.startswith("Happy to help! ")
    assert "/help/en/withdrawals/how-long-does-a-withdrawal-take" in reply.body
    # The question under the answer is the reviewed one, not sent to the model.
    assert reply.body.endswith("Did this answer your question?")
    [request] = server.requests
    assert "Did this answer" not in request["messages"][-1]["content"]
    assert "how long does a withdrawal take to arrive" not in str(request)


async def test_a_back_office_answer_whose_figures_the_model_changed_is_sent_as_built(
    with_bot: Runtime,
    backend: HttpCasinoBackend,
    model_server: tuple[FakeModelServer, str],
    rephraser: OpenAiCompatibleRephraser,
) -> None:
    server, _ = model_server
    server.reword = lambda text: "Your balance is about a thousand pounds."
    with_bot.casino = backend
    with_bot.rephraser = rephraser
    ticket_id = await start_chat(
        with_bot, "what is my current balance?", external_id=BALANCE_PLAYER
    )
    reply = await bot_says(with_bot, ticket_id)
    assert reply.body.startswith("Your balance is £")
    assert "about a thousand" not in reply.body
    assert len(server.requests) == 1


async def test_the_runtime_asks_a_model_only_when_one_is_configured(settings: Settings) -> None:
    assert settings.bot_rephrase_url is None
    assert answer_rephraser(settings) is None
    configured = settings.model_copy(
        update={"bot_rephrase_url": "http://127.0.0.1:9/v1", "bot_rephrase_model": "support-7b"}
    )
    client = answer_rephraser(configured)
    assert client is not None
    assert client.config.model == "support-7b"
    assert client.config.timeout_seconds == 3.0
    await client.close()
