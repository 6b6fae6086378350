"""The bot's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from playerdesk.bot.nlu import NluModel, model_path, save_model
from playerdesk.bot.pipeline import Bot
from playerdesk.domain.enums import Channel
from playerdesk.domain.permissions import Actor
from playerdesk.runtime import Runtime
from playerdesk.services import bot_admin

# nlu_model, identifier and bot (session-wide) are in tests/conftest.py: the browser tests
# talk to the bot too.


@pytest.fixture(scope="session")
def saved_model_dir(nlu_model: NluModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the session's model, current for the shipped data."""
    data_dir = tmp_path_factory.mktemp("bot-data")
    save_model(nlu_model, model_path(data_dir))
    return data_dir


@pytest.fixture
async def with_bot(runtime: Runtime, bot: Bot) -> Runtime:
    """The runtime with the session's bot and the bot switched on for web chat."""
    runtime.bot = bot
    async with runtime.uow() as uow:
        await bot_admin.set_bot_channel(
            uow, actor=Actor.system(), channel=Channel.WEB_CHAT, enabled=True
        )
    return runtime
