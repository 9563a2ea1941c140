from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from bot.app.server import ServerThread
from bot.core.services import Services
from tests.conftest import API_TOKEN, TOKEN


@pytest.fixture
def server(services: Services) -> Iterator[ServerThread]:
    with ServerThread(services) as running:
        yield running


@pytest.fixture
def client(server: ServerThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {TOKEN}"}) as http:
        yield http


@pytest.fixture
def api(server: ServerThread) -> Iterator[httpx.Client]:
    """The JSON API's client: the webhook token may not read it."""
    with httpx.Client(base_url=server.url, timeout=30,
                      headers={"Authorization": f"Bearer {API_TOKEN}"}) as http:
        yield http
