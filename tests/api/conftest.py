from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.server import ServerThread
from bot.services import Services
from tests.conftest import TOKEN


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(services) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        yield http
