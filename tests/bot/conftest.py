"""The bot's fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from playerdesk.bot.nlu import NluModel, model_path, save_model

# nlu_model, identifier and bot (session-wide) are in tests/conftest.py: the browser tests
# talk to the bot too.


@pytest.fixture(scope="session")
def saved_model_dir(nlu_model: NluModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the session's model, current for the shipped data."""
    data_dir = tmp_path_factory.mktemp("bot-data")
    save_model(nlu_model, model_path(data_dir))
    return data_dir
