"""Fixtures for tests of both WhatsApp and Viber: local stand-ins for their APIs and
settings that point the desk at them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from playerdesk.settings import Settings
from tests.viber_api import TOKEN as VIBER_TOKEN
from tests.viber_api import FakeViber, fake_viber
from tests.whatsapp_api import FakeGraphApi, fake_graph_api, whatsapp_settings


@pytest.fixture
async def graph_api() -> AsyncIterator[FakeGraphApi]:
    async with fake_graph_api() as fake:
        yield fake


@pytest.fixture
async def viber_api() -> AsyncIterator[FakeViber]:
    async with fake_viber() as fake:
        yield fake


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, graph_api: FakeGraphApi, viber_api: FakeViber
) -> Settings:
    both = whatsapp_settings(
        database_url=database_url, tmp_path=tmp_path, api_base=graph_api.base_url
    )
    return both.model_copy(
        update={
            "viber_auth_token": VIBER_TOKEN,
            "viber_api_base": viber_api.base_url,
            "viber_sender_name": "Casino Support",
        }
    )
