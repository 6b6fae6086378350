"""The bot's fixtures: the model is trained once per test session, on the shipped data."""

from __future__ import annotations

from pathlib import Path

import pytest

from playerdesk.bot.language import LanguageIdentifier
from playerdesk.bot.nlu import NluModel, model_path, save_model, train_shipped
from playerdesk.bot.pipeline import Bot

ALL_LANGUAGES = ("en", "pl", "sv", "de", "es")


@pytest.fixture(scope="session")
def nlu_model() -> NluModel:
    return train_shipped(seed=7)


@pytest.fixture(scope="session")
def identifier() -> LanguageIdentifier:
    return LanguageIdentifier(ALL_LANGUAGES)


@pytest.fixture(scope="session")
def bot(nlu_model: NluModel, identifier: LanguageIdentifier) -> Bot:
    return Bot(nlu_model, languages=ALL_LANGUAGES, identifier=identifier)


@pytest.fixture(scope="session")
def saved_model_dir(nlu_model: NluModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the session's model, current for the shipped data."""
    data_dir = tmp_path_factory.mktemp("bot-data")
    save_model(nlu_model, model_path(data_dir))
    return data_dir
